# make test / make demo / make bench: each creates .venv and installs what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: test demo bench soak gallery system-deps clean

# -qq: errors only (setuptools' editable-install notices are not for the user).
$(STAMP): pyproject.toml
	@echo "installing chaingrad and its dev tools into $(VENV) ..."
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install -qq --upgrade pip
	@$(BIN)/pip install -qq -e '.[dev]'
	@touch $(STAMP)

# The `dot` program renders diagrams; Chromium and its driver run the page tests.
# Installed when we may (root with apt-get); otherwise the tests that need them say
# how to install them and skip.
system-deps:
	@command -v dot >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null; \
	  else echo "note: graphviz's 'dot' is missing (sudo apt-get install graphviz): rendering tests will skip"; fi; }
	@{ command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; } || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "note: chromium is missing (sudo apt-get install chromium chromium-driver): page tests will skip"; fi; }

test: $(STAMP) system-deps
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

demo: $(STAMP)
	$(BIN)/python examples/tour.py
	$(BIN)/python examples/moons.py --png out/moons.png

bench: $(STAMP)
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/peers.py
	$(BIN)/python bench/plots.py
	$(BIN)/python bench/depth.py
	$(BIN)/python bench/fit.py

# The random-graph tests with 10,000 graphs each (fixed seed), against finite
# differences, PyTorch and eager mode: about a quarter of an hour. make test draws few.
SOAK ?= 10000
soak: $(STAMP)
	$(BIN)/pip install --quiet torch==2.13.0
	CHAINGRAD_SOAK=$(SOAK) $(BIN)/python -m pytest -q -p no:cacheprovider \
	  tests/test_random_graphs.py tests/test_compile.py -k random

# Re-render every picture of docs/ (and docs/gallery.md, written from its code).
gallery: $(STAMP) system-deps
	$(BIN)/python docs/gallery/make_gallery.py
	$(BIN)/python docs/gallery/make_network_gallery.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
