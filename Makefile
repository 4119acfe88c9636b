# Set-up from a fresh clone: `make demo` or `make test` create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The torch/torchvision pair that installs on our machines; pyproject keeps broad ranges.
TORCH_PIN := torch==2.14.1 torchvision==0.29.1

.PHONY: venv demo test bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH_PIN)
	$(PY) -m pip install -q -e ".[test]"
	touch $@

venv: $(VENV)/.installed

demo: venv
	$(PY) -m autopreset.demo

test: venv
	$(PY) -m pytest -q tests

clean:
	rm -rf demo runs .pytest_cache
