# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
VENV := .venv
KWS := $(VENV)/bin/kws
STAMP := $(VENV)/.installed
OUT := out

.PHONY: demo test golden bench clean

$(STAMP): pyproject.toml scripts/setup.sh
	./scripts/setup.sh

## demo: install what is missing, then run the main job on the bundled example clip
demo: $(STAMP)
	$(KWS) features --png $(OUT)/demo_features.png

## test: install what is missing, then run the whole test suite
test: $(STAMP)
	$(VENV)/bin/python -m pytest -q

## golden: regenerate the front-end golden vectors under tests/golden/frontend
golden: $(STAMP)
	$(VENV)/bin/python -m kws.frontend.golden

## bench: print the front-end fidelity and speed figures
bench: $(STAMP)
	$(KWS) bench frontend

clean:
	rm -rf $(OUT) .pytest_cache
