"""``kws export``: write the C sources of a model into a folder, build them, verify them, measure them.

The folder is written into a temporary sibling and renamed into place only when everything
asked for (builds, verification, measurements) succeeded: a failed export leaves nothing.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path
from typing import Callable

from kws import __version__
from kws.fileio import atomic_dir
from kws.firmware_export import measure, toolchain, verify
from kws.firmware_export.errors import ExportError
from kws.firmware_export.sources import export_files, model_sha256
from kws.detector import Detector, model_detector_config
from kws.model import KwsModel
from kws.streaming import inference_period_frames

TARGETS = ("host", "cortex-m4", "all")

#: What the generated device code may not reference (soft-float/double helpers) or contain (VFP).
FLOAT_HELPER = re.compile(r"__aeabi_[fd]\w*|__aeabi_[lu]*[fd]2\w*")
VFP_INSTRUCTION = re.compile(r"^\s*[0-9a-f]+:\s+(?:[0-9a-f]{4} ?){1,2}\s+v[a-z0-9.]+\s", re.MULTILINE)
#: Real clips the Cortex-M4 figures are measured on when not verifying (the stream uses 120 s of them).
MEASURE_CLIPS = 200
KWS_OBJECTS = ("kws.c", "kws_frontend.c", "kws_model.c", "kws_kernels.c", "kws_detector.c")


@dataclasses.dataclass
class ExportReport:
    """What an export wrote and measured (``report.json``)."""

    model: str
    model_sha256: str
    frontend_hash: str
    kws_version: str
    labels: list[str]
    inference_period_ms: int
    detector_hash: str
    macs_per_inference: int
    arena_bytes: int
    weight_bytes: int
    cortex_m4: dict | None = None
    verification: list[dict] = dataclasses.field(default_factory=list)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


def write_files(folder: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def float_free_check(folder: Path, sources: tuple[str, ...] = KWS_OBJECTS) -> dict:
    """Disassemble the kws objects of the M4 build: no float/double helper, no VFP instruction."""
    objects = folder / "build" / "m4_objects"
    objects.mkdir(parents=True, exist_ok=True)
    findings = {}
    for source in sources:
        obj = objects / (Path(source).stem + ".o")
        toolchain.run(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=soft", "-std=c99", "-Wall",
                       "-Wextra", "-Werror", "-Os", "-c", source, "-o", str(obj)], cwd=folder,
                      what=f"arm-none-eabi-gcc {source}")
        disassembly = toolchain.run(["arm-none-eabi-objdump", "-d", "-r", str(obj)], cwd=folder,
                                    what="arm-none-eabi-objdump")
        helpers = sorted(set(FLOAT_HELPER.findall(disassembly)))
        vfp = VFP_INSTRUCTION.findall(disassembly)
        if helpers or vfp:
            raise ExportError(f"{source}: the Cortex-M4 code uses floating point "
                              f"({', '.join(helpers) or vfp[0].strip()}); the device path must be integer-only")
        findings[source] = {"float_helpers": helpers, "vfp_instructions": len(vfp)}
    return findings


def measure_cortex_m4(folder: Path, inputs: verify.VerifyInputs, period_frames: int, frontend) -> dict:
    """Flash, RAM, stack and instruction counts of the M4 build (see :mod:`kws.firmware_export.measure`)."""
    with_kws = measure.image_size(folder / "build" / "kws_size_m4.elf")
    empty = measure.image_size(folder / "build" / "kws_empty_m4.elf")
    work = folder / "build" / "measure"
    work.mkdir(parents=True, exist_ok=True)
    (work / "stream.pcm").write_bytes(inputs.stream.pcm.astype("<i2").tobytes())
    (work / "features.i8").write_bytes(inputs.model_features[:200].tobytes())
    frames = measure.count_on_m4(folder, "frames", "build/measure/stream.pcm", "frontend")
    model = measure.count_on_m4(folder, "model", "build/measure/features.i8", "model")
    stream = measure.count_on_m4(folder, "stream", "build/measure/stream.pcm", "stream")
    sizes = measure.ram_parts(folder)
    frames_per_second = 1000 / frontend.hop_ms
    inferences_per_second = frames_per_second / period_frames
    per_second_frontend = frames.instructions_per_unit * frames_per_second
    per_second_model = model.instructions_per_unit * inferences_per_second
    stream_seconds = stream.units / frontend.sample_rate_hz
    stack = max(frames.stack_bytes, model.stack_bytes, stream.stack_bytes)
    ram_static = with_kws.ram_bytes - empty.ram_bytes
    return {
        "flash_bytes": with_kws.flash_bytes - empty.flash_bytes,
        "ram_static_bytes": ram_static,
        "stack_bytes": stack,
        "ram_bytes": ram_static + stack,
        "image_with_kws": dataclasses.asdict(with_kws),
        "image_without_kws": dataclasses.asdict(empty),
        "instructions_per_tick": frames.instructions_per_tick,
        "instructions_per_frame": round(frames.instructions_per_unit),
        "instructions_per_inference": round(model.instructions_per_unit),
        "instructions_per_second_of_audio": round(per_second_frontend + per_second_model),
        "instructions_per_second_frontend": round(per_second_frontend),
        "instructions_per_second_model": round(per_second_model),
        "instructions_per_second_kws_process": round(stream.instructions / stream_seconds) if stream_seconds else 0,
        "instructions_per_second_by_period_ms": {
            str(ms): round(per_second_frontend + model.instructions_per_unit * 1000 / ms)
            for ms in (frontend.hop_ms * hops for hops in (5, 10, 25))},
        "ram_parts_bytes": sizes,
        "stack_bytes_frontend": frames.stack_bytes,
        "stack_bytes_model": model.stack_bytes,
        "stack_bytes_kws_process": stream.stack_bytes,
    }


#: Budgets of the shipped model (issue "Firmware export"), shown in report.md.
BUDGETS = {"flash_bytes": 32 * 1024, "ram_bytes": 12 * 1024, "instructions_per_second_of_audio": 10_000_000}


def report_markdown(report: ExportReport) -> str:
    lines = [f"# kws export report: {Path(report.model).name}", "",
             f"kws {report.kws_version}, front end `{report.frontend_hash}`, model sha256 `{report.model_sha256[:16]}…`, "
             f"inference every {report.inference_period_ms} ms.", "",
             f"Model: {report.macs_per_inference:,} MACs per inference, {report.weight_bytes:,} bytes of constants in "
             f"the .tflite, {report.arena_bytes:,}-byte activation arena.", ""]
    m4 = report.cortex_m4
    if m4:
        def row(name, key, unit="bytes"):
            budget = BUDGETS.get(key)
            verdict = "" if budget is None else (" (budget " + f"{budget:,}" + (" ✔)" if m4[key] <= budget else " ✘)"))
            return f"| {name} | {m4[key]:,} {unit}{verdict} |"
        lines += ["## Cortex-M4 (arm-none-eabi-gcc -Os, QEMU mps2-an386, -icount shift=0)", "",
                  "| figure | value |", "|---|---|",
                  row("flash (front end + model + detector + API)", "flash_bytes"),
                  row("RAM, static (context, arena, scratch)", "ram_static_bytes"),
                  "| of which: " + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in m4["ram_parts_bytes"].items())
                  + " | bytes |",
                  row("stack, measured (deepest kws call)", "stack_bytes"),
                  row("RAM, static + stack", "ram_bytes"),
                  row("instructions per front-end frame", "instructions_per_frame", "instr"),
                  row("instructions per inference", "instructions_per_inference", "instr"),
                  row("instructions per second of audio (front end)", "instructions_per_second_frontend", "instr"),
                  row("instructions per second of audio (model)", "instructions_per_second_model", "instr"),
                  row("instructions per second of audio (total)", "instructions_per_second_of_audio", "instr"),
                  row("kws_process over a real stream, per second", "instructions_per_second_kws_process", "instr"),
                  "",
                  "Cost per second of audio for other inference periods (`--inference-period-ms`): "
                  + ", ".join(f"{ms} ms: {v / 1e6:.2f} M" for ms, v in m4["instructions_per_second_by_period_ms"].items())
                  + ".", "",
                  f"One SysTick tick was {m4['instructions_per_tick']:.3f} instructions (measured with a calibrated loop). "
                  f"At 100 MHz the total is {m4['instructions_per_second_of_audio'] / 1e6:.1f} % of the core; "
                  f"an inference takes {m4['instructions_per_inference'] / 120e3:.2f} ms at 120 MHz and one "
                  f"instruction per cycle (MLPerf Tiny's DS-CNN reference: 43 ms on a 120 MHz Cortex-M4).", ""]
    if report.verification:
        lines += ["## Verification (C == Python, bit for bit)", "", "| target | check | compared | runs |", "|---|---|---|---|"]
        lines += [f"| {v['target']} | {v['check']} | {v['items']:,} | {v['runs']} |" for v in report.verification]
        lines.append("")
    return "\n".join(lines)


def export_model(model_source: str | os.PathLike, out_dir: str | os.PathLike, *, target: str = "host",
                 verify_data: bool = False, force: bool = False, data_dir: Path | None = None,
                 clip_limit: int | None = None, inference_period_ms: int | None = None,
                 progress: Callable[[str], None] = lambda message: None) -> ExportReport:
    """Export, build (``target``), optionally verify against Python, measure; then rename into place.

    Raises
    ------
    ExportError
        an op or option that cannot be emitted, a missing tool (its apt package named), a
        failed build, or any difference between C and Python (the first one named).
    ModelError
        a model that cannot be loaded or whose front end differs from the running one.
    """
    if target not in TARGETS:
        raise ExportError(f"target {target!r}: choose from {', '.join(TARGETS)}")
    out = Path(out_dir).absolute()  # the builds run inside the folder: relative paths would not hold there
    if out.exists() and not force:
        raise ExportError(f"{out} already exists (use --force to replace it)")
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} exists and is not a folder")
    host = target in ("host", "all")
    m4 = target in ("cortex-m4", "all")
    toolchain.require_tools(toolchain.HOST_TOOLS if host else ("make",), "kws export --target host")
    if m4:
        toolchain.require_tools(toolchain.CORTEX_M4_TOOLS + toolchain.QEMU_TOOLS, "kws export --target cortex-m4")

    model = KwsModel.load(model_source)
    detector = model_detector_config(model_source)
    if inference_period_ms is not None:
        detector = dataclasses.replace(detector, inference_period_ms=inference_period_ms)
    Detector(detector, model.labels, model.frontend)  # labels and period checked before any work
    period_frames = inference_period_frames(detector.inference_period_ms, model.frontend.hop_ms)
    progress(f"generating C for {model.source}")
    files, emitted = export_files(model, detector)
    report = ExportReport(model=str(model.source), model_sha256=model_sha256(model),
                          frontend_hash=model.frontend.config_hash(), kws_version=__version__,
                          labels=list(model.labels), inference_period_ms=detector.inference_period_ms,
                          detector_hash=detector.config_hash(),
                          macs_per_inference=emitted.macs_per_inference, arena_bytes=emitted.arena_bytes,
                          weight_bytes=model.info.weight_bytes)
    with atomic_dir(out, overwrite=force) as tmp:
        write_files(tmp, files)
        inputs = None
        if host:
            progress("building for the host (gcc -O2, and ASan + UBSan)")
            toolchain.make("host", cwd=tmp)
        if m4:
            progress("building for the Cortex-M4 (arm-none-eabi-gcc -Os)")
            toolchain.make("cortex-m4", cwd=tmp)
        if verify_data or m4:
            progress("preparing verification inputs" if verify_data else "preparing measurement inputs")
            limit = clip_limit if verify_data else min(clip_limit or MEASURE_CLIPS, MEASURE_CLIPS)
            inputs = verify.build_inputs(model, data_dir, limit)
        if verify_data:
            if host:
                for binary in ("kws_main", "kws_main_asan"):
                    report.verification += [r.to_dict() for r in verify.verify_build(
                        f"host {binary}", verify.host_runner(tmp / "build" / binary), model, inputs, detector,
                        progress)]
            if m4:
                report.verification += [r.to_dict() for r in verify.verify_build(
                    "cortex-m4 qemu", verify.qemu_runner(tmp / "build" / "kws_main_m4.elf"), model, inputs,
                    detector, progress)]
        if m4:
            progress("checking the device code is integer-only, measuring size, stack and instructions")
            report.cortex_m4 = {"float_free": float_free_check(tmp),
                                **measure_cortex_m4(tmp, inputs, period_frames, model.frontend)}
        (tmp / "report.json").write_text(json.dumps(report.to_json(), indent=2, sort_keys=True) + "\n")
        (tmp / "report.md").write_text(report_markdown(report) + "\n")
    return report
