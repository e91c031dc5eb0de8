# Two commands set everything up on a fresh machine:
#   make run    the main job (installs into .venv, then trains the quick MNIST demo)
#   make test   the test suite (installs into .venv with the test extras, then runs pytest)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

run: $(VENV)/.installed
	$(VENV)/bin/glassnet train mnist-cnn-quick --out runs/mnist-cnn-quick

test: $(VENV)/.installed
	$(PY) -m pytest tests

bench: $(VENV)/.installed
	cd benchmarks && for f in bench_*.py; do ../$(PY) $$f; done

clean:
	rm -rf $(VENV) build *.egg-info
