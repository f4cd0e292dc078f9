# The two commands a newcomer runs: `make demo` and `make test`. Both create .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo web test bench sample clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/python -c "from classifiers.deidentify import main; main()"  # builds deduce's name lists once, not in every test process
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/bvhk-triage demo --out demo-out

web: $(STAMP)
	$(BIN)/bvhk-triage demo --out demo-out --serve

test: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m bench

sample: $(STAMP)
	$(BIN)/python -m tools.sample.generate

clean:
	rm -rf $(VENV) demo-out .pytest_cache .hypothesis
