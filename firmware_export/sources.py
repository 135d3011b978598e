"""All files of an export, as text, from one model: generated C, the static C sources, the
Makefile, the TFLite Micro array, check vectors and the README. Nothing here compiles or runs."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

import kws
from kws import __version__
from kws.firmware_export.cgen import define_block, stamp
from kws.firmware_export.errors import ExportError
from kws.firmware_export.frontend_c import emit_frontend, frontend_constants
from kws.firmware_export.model_c import ModelEmit, emit_model
from kws.detector import Detector, DetectorConfig, refractory_frames
from kws.model import KwsModel
from kws.streaming import inference_period_frames, stream_inferences

STATIC_DIR = Path(__file__).resolve().parent / "c"
#: Static C sources copied (stamped) into every export, relative to ``c/``.
STATIC_SOURCES = ("kws_fixedpoint.h", "kws_status.h", "kws_kernels.h", "kws_kernels.c", "kws.h", "kws.c",
                  "kws_detector.h", "kws_detector.c",
                  "main_host.c", "size_main.c", "example_firmware.c", "cortex_m4/startup.c",
                  "cortex_m4/platform.h", "cortex_m4/mps2_an386.ld")
#: Demo clips (one per label) concatenated into the bundled check stream.
CHECK_CLIPS_DIR = Path(kws.__file__).resolve().parent / "data" / "demo"


def model_sha256(model: KwsModel) -> str:
    return hashlib.sha256(model.tflite).hexdigest()


def detector_constants(model: KwsModel, detector: DetectorConfig) -> dict[str, int | str]:
    """The detector's settings as C constants (thresholds per label, ignored labels at 128: never)."""
    thresholds = Detector(detector, model.labels, model.frontend).thresholds
    return {
        "KWS_DETECTOR_SMOOTHING": detector.smoothing_inferences,
        "KWS_DETECTOR_MIN_HITS": detector.min_consecutive_hits,
        "KWS_DETECTOR_REFRACTORY_FRAMES": refractory_frames(detector, model.frontend),
        "KWS_DETECTOR_THRESHOLDS": "{" + ", ".join(str(int(t)) for t in thresholds) + "}",
        "KWS_DETECTOR_CONFIG_HASH": f'"{detector.config_hash()}"',
    }


def config_header(model: KwsModel, emitted: ModelEmit, detector: DetectorConfig) -> str:
    """``kws_config.h``: every front-end, model and stream constant, generated."""
    frontend = frontend_constants(model.frontend)
    model_defs = emitted.constants
    if model_defs["KWS_MODEL_INPUT_FRAMES"] != frontend["KWS_FRAMES_PER_CLIP"] or \
            model_defs["KWS_MODEL_INPUT_FEATURES"] != frontend["KWS_N_MFCC"]:
        raise ExportError(f"{model.source}: model input [{model_defs['KWS_MODEL_INPUT_FRAMES']} x "
                          f"{model_defs['KWS_MODEL_INPUT_FEATURES']}] does not match the front end "
                          f"[{frontend['KWS_FRAMES_PER_CLIP']} x {frontend['KWS_N_MFCC']}]")
    labels = ", ".join('"' + label.replace("\\", "\\\\").replace('"', '\\"') + '"' for label in model.labels)
    period_frames = inference_period_frames(detector.inference_period_ms, model.frontend.hop_ms)
    stream = {"KWS_INFERENCE_PERIOD_FRAMES": period_frames, "KWS_INFERENCE_PERIOD_MS": detector.inference_period_ms}
    identity = {"KWS_VERSION": f'"{__version__}"', "KWS_FRONTEND_HASH": f'"{model.frontend.config_hash()}"',
                "KWS_MODEL_SHA256": f'"{model_sha256(model)}"'}
    return "\n".join([
        "#ifndef KWS_CONFIG_H", "#define KWS_CONFIG_H", "",
        define_block("what this export was made from", identity),
        define_block(f"front end ({model.frontend.config_hash()})", frontend),
        define_block(f"model ({model.architecture}, {len(model.labels)} classes)", model_defs),
        define_block("streaming: the model runs every KWS_INFERENCE_PERIOD_FRAMES hops", stream),
        define_block(f"detector ({detector.config_hash()}): smoothing, int8 thresholds per label, hits, refractory",
                     detector_constants(model, detector)),
        "/* label names in score order */", f"#define KWS_LABEL_NAMES {{{labels}}}", "",
        "#endif /* KWS_CONFIG_H */", "",
    ])


