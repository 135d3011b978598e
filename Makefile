# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
VENV := .venv
KWS := $(VENV)/bin/kws
STAMP := $(VENV)/.installed
OUT := out

.PHONY: demo test golden bench ship clean

$(STAMP): pyproject.toml scripts/setup.sh
	./scripts/setup.sh

## demo: install what is missing, then classify the bundled clips (one per class) with the shipped
## int8 `commands` model, draw the device features of the example "yes", and stream the bundled
## recording of commands said between sentences over noise through `kws listen` (no microphone needed),
## then the bundled "computer, on" / "computer, stop" recording through the default two-stage listener
## (shipped wake word `computer` gating `commands`), and export the model as C, built for the host and a
## QEMU Cortex-M4 with measured figures, and the two-stage pair as one C build checked against Python
demo: $(STAMP)
	$(KWS) eval commands --data kws/data/demo --plot $(OUT)/demo_confusion.png
	$(KWS) features --png $(OUT)/demo_features.png
	$(KWS) listen commands --wav kws/data/demo_commands_in_speech.wav --fast --no-ui
	$(KWS) listen --wav kws/data/demo_computer_commands.wav --fast --no-ui
	$(KWS) export commands --out $(OUT)/commands_c --target all --force
	$(KWS) export computer --then commands --out $(OUT)/two_stage_c --target all --force

## test: install what is missing, then run the whole test suite
test: $(STAMP)
	$(VENV)/bin/python -m pytest -q

## golden: regenerate the front-end golden vectors under tests/golden/frontend
golden: $(STAMP)
	$(VENV)/bin/python -m kws.frontend.golden

## bench: print the front-end fidelity and speed figures
bench: $(STAMP)
	$(KWS) bench frontend

## ship: copy the finished run runs/commands into kws/models/commands (after `kws train`), keeping the
## shipped detector settings; then run scripts/calibrate_commands.sh for its thresholds
ship: $(STAMP)
	test -f runs/commands/detector.json || cp kws/models/commands/detector.json runs/commands/
	$(VENV)/bin/python -m kws.training.ship runs/commands commands

clean:
	rm -rf $(OUT) .pytest_cache
