"""``kws export WAKE --then COMMAND``: one C build in which a wake-word model gates a command model.

Both models share one front end (their front-end configs must be equal), so the device computes
each feature frame once and hands it to both. The wake model is the ordinary export (``kws_*``);
the command model's API, model and detector are the same sources with every name moved to
``kws_cmd_*`` / ``KWS_CMD_*`` (so two models with their own labels, thresholds and sizes link into
one image), built without a front end of its own. ``kws_two_stage.c`` applies the rules of
:mod:`kws.two_stage`, and the export proves it: every run of both models and every event of a
bundled stream, C against Python, bit for bit, on the host, under ASan + UBSan and on the Cortex-M4.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Callable

import numpy as np

import kws
from kws import __version__
from kws.audio import read_audio
from kws.detector import Detector, DetectorConfig, model_detector_config
from kws.firmware_export import measure, toolchain
from kws.firmware_export.cgen import define_block, stamp
from kws.firmware_export.errors import ExportError
from kws.firmware_export.export import TARGETS, float_free_check, write_files
from kws.firmware_export.sources import STATIC_DIR, export_files, model_sha256
from kws.fileio import atomic_dir
from kws.model import KwsModel
from kws.streaming import Stream
from kws.two_stage import DEFAULT_GATED_PROBABILITY, DEFAULT_LISTEN_S, WakeThenCommand, gated_detector_config

#: The files of a single-model export that make up the command stage, and their two-stage names.
COMMAND_STAGE_FILES = {"kws.h": "kws_cmd.h", "kws.c": "kws_cmd.c", "kws_config.h": "kws_cmd_config.h",
                       "kws_model.h": "kws_cmd_model.h", "kws_model.c": "kws_cmd_model.c",
                       "kws_detector.h": "kws_cmd_detector.h", "kws_detector.c": "kws_cmd_detector.c"}
#: Files both stages use as they are (the front end runs once; kernels and helpers are model-free).
SHARED_FILES = ("kws_frontend.h", "kws_frontend.c", "kws_kernels.h", "kws_kernels.c", "kws_fixedpoint.h",
                "kws_status.h")
TWO_STAGE_DIR = STATIC_DIR / "two_stage"
TWO_STAGE_SOURCES = ("kws_two_stage.h", "kws_two_stage.c", "main_two_stage.c")
#: The bundled stream the two-stage build is checked on: real speech, "computer" and commands.
CHECK_RECORDING = Path(kws.__file__).resolve().parent / "data" / "demo_computer_commands.wav"
TWO_STAGE_OBJECTS = ("kws_cmd.c", "kws_cmd_model.c", "kws_cmd_detector.c", "kws_two_stage.c")

_IDENTIFIER = re.compile(r"\b(?:kws|KWS)_\w+")
_INCLUDE = re.compile(r'^(\s*#\s*include\s+")([^"]+)(".*)$')
_DEFINE = re.compile(r"^\s*#\s*define\s+(\w+)", re.MULTILINE)
_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.DOTALL)


def shared_identifiers(files: dict[str, str]) -> set[str]:
    """Names the code of the shared files uses (comments aside) that are not settings of one model
    (those live in kws_config.h)."""
    model_settings = set(_DEFINE.findall(files["kws_config.h"]))
    used = set()
    for name in SHARED_FILES:
        code = _COMMENT.sub(" ", files[name])
        body = "\n".join(line for line in code.splitlines() if not _INCLUDE.match(line))
        used |= set(_IDENTIFIER.findall(body))
    return used - model_settings


def rename_to_command_stage(text: str, shared: set[str]) -> str:
    """``kws_x`` -> ``kws_cmd_x`` and ``KWS_X`` -> ``KWS_CMD_X`` for every name not in ``shared``;
    includes of command-stage files follow their new names."""

    def rename(match: re.Match) -> str:
        name = match.group(0)
        if name in shared:
            return name
        return ("kws_cmd_" if name.startswith("kws_") else "KWS_CMD_") + name[4:]

    lines = []
    for line in text.splitlines(keepends=True):
        include = _INCLUDE.match(line)
        if include:
            target = COMMAND_STAGE_FILES.get(include.group(2), include.group(2))
            lines.append(f"{include.group(1)}{target}{include.group(3)}" + ("\n" if line.endswith("\n") else ""))
        else:
            lines.append(_IDENTIFIER.sub(rename, line))
    return "".join(lines)


def command_stage_files(files: dict[str, str | bytes]) -> dict[str, str]:
    """The command model's export files renamed into the command stage (no front end of its own)."""
    shared = shared_identifiers(files)
    config = files["kws_config.h"].replace(
        "#endif /* KWS_CONFIG_H */",
        "/* the command stage takes feature frames from the wake stage's front end */\n"
        "#define KWS_CONTEXT_WITHOUT_FRONTEND 1\n\n#endif /* KWS_CONFIG_H */")
    if config == files["kws_config.h"]:
        raise ExportError("kws_config.h has no closing include guard: cannot build the command stage")
    sources = {**{name: files[name] for name in COMMAND_STAGE_FILES}, "kws_config.h": config}
    return {COMMAND_STAGE_FILES[name]: rename_to_command_stage(body, shared) for name, body in sources.items()}


