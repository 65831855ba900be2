"""save / load: an exact round trip, an atomic write, and a clear ValueError for
every way a file can be wrong."""

from __future__ import annotations

import json
import os
import random
import struct

import pytest

import nn.serialize
from engine import no_grad
from nn import MLP, load, save


def _bits(x: float) -> bytes:
    return struct.pack("<d", x)


def _awkward_model(seed: int = 0) -> MLP:
    """Weights whose decimal forms are long or tiny: the round trip must keep every bit."""
    model = MLP(3, [4, 4, 2], activation="tanh", output_activation="sigmoid", seed=seed,
                residual=True)
    rng = random.Random(seed)
    for p in model.parameters():
        p.data = rng.uniform(-1, 1) * 10.0 ** rng.randint(-300, 300)
    model.parameters()[0].data = 0.1 + 0.2
    model.parameters()[1].data = 5e-324                         # the smallest subnormal
    model.parameters()[2].data = -0.0
    return model


def test_round_trip_is_exact_to_the_bit(tmp_path):
    model = _awkward_model()
    path = tmp_path / "model.json"
    save(model, path)
    loaded = load(path)
    assert repr(loaded) == repr(model)
    assert [n for n, _ in loaded.named_parameters()] == [n for n, _ in model.named_parameters()]
    for a, b in zip(model.parameters(), loaded.parameters()):
        assert _bits(a.data) == _bits(b.data)
    assert [layer.residual for layer in loaded.layers] == [layer.residual for layer in model.layers]
    x = [0.3, -0.1, 0.8]
    with no_grad():
        assert [v.data for v in loaded(x)] == [v.data for v in model(x)]


def test_the_file_is_readable_json_with_version_and_architecture(tmp_path):
    model = MLP.from_weights([[[1.0, 2.0]], [[-3.0]]], [[0.5], [0.25]], activation="tanh")
    path = tmp_path / "m.json"
    save(model, str(path))
    document = json.loads(path.read_text())
    assert document["format"] == "chaingrad.mlp" and document["version"] == 1
    assert document["architecture"] == {"nin": 2, "nouts": [1, 1], "activation": "tanh",
                                        "output_activation": "linear", "residual": False}
    assert document["weights"] == [[[1.0, 2.0]], [[-3.0]]]
    assert document["biases"] == [[0.5], [0.25]]


def test_a_crash_mid_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.json"
    first = MLP(2, [3, 1], seed=1)
    save(first, path)
    before = path.read_bytes()

    def crash(fd):
        raise OSError("disk unplugged")

    monkeypatch.setattr(nn.serialize.os, "fsync", crash)      # after the bytes are written
    with pytest.raises(OSError, match="disk unplugged"):
        save(MLP(2, [3, 1], seed=2), path)
    assert path.read_bytes() == before
    assert load(path).state_dict() == first.state_dict()
    assert os.listdir(tmp_path) == ["model.json"]              # no temporary left behind


def test_saving_over_a_file_keeps_its_permissions(tmp_path):
    path = tmp_path / "model.json"
    save(MLP(1, [1], seed=0), path)
    os.chmod(path, 0o640)
    save(MLP(1, [1], seed=1), path)
    assert os.stat(path).st_mode & 0o777 == 0o640


def test_save_refuses_what_json_cannot_hold(tmp_path):
    model = MLP(1, [1], seed=0)
    model.parameters()[0].data = float("nan")
    with pytest.raises(ValueError, match="L1.N1.w1 is nan"):
        save(model, tmp_path / "m.json")
    with pytest.raises(TypeError, match="model must be an nn.MLP"):
        save(model.layers[0], tmp_path / "m.json")


# ---- files that are wrong --------------------------------------------------------------------
def _saved(tmp_path) -> tuple[dict, os.PathLike]:
    path = tmp_path / "model.json"
    save(MLP(2, [3, 1], seed=0), path)
    return json.loads(path.read_text()), path


def test_a_truncated_file(tmp_path):
    _, path = _saved(tmp_path)
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(ValueError, match="not valid JSON .truncated or corrupt"):
        load(path)