def tflm_array(model: KwsModel) -> str:
    """``model_data.cc``: the ``.tflite`` as a C array, for people who run TensorFlow Lite Micro."""
    data = np.frombuffer(model.tflite, dtype=np.uint8)
    rows = [", ".join(f"0x{b:02x}" for b in data[i : i + 16]) for i in range(0, data.size, 16)]
    return ("// The int8 model as a TensorFlow Lite Micro flatbuffer (tflite::GetModel(g_kws_model_data)).\n"
            "// Feed it the features of kws_frontend.c: int8, scale 0.5, zero point 64.\n"
            "#include <cstdint>\n\n"
            f"alignas(16) extern const unsigned char g_kws_model_data[] = {{\n  " + ",\n  ".join(rows) + "\n};\n"
            f"extern const unsigned int g_kws_model_data_len = {data.size};\n")


def stream_lines(model: KwsModel, detector: DetectorConfig, pcm: np.ndarray) -> list[str]:
    """What ``kws_main stream`` prints for ``pcm``: per model run a ``D`` line if the detector fires
    (the C callback runs inside ``kws_process``, before the run is printed), then the ``P`` line."""
    period_frames = inference_period_frames(detector.inference_period_ms, model.frontend.hop_ms)
    decide = Detector(detector, model.labels, model.frontend)
    lines = []
    for run in stream_inferences(model, pcm, period_frames):
        for detection in decide.process(run.scores, run.frame):
            lines.append(f"D {run.frame} {model.labels.index(detection.label)} {detection.score}")
        lines.append(f"P {run.frame} {run.best} " + " ".join(str(int(v)) for v in run.scores))
    return lines


def check_vectors(model: KwsModel, detector: DetectorConfig) -> tuple[bytes, str]:
    """The bundled demo clips as one PCM stream, and what ``kws_main stream`` must print for it."""
    from kws.clips import decode_files, labelled_files

    files = labelled_files(CHECK_CLIPS_DIR, sorted(p.name for p in CHECK_CLIPS_DIR.iterdir() if p.is_dir()))
    decoded = decode_files([path for path, _ in files], sample_rate=model.frontend.sample_rate_hz)
    pcm = np.concatenate(decoded.pcm) if decoded.pcm else np.zeros(0, np.int16)
    return pcm.astype("<i2").tobytes(), "\n".join(stream_lines(model, detector, pcm)) + "\n"