@dataclasses.dataclass(frozen=True)
class TwoStageSetup:
    """The two models, their detector settings and the window, as the export and Python use them."""

    wake: KwsModel
    command: KwsModel
    wake_detector: DetectorConfig
    command_detector: DetectorConfig  # the command model's settings with the gated thresholds
    listen_s: float

    @property
    def listen_samples(self) -> int:
        return round(self.listen_s * self.wake.frontend.sample_rate_hz)


def two_stage_setup(wake_source, command_source, *, listen_s: float = DEFAULT_LISTEN_S,
                    then_probability: float = DEFAULT_GATED_PROBABILITY) -> TwoStageSetup:
    """Load both models; refuse pairs that cannot share one front end."""
    if listen_s <= 0:
        raise ExportError(f"--listen-s {listen_s}: must be > 0")
    if not 0.0 < then_probability < 1.0:
        raise ExportError(f"--then-threshold {then_probability}: must be a probability in (0, 1)")
    wake, command = KwsModel.load(wake_source), KwsModel.load(command_source)
    if wake.frontend != command.frontend:
        raise ExportError(f"{wake.source} (front end {wake.frontend.config_hash()}) and {command.source} (front end "
                          f"{command.frontend.config_hash()}) need different front ends: a two-stage export shares "
                          f"one, so train both with the same front-end config")
    wake_detector = model_detector_config(wake_source)
    command_detector = gated_detector_config(model_detector_config(command_source), command, then_probability)
    return TwoStageSetup(wake, command, wake_detector, command_detector, float(listen_s))


def _frame_of(time_s: float, model: KwsModel) -> int:
    """The frame whose window ends at ``time_s`` (Detection.time_s = (frame * hop + window) / rate)."""
    c = model.frontend
    return round((time_s * c.sample_rate_hz - c.window_samples) / c.hop_samples)


def expected_two_stage_lines(setup: TwoStageSetup, pcm: np.ndarray) -> list[str]:
    """What ``kws_two_stage_main`` prints for ``pcm`` fed hop by hop (see main_two_stage.c)."""
    per_frame: dict[int, list[str]] = {}
    # the streams keep every run's scores, so the A / B lines come from the same runs as the events
    wake_stream = Stream(setup.wake, setup.wake_detector, record_scores=True)
    command_stream = Stream(setup.command, setup.command_detector, record_scores=True)
    gate = WakeThenCommand(wake_stream, command_stream, listen_s=setup.listen_s)
    for event in gate.process(pcm):
        wake_frame = _frame_of(event.wake.time_s, setup.wake)
        if event.command is None:
            line = f"W {wake_frame} {setup.wake.labels.index(event.wake.label)} {event.wake.score}"
            per_frame.setdefault(wake_frame, []).append(line)
        else:
            frame = _frame_of(event.command.time_s, setup.command)
            per_frame.setdefault(frame, []).append(
                f"E {wake_frame} {frame} {setup.command.labels.index(event.command.label)} {event.command.score}")
    for tag, stream in (("A", wake_stream), ("B", command_stream)):
        for frame, scores in zip(stream.frames.tolist(), stream.scores):
            per_frame.setdefault(frame, []).append(
                f"{tag} {frame} {int(np.argmax(scores))} " + " ".join(str(int(v)) for v in scores))
    # per hop the harness prints the events of kws_two_stage_process, then the wake run, then the command run
    order = {"W": 0, "E": 1, "A": 2, "B": 3}
    return [line for frame in sorted(per_frame) for line in sorted(per_frame[frame], key=lambda l: order[l[0]])]