def test_a_corrupt_file(tmp_path):
    path = tmp_path / "model.json"
    path.write_bytes(b"\x00\x01 not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load(path)


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(version=2), "format version 2; this version of chaingrad reads version 1"),
    (lambda d: d.pop("version"), "format version None"),
    (lambda d: d.update(format="keras"), "not a chaingrad model file"),
    (lambda d: d.pop("weights"), "no 'weights' field"),
    (lambda d: d["architecture"].update(nouts=[4, 1]),
     "layer 1 should have 4 neurons, but its weights have 3 rows"),
    (lambda d: d["architecture"].update(nin=3), "neuron 1 of layer 1 should have 3 weights, got 2"),
    (lambda d: d["biases"][1].append(0.0), "layer 2 should have 1 bias, got 2"),
    (lambda d: d["weights"].pop(), "the architecture has 2 layers but the file holds 1 weight"),
    (lambda d: d["architecture"].update(activation="gelu"), "unknown activation 'gelu'"),
    (lambda d: d["architecture"].update(residual="yes"), "'residual' must be a bool"),
    (lambda d: d["weights"][0][0].__setitem__(0, "1.0"), r"weights\[0\]\[0\]\[0\] must be a "
                                                          "finite number"),
    (lambda d: d["architecture"].update(nin=True), "'nin' must be an int, got bool"),
    (lambda d: d.update(architecture=[]), "'architecture' must be a dict, got list"),
])
def test_a_wrong_file_says_what_is_wrong(tmp_path, change, message):
    document, path = _saved(tmp_path)
    change(document)
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match=message) as info:
        load(path)
    assert str(path) in str(info.value)


def test_a_non_finite_weight_in_the_file(tmp_path):
    document, path = _saved(tmp_path)
    document["biases"][1][0] = float("nan")
    path.write_text(json.dumps(document))                     # Python writes it as NaN
    assert "NaN" in path.read_text()
    with pytest.raises(ValueError, match=r"biases\[1\]\[0\] must be a finite number"):
        load(path)


def test_a_missing_file_is_a_file_not_found_error(tmp_path):
    path = tmp_path / "nope.json"
    with pytest.raises(FileNotFoundError) as info:
        load(path)
    assert info.value.filename == str(path)


def test_a_directory_is_the_os_error_open_raises(tmp_path):
    with pytest.raises(OSError) as info:          # IsADirectoryError, or PermissionError
        load(tmp_path)
    assert not isinstance(info.value, ValueError)


@pytest.mark.parametrize("encode", [
    lambda text: text.encode("utf-16"),                       # saved by another editor
    lambda text: text.replace('"relu"', '"rélu"').encode("latin-1"),   # é as one byte
])
def test_a_file_that_is_not_utf8_is_a_value_error_saying_so(tmp_path, encode):
    _, path = _saved(tmp_path)
    raw = encode(path.read_text())
    with pytest.raises(UnicodeDecodeError):                  # the premise: not UTF-8
        raw.decode("utf-8")
    path.write_bytes(raw)
    with pytest.raises(ValueError, match=r"is not UTF-8 text.*byte 0x[0-9a-f]{2} at offset "
                                         r"\d+") as info:
        load(path)
    assert str(path) in str(info.value)
    assert not isinstance(info.value, UnicodeDecodeError)


def test_a_utf8_file_with_a_byte_order_mark_loads(tmp_path):
    _, path = _saved(tmp_path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load(path).state_dict() == MLP(2, [3, 1], seed=0).state_dict()


def test_save_into_a_missing_folder_names_the_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError) as info:
        save(MLP(2, [1], seed=0), "no/such/dir/m.json")
    assert str(info.value) == ("save: cannot write no/such/dir/m.json: the folder no/such/dir "
                               "does not exist (create it first, e.g. "
                               "os.makedirs('no/such/dir'))")
    assert ".tmp" not in str(info.value) and list(tmp_path.iterdir()) == []


def test_save_onto_a_folder_says_it_is_a_folder(tmp_path):
    with pytest.raises(IsADirectoryError, match=r"save: .* is a folder; give a file path, "
                                                r"e\.g\. .*model\.json"):
        save(MLP(2, [1], seed=0), tmp_path)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(NotADirectoryError, match=r"notes\.txt is a file, not a folder"):
        save(MLP(2, [1], seed=0), tmp_path / "notes.txt" / "m.json")
