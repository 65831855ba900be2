"""``save`` and ``load``: an MLP as a small JSON file a person can read.

The file holds a format name and version, the architecture and every weight and
bias in ``MLP.from_weights``' layout. Floats are written with Python's shortest
round-tripping repr, so a loaded model is equal to the saved one to the bit. The
write is atomic: the JSON goes to a temporary file in the same directory, is
flushed to disk, and then replaces the target in one step, so a crash mid-save
leaves the previous file intact.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from typing import Any, Union

from .checks import count
from .module import ACTIVATIONS, MLP

__all__ = ["save", "load", "FORMAT", "VERSION"]

PathLike = Union[str, "os.PathLike[str]"]

#: What the ``format`` field of a saved model says.
FORMAT = "chaingrad.mlp"
#: The file layout version this code writes and reads.
VERSION = 1


def save(model: MLP, path: PathLike) -> None:
    """Write ``model`` (an MLP) to ``path`` as JSON, atomically."""
    who = "save"
    if not isinstance(model, MLP):
        raise TypeError(f"{who}: model must be an nn.MLP, got {type(model).__name__}")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{who}: path must be a str or a path, got {type(path).__name__}")
    for name, p in model.named_parameters():
        if not math.isfinite(p.data):
            raise ValueError(f"{who}: parameter {name} is {p.data}; JSON cannot hold it "
                             f"(did training diverge?)")
    document = {
        "format": FORMAT,
        "version": VERSION,
        "architecture": {
            "nin": model.nin,
            "nouts": list(model.nouts),
            "activation": model.activation,
            "output_activation": model.output_activation,
            "residual": model.residual,
        },
        "weights": model.weights(),
        "biases": model.biases(),
    }
    text = json.dumps(document, indent=1, allow_nan=False) + "\n"
    _write_atomically(os.fspath(path), text, who)


def _write_atomically(path: str, text: str, who: str = "save") -> None:
    """Write to a temporary sibling, fsync, then ``os.replace`` onto ``path``.

    A path that cannot be a file (a folder, or in a folder that does not exist) is
    refused first, in words about the path given, not about the temporary file."""
    folder = os.path.dirname(path) or "."
    if os.path.isdir(path):
        raise IsADirectoryError(f"{who}: {path} is a folder; give a file path, e.g. "
                                f"{os.path.join(path, 'model.json')}")
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise NotADirectoryError(f"{who}: cannot write {path}: {folder} is a file, "
                                 f"not a folder")
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{who}: cannot write {path}: the folder {folder} does not "
                                f"exist (create it first, e.g. os.makedirs({folder!r}))")
    directory = os.path.dirname(os.path.abspath(path))
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.",
                                             suffix=".tmp", dir=directory)
    except OSError as error:
        raise type(error)(error.errno, f"{who}: cannot write {path}: {error.strerror} "
                                       f"(in the folder {folder})") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        # mkstemp makes the file private (0600); keep the old file's mode, or 0644
        mode = os.stat(path).st_mode & 0o777 if os.path.exists(path) else 0o644
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise


def load(path: PathLike) -> MLP:
    """The MLP saved at ``path``. A file that is truncated, corrupt (not UTF-8
    text, not JSON), of another format or version, or whose weights do not fit its
    architecture is a ValueError saying what is wrong. A file that cannot be read
    at all raises the OSError ``open`` raises: FileNotFoundError for a missing
    file, IsADirectoryError, PermissionError."""
    who = "load"
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{who}: path must be a str or a path, got {type(path).__name__}")
    where = os.fspath(path)
    with open(where, "rb") as file:
        raw = file.read()
    try:
        text = raw.decode("utf-8-sig")             # a BOM an editor added is fine
    except UnicodeDecodeError as error:
        raise ValueError(f"{who}: {where} is not UTF-8 text, so not a chaingrad model "
                         f"file (corrupt, or another kind of file?): byte "
                         f"{raw[error.start]:#04x} at offset {error.start} "
                         f"({error.reason})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{who}: {where} is not valid JSON (truncated or corrupt?): "
                         f"{error}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"{who}: {where} is not a chaingrad model file (its 'format' "
                         f"is not {FORMAT!r})")
    version = document.get("version")
    if version != VERSION:
        raise ValueError(f"{who}: {where} has format version {version!r}; this version of "
                         f"chaingrad reads version {VERSION}")
    arch = _field(document, "architecture", dict, where)
    nin = _field(arch, "nin", int, where)
    nouts = _field(arch, "nouts", list, where)
    activation = _field(arch, "activation", str, where)
    output_activation = _field(arch, "output_activation", str, where)
    residual = _field(arch, "residual", bool, where)
    for name, value in (("activation", activation), ("output_activation", output_activation)):
        if value not in ACTIVATIONS:
            raise ValueError(f"{who}: {where}: unknown {name} {value!r}")
    weights = _field(document, "weights", list, where)
    biases = _field(document, "biases", list, where)
    _check_architecture(nin, nouts, weights, biases, where)
    try:
        return MLP.from_weights(weights, biases, activation, output_activation,
                                residual=residual)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{who}: {where}: {error}") from None


def _field(mapping: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in mapping:
        raise ValueError(f"load: {where} has no {key!r} field")
    value = mapping[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        article = "an" if kind.__name__[0] in "aeiou" else "a"
        raise ValueError(f"load: {where}: {key!r} must be {article} {kind.__name__}, "
                         f"got {type(value).__name__}")
    return value


def _check_architecture(nin: int, nouts: list[Any], weights: list[Any],
                        biases: list[Any], where: str) -> None:
    """The weight shapes against the stated architecture, layer by layer."""
    sizes = [nin, *nouts]
    if len(weights) != len(nouts) or len(biases) != len(nouts):
        matrices = count(len(weights), "weight matrix", "weight matrices")
        raise ValueError(f"load: {where}: the architecture has {count(len(nouts), 'layer')} "
                         f"but the file holds {matrices} and {count(len(biases), 'bias vector')}")
    for li, (matrix, bias) in enumerate(zip(weights, biases), 1):
        rows = len(matrix) if isinstance(matrix, list) else None
        if rows != sizes[li]:
            raise ValueError(f"load: {where}: layer {li} should have "
                             f"{count(sizes[li], 'neuron')}, but its weights have "
                             f"{'no list of rows' if rows is None else count(rows, 'row')}")
        for j, row in enumerate(matrix, 1):
            if not isinstance(row, list) or len(row) != sizes[li - 1]:
                got = len(row) if isinstance(row, list) else type(row).__name__
                raise ValueError(f"load: {where}: neuron {j} of layer {li} should have "
                                 f"{count(sizes[li - 1], 'weight')}, got {got}")
        if not isinstance(bias, list) or len(bias) != sizes[li]:
            got = len(bias) if isinstance(bias, list) else type(bias).__name__
            raise ValueError(f"load: {where}: layer {li} should have "
                             f"{count(sizes[li], 'bias', 'biases')}, got {got}")