def two_stage_config_header(setup: TwoStageSetup) -> str:
    values = {"KWS_TWO_STAGE_LISTEN_SAMPLES": setup.listen_samples,
              "KWS_TWO_STAGE_LISTEN_MS": round(setup.listen_s * 1000),
              "KWS_TWO_STAGE_WAKE_SHA256": f'"{model_sha256(setup.wake)}"',
              "KWS_TWO_STAGE_COMMAND_SHA256": f'"{model_sha256(setup.command)}"'}
    return "\n".join(["#ifndef KWS_TWO_STAGE_CONFIG_H", "#define KWS_TWO_STAGE_CONFIG_H", "",
                      define_block("the command window a wake detection opens, in samples", values),
                      "#endif /* KWS_TWO_STAGE_CONFIG_H */", ""])


def two_stage_readme(setup: TwoStageSetup) -> str:
    wake, command = setup.wake, setup.command
    commands = [label for label in command.labels if not label.startswith("_")]
    return f"""

## Two stages: `{Path(wake.source).name}` gates `{Path(command.source).name}`

`kws export ... --then ...` added a second model: a wake detection opens a {setup.listen_s:g} s window
in which the first command detection is taken ("{wake.labels[-1]}, {commands[0] if commands else '...'}"); commands outside a
window are dropped. One front end feeds both models.

```c
#include "kws_two_stage.h"
static void on_event(const kws_two_stage_event *e, void *user) {{
    if (e->has_command) {{ /* kws_label_name(e->wake.label), kws_cmd_label_name(e->command.label) */ }}
    else {{ /* the wake word alone: a window is open (kws_two_stage_listening) */ }}
}}
static kws_two_stage ts;
kws_two_stage_init(&ts);
kws_two_stage_set_callback(&ts, on_event, NULL);
kws_two_stage_process(&ts, block, n);   /* every block of 16 kHz int16 PCM, any length */
```

Compile `kws.c kws_frontend.c kws_model.c kws_kernels.c kws_detector.c kws_cmd.c kws_cmd_model.c
kws_cmd_detector.c kws_two_stage.c`. The command stage (`kws_cmd*`) takes a command on a smoothed
probability of at least its gated threshold (`KWS_CMD_DETECTOR_THRESHOLDS`).
`make check-two-stage` runs the bundled stream (`check/two_stage_input.pcm`) against Python.
"""


def measure_two_stage_m4(folder: Path, setup: TwoStageSetup) -> dict:
    with_kws = measure.image_size(folder / "build" / "kws_two_stage_size_m4.elf")
    empty = measure.image_size(folder / "build" / "kws_two_stage_empty_m4.elf")
    out = toolchain.run(toolchain.qemu_command(folder / "build" / "kws_two_stage_m4.elf",
                                               ["--count", "check/two_stage_input.pcm"]),
                        cwd=folder, what="QEMU Cortex-M4 two-stage count run")
    counts = measure.parse_counts(out, "stream")
    seconds = counts.units / setup.wake.frontend.sample_rate_hz
    ram_static = with_kws.ram_bytes - empty.ram_bytes
    return {"flash_bytes": with_kws.flash_bytes - empty.flash_bytes, "ram_static_bytes": ram_static,
            "stack_bytes": counts.stack_bytes, "ram_bytes": ram_static + counts.stack_bytes,
            "instructions_per_second_of_audio": round(counts.instructions / seconds) if seconds else 0,
            "stream_seconds": round(seconds, 2)}