def export_readme(model: KwsModel, emitted: ModelEmit, detector: DetectorConfig) -> str:
    c = model.frontend
    return f"""# kws export: `{model.architecture}` keyword model, {len(model.labels)} classes

Generated by kws {__version__} from `{Path(model.source).name}` (sha256 `{model_sha256(model)[:16]}…`) and the
front end `{c.config_hash()}`. Plain C99, no malloc, no floating point, no interpreter.

Labels (score order): {", ".join(f"`{label}`" for label in model.labels)}

## Use it

```c
#include "kws.h"
static void on_keyword(const kws_detection *d, void *user) {{
    /* kws_label_name(d->label), smoothed score d->score (probability = (score + 128) / 256) */
}}
static kws_context ctx;          /* front-end state, {c.frames_per_clip}-frame feature window, detector */
kws_init(&ctx);
kws_set_detection_callback(&ctx, on_keyword, NULL);
/* for every block of {c.sample_rate_hz} Hz int16 PCM, any length: */
kws_process(&ctx, block, n);     /* front end every {c.hop_ms} ms, model every {detector.inference_period_ms} ms */
```

The detector (`kws_detector.c`, settings `{detector.config_hash()}` from the model's `detector.json`)
averages the last {detector.smoothing_inferences} runs' scores, needs {detector.min_consecutive_hits} consecutive runs over a
label's threshold and then stays quiet for {detector.refractory_ms} ms. `kws_scores()` / `kws_best_label()` give the
raw scores of the latest run.

Compile `kws.c kws_frontend.c kws_model.c kws_kernels.c kws_detector.c` into your firmware (C99; on a Cortex-M4 or
M7 the kernels use the DSP extension's `SMLAD` when `__ARM_FEATURE_DSP` is defined).
`example_firmware.c` shows the calls from a main loop fed by a DMA double buffer.

| file | what |
|---|---|
| `kws.h`, `kws.c` | the API: `kws_init`, `kws_reset`, `kws_process`, `kws_set_detection_callback`, `kws_scores`, `kws_best_label` |
| `kws_detector.{{c,h}}` | smoothing, per-label int8 thresholds, consecutive hits, refractory time |
| `kws_frontend.{{c,h}}` | the integer MFCC: {c.window_ms} ms window, {c.hop_ms} ms hop, {c.n_mel} mel bands, {c.n_mfcc} MFCC, int8 features |
| `kws_model.{{c,h}}`, `kws_kernels.{{c,h}}` | the int8 network ({emitted.macs_per_inference:,} MACs, {emitted.arena_bytes:,}-byte arena) and its kernels |
| `kws_config.h` | every constant, generated; `kws_fixedpoint.h` rounding; `kws_status.h` error codes |
| `main_host.c`, `Makefile` | the test harness (host and QEMU Cortex-M4) and its build |
| `check/` | a stream of bundled clips and the scores Python computes for it (`make check`) |
| `model_data.cc` | the same model as a TensorFlow Lite Micro flatbuffer array |
| `report.md`, `report.json` | flash, RAM, stack and instruction counts measured on the Cortex-M4 build |

## With TensorFlow Lite Micro instead

`model_data.cc` holds the `.tflite`. Register the ops it uses
({", ".join(sorted(set(emitted.ops)))}) in a `MicroMutableOpResolver`, feed it the int8 features of
`kws_frontend_process` (input scale {c.feature_scale}, zero point {c.feature_zero_point}, shape
[1, {c.frames_per_clip}, {c.n_mfcc}]) and read the int8 output. The scores equal `kws_model_invoke`'s bit
for bit (both are TFLite's int8 reference arithmetic); TFLM adds its interpreter and arena on top.

## Build and check

```sh
make host        # build/kws_main, build/kws_main_asan, build/libkws_frontend.so
make cortex-m4   # build/kws_main_m4.elf for qemu-system-arm -machine mps2-an386
make check       # host, sanitizers and (when QEMU is there) Cortex-M4 against Python
```
"""


def export_files(model: KwsModel, detector: DetectorConfig) -> tuple[dict[str, str | bytes], ModelEmit]:
    """Every file of the export (relative path -> text or bytes) and the model emit."""
    emitted = emit_model(model.tflite, source=model.source)
    version, fe_hash, sha = __version__, model.frontend.config_hash(), model_sha256(model)
    files: dict[str, str | bytes] = {}

    def add(name: str, body: str, comment: str = "c") -> None:
        files[name] = stamp(body, filename=Path(name).name, version=version, frontend_hash=fe_hash,
                            model_sha256=sha, comment=comment)

    add("kws_config.h", config_header(model, emitted, detector))
    for name, body in emit_frontend(model.frontend).items():
        add(name, body)
    for name, body in emitted.files.items():
        add(name, body)
    for name in STATIC_SOURCES:
        add(name, (STATIC_DIR / name).read_text(encoding="utf-8"))
    add("Makefile", (STATIC_DIR / "Makefile.in").read_text(encoding="utf-8"), "make")
    add("model_data.cc", tflm_array(model))
    add("README.md", export_readme(model, emitted, detector), "md")
    pcm, expected = check_vectors(model, detector)
    files["check/input.pcm"] = pcm
    files["check/expected_stream.txt"] = expected
    return files, emitted