def export_two_stage(wake_source, command_source, out_dir, *, target: str = "host", force: bool = False,
                     listen_s: float = DEFAULT_LISTEN_S, then_probability: float = DEFAULT_GATED_PROBABILITY,
                     progress: Callable[[str], None] = lambda message: None) -> dict:
    """Write, build and check the two-stage export; returns (and writes) ``two_stage_report.json``."""
    if target not in TARGETS:
        raise ExportError(f"target {target!r}: choose from {', '.join(TARGETS)}")
    out = Path(out_dir).absolute()
    if out.exists() and not force:
        raise ExportError(f"{out} already exists (use --force to replace it)")
    m4 = target in ("cortex-m4", "all")
    toolchain.require_tools(toolchain.HOST_TOOLS, "kws export --then")
    if m4:
        toolchain.require_tools(toolchain.CORTEX_M4_TOOLS + toolchain.QEMU_TOOLS, "kws export --then --target cortex-m4")
    setup = two_stage_setup(wake_source, command_source, listen_s=listen_s, then_probability=then_probability)
    for model, detector in ((setup.wake, setup.wake_detector), (setup.command, setup.command_detector)):
        Detector(detector, model.labels, model.frontend)  # labels and thresholds checked before any work
    progress(f"generating C for {setup.wake.source} gating {setup.command.source}")
    files, _ = export_files(setup.wake, setup.wake_detector)
    command_files, _ = export_files(setup.command, setup.command_detector)
    files.update(command_stage_files(command_files))
    facts = dict(version=__version__, frontend_hash=setup.wake.frontend.config_hash(), model_sha256=None)
    for name in TWO_STAGE_SOURCES:
        files[name] = stamp((TWO_STAGE_DIR / name).read_text(encoding="utf-8"), filename=name, **facts)
    files["kws_two_stage_config.h"] = stamp(two_stage_config_header(setup), filename="kws_two_stage_config.h", **facts)
    files["Makefile"] += (TWO_STAGE_DIR / "Makefile.two_stage").read_text(encoding="utf-8")
    files["README.md"] += two_stage_readme(setup)
    pcm = read_audio(CHECK_RECORDING, setup.wake.frontend.sample_rate_hz)
    expected = expected_two_stage_lines(setup, pcm)
    files["check/two_stage_input.pcm"] = pcm.astype("<i2").tobytes()
    files["check/expected_two_stage.txt"] = "\n".join(expected) + "\n"
    report = {"wake_model": str(setup.wake.source), "command_model": str(setup.command.source),
              "wake_sha256": model_sha256(setup.wake), "command_sha256": model_sha256(setup.command),
              "listen_s": setup.listen_s, "then_probability": then_probability, "kws_version": __version__,
              "check_stream_seconds": round(len(pcm) / setup.wake.frontend.sample_rate_hz, 2),
              "check_lines": len(expected),
              "check_events": sum(line[0] in "WE" for line in expected), "verified": []}
    with atomic_dir(out, overwrite=force) as tmp:
        write_files(tmp, files)
        progress("building the two-stage harness for the host (gcc -O2, and ASan + UBSan)")
        toolchain.make("two-stage", cwd=tmp)
        builds = [("host", tmp / "build" / "kws_two_stage_main", []),
                  ("host asan+ubsan, 7-sample calls", tmp / "build" / "kws_two_stage_main_asan", ["--chunk", "7"])]
        if m4:
            progress("building the two-stage harness for the Cortex-M4 (arm-none-eabi-gcc -Os)")
            toolchain.make("two-stage-m4", cwd=tmp)
        for name, binary, options in builds + ([("cortex-m4 qemu", tmp / "build" / "kws_two_stage_m4.elf", [])] if m4 else []):
            progress(f"checking {name} against Python on the bundled stream")
            arguments = [*options, "check/two_stage_input.pcm"]
            command = (toolchain.qemu_command(binary, arguments) if binary.suffix == ".elf" else [str(binary), *arguments])
            got = toolchain.run(command, cwd=tmp, what=f"two-stage {name}").splitlines()
            compare_lines(name, got, expected)
            report["verified"].append(name)
        if m4:
            progress("checking the device code is integer-only, measuring size, stack and instructions")
            float_free_check(tmp, TWO_STAGE_OBJECTS)
            report["cortex_m4"] = measure_two_stage_m4(tmp, setup)
        (tmp / "two_stage_report.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    return report


def compare_lines(name: str, got: list[str], expected: list[str]) -> None:
    """Raise :class:`ExportError` at the first line where C and Python differ."""
    for index, (c_line, python_line) in enumerate(zip(got, expected)):
        if c_line != python_line:
            raise ExportError(f"two-stage {name}: line {index + 1} differs: C {c_line!r}, Python {python_line!r}")
    if len(got) != len(expected):
        raise ExportError(f"two-stage {name}: C printed {len(got)} lines, Python {len(expected)}")
