"""``kws export --verify``: the generated C must compute exactly what Python computes.

Three comparisons, each on the host build (``-O2`` and ASan+UBSan) and on the Cortex-M4 build
under QEMU:

* **frames**: int8 features (and int16 MFCC for the golden vectors) of streams fed in chunks of
  many sizes, against :func:`kws.frontend.compute_features` — golden vectors, real clips,
  adversarial signals;
* **model**: int8 scores of feature blocks (real clips and random extremes) against the TFLite
  Micro reference kernels (:meth:`kws.model.KwsModel.scores_batch`);
* **stream**: ``kws_process`` on a long stream, its model runs against
  :func:`kws.streaming.stream_inferences`.

Any difference fails with the input, the frame (or clip) and both values named.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from kws.clips import decode_files, label_folders, labelled_files
from kws.evaluation import fit_to_clip, spread
from kws.firmware_export.errors import ExportError
from kws.firmware_export.sources import stream_lines
from kws.firmware_export.toolchain import qemu_command, run
from kws.frontend import compute_features, compute_features_many
from kws.frontend.pipeline import compute_mfcc
from kws.model import KwsModel
from kws.detector import DetectorConfig

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "tests" / "golden" / "frontend"
#: Chunk plans (samples per call, cycled) for the frame comparison.
CHUNK_PLANS = ("320", "1,7,319,320,321,480,4000", "4000", "1")
STREAM_CHUNK_PLANS = ("320", "97,1,333,1280,640,5")
#: Real-speech stream used by the stream comparison (seconds; every clip is used for frames and model).
STREAM_SECONDS_LIMIT = 120


@dataclasses.dataclass
class StreamInput:
    """A PCM stream and where each clip of it starts (to name the clip of a differing frame)."""

    name: str
    pcm: np.ndarray
    clip_starts: list[tuple[int, str]] = dataclasses.field(default_factory=list)
    plans: tuple[str, ...] = CHUNK_PLANS
    expected_mfcc: np.ndarray | None = None

    def clip_at(self, sample: int) -> str:
        name = ""
        for start, clip in self.clip_starts:
            if start > sample:
                break
            name = clip
        return f" ({name})" if name else ""


@dataclasses.dataclass
class CheckResult:
    target: str
    check: str
    items: int
    """Frames, score vectors or model runs compared."""
    runs: int
    """Harness runs (input x chunk plan x build)."""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class VerifyInputs:
    streams: list[StreamInput]
    model_features: np.ndarray
    """[n, frames, n_mfcc] int8 blocks for the model check."""
    model_names: list[str]
    stream: StreamInput
    n_real_clips: int


# ------------------------------------------------------------------------------------------------
# Inputs
# ------------------------------------------------------------------------------------------------


def adversarial_streams(model: KwsModel, speech: np.ndarray, rng: np.random.Generator) -> list[StreamInput]:
    """Worst cases for overflow and rounding, 2 s each."""
    n = 2 * model.frontend.sample_rate_hz
    t = np.arange(n)
    clipped = np.clip(np.resize(speech.astype(np.int32), n) * 16, -32768, 32767).astype(np.int16)
    impulses = np.zeros(n, np.int16)
    impulses[::101] = 32767
    impulses[50::101] = -32768
    signals = {
        "full-scale square wave": np.where((t // 8) % 2 == 0, 32767, -32768).astype(np.int16),
        "DC +32767": np.full(n, 32767, np.int16),
        "DC -32768": np.full(n, -32768, np.int16),
        "Nyquist tone": np.where(t % 2 == 0, 32767, -32768).astype(np.int16),
        "impulses": impulses,
        "clipped speech": clipped,
        "random full-scale noise": rng.integers(-32768, 32768, n, dtype=np.int16),
        "digital silence": np.zeros(n, np.int16),
        "one-LSB noise": rng.integers(-1, 2, n).astype(np.int16),
    }
    return [StreamInput(name, pcm) for name, pcm in signals.items()]


def golden_streams(model: KwsModel) -> list[StreamInput]:
    """The front-end golden vectors of ``tests/golden/frontend`` made with this front end."""
    streams = []
    for path in sorted(GOLDEN_DIR.glob("*.json")) if GOLDEN_DIR.is_dir() else []:
        vector = json.loads(path.read_text())
        if vector.get("config_hash") != model.frontend.config_hash():
            continue
        streams.append(StreamInput(f"golden {path.stem}", np.asarray(vector["input_pcm_int16"], np.int16),
                                   expected_mfcc=np.asarray(vector["expected_mfcc_int16"], np.int16)))
    return streams


def real_clips(model: KwsModel, data_dir: Path | None, clip_limit: int | None) -> tuple[list[np.ndarray], list[str]]:
    """Real clips (``<label>/*``), evenly spread when limited; bad files are skipped."""
    if data_dir is None or not data_dir.is_dir():
        return [], []
    files = spread(labelled_files(data_dir, label_folders(data_dir)), clip_limit)
    decoded = decode_files([path for path, _ in files], sample_rate=model.frontend.sample_rate_hz)
    names = [f"{files[i][1]}/{files[i][0].name}" for i in decoded.kept]
    return decoded.pcm, names


def concatenate(name: str, clips: Sequence[np.ndarray], names: Sequence[str], **kwargs) -> StreamInput:
    starts = np.concatenate([[0], np.cumsum([len(c) for c in clips])[:-1]]).astype(int) if clips else []
    pcm = np.concatenate(clips) if clips else np.zeros(0, np.int16)
    return StreamInput(name, pcm, [(int(s), n) for s, n in zip(starts, names)], **kwargs)


def build_inputs(model: KwsModel, data_dir: Path | None, clip_limit: int | None, seed: int = 0) -> VerifyInputs:
    rng = np.random.default_rng(seed)
    clips, names = real_clips(model, data_dir, clip_limit)
    if data_dir is not None and not clips:
        raise ExportError(f"{data_dir}: no real clips to verify with (expected <label>/*.wav)")
    speech = clips[0] if clips else rng.integers(-3000, 3000, 16000).astype(np.int16)
    streams = golden_streams(model) + adversarial_streams(model, speech, rng)
    if clips:
        streams.append(concatenate(f"{len(clips)} real clips", clips, names, plans=CHUNK_PLANS[:2]))
    window = model.frontend.clip_samples
    fitted = [fit_to_clip(c, window) for c in clips]
    real_features = np.stack(compute_features_many(fitted, model.frontend)) if fitted else \
        np.zeros((0, model.frontend.frames_per_clip, model.frontend.n_mfcc), np.int8)
    shape = (64, model.frontend.frames_per_clip, model.frontend.n_mfcc)
    random_features = rng.integers(-128, 128, shape, dtype=np.int8)
    random_features[0], random_features[1] = -128, 127
    stream_clips, stream_names, total = [], [], 0
    for clip, name in zip(clips, names):
        if total >= STREAM_SECONDS_LIMIT * model.frontend.sample_rate_hz:
            break
        stream_clips.append(clip)
        stream_names.append(name)
        total += len(clip)
    if not stream_clips:
        stream_clips, stream_names = [rng.integers(-8000, 8000, 10 * window).astype(np.int16)], ["random noise"]
    return VerifyInputs(
        streams=streams,
        model_features=np.concatenate([real_features, random_features]),
        model_names=names + [f"random features {i}" for i in range(len(random_features))],
        stream=concatenate(f"stream of {len(stream_clips)} clips", stream_clips, stream_names,
                           plans=STREAM_CHUNK_PLANS),
        n_real_clips=len(clips),
    )


# ------------------------------------------------------------------------------------------------
# Running the harness and comparing
# ------------------------------------------------------------------------------------------------


def parse_rows(output: str, tag: str, width: int) -> np.ndarray:
    """Rows of ``<tag> <index> v1 .. v_width`` lines as an int64 array [rows, 1 + width]."""
    rows = [line.split()[1:] for line in output.splitlines() if line.startswith(tag + " ")]
    if not rows:
        return np.zeros((0, 1 + width), np.int64)
    array = np.array(rows, dtype=np.int64)
    if array.shape[1] != 1 + width:
        raise ExportError(f"harness printed {array.shape[1] - 1} values per {tag} line, expected {width}")
    return array


Runner = Callable[[Sequence[str]], str]


def host_runner(binary: Path) -> Runner:
    return lambda args: run([str(binary), *args], cwd=binary.parent, what=f"{binary.name} {' '.join(args[:1])}")


def qemu_runner(elf: Path) -> Runner:
    return lambda args: run(qemu_command(elf, args), cwd=elf.parent, what=f"QEMU Cortex-M4 {' '.join(args[:1])}")


def _first_difference(label: str, got: np.ndarray, expected: np.ndarray, describe: Callable[[int], str],
                      unit: str) -> None:
    if got.shape[0] != expected.shape[0]:
        raise ExportError(f"{label}: C produced {got.shape[0]} {unit}s, Python {expected.shape[0]}")
    differs = np.argwhere(got != expected)
    if len(differs):
        row, col = (int(v) for v in differs[0])
        raise ExportError(f"{label}: {len(differs)} mismatching values; first at {unit} {row}{describe(row)}, "
                          f"value {col}: C gives {int(got[row, col])}, Python {int(expected[row, col])}")


def check_frames(target: str, runner: Runner, streams: list[StreamInput], work: Path, frontend) -> CheckResult:
    items = runs = 0
    for index, stream in enumerate(streams):
        path = work / f"stream{index}.pcm"
        stream.pcm.astype("<i2").tofile(path)
        expected = compute_features(stream.pcm, frontend)
        for plan in stream.plans:
            out = runner(["frames", "--chunks", plan, str(path)])
            got = parse_rows(out, "F", expected.shape[1] if expected.ndim == 2 else 0)
            _first_difference(f"{target} features of {stream.name} (chunks {plan})", got[:, 1:], expected,
                              lambda row, s=stream: s.clip_at(row * frontend.hop_samples), "frame")
            items += len(expected)
            runs += 1
        if stream.expected_mfcc is not None:
            out = runner(["frames", "--mfcc", str(path)])
            mfcc = compute_mfcc(stream.pcm, frontend)
            if not np.array_equal(mfcc, stream.expected_mfcc):
                raise ExportError(f"{stream.name}: the Python front end no longer matches its golden file")
            got = parse_rows(out, "M", mfcc.shape[1])
            _first_difference(f"{target} int16 MFCC of {stream.name}", got[:, 1:], mfcc, lambda row: "", "frame")
            runs += 1
    return CheckResult(target, "frames", items, runs)


def check_model(target: str, runner: Runner, model: KwsModel, features: np.ndarray, names: list[str],
                work: Path) -> CheckResult:
    path = work / "features.i8"
    np.ascontiguousarray(features, np.int8).tofile(path)
    expected = model.scores_batch(features)
    got = parse_rows(runner(["model", str(path)]), "S", model.n_classes)
    _first_difference(f"{target} model scores", got[:, 1:], expected,
                      lambda row: f" ({names[row]})" if row < len(names) else "", "clip")
    return CheckResult(target, "model", len(expected), 1)


def check_stream(target: str, runner: Runner, model: KwsModel, stream: StreamInput, detector: DetectorConfig,
                 work: Path) -> CheckResult:
    """``kws_process`` model runs (P lines) and detections (D lines) against Python, line for line."""
    path = work / "stream.pcm"
    stream.pcm.astype("<i2").tofile(path)
    expected_lines = stream_lines(model, detector, stream.pcm)
    hop = model.frontend.hop_samples
    for plan in stream.plans:
        out = runner(["stream", "--chunks", plan, str(path)])
        for tag, width in (("P", 1 + model.n_classes), ("D", 2)):
            expected = parse_rows("\n".join(expected_lines), tag, width)
            got = parse_rows(out, tag, width)
            what = "model run" if tag == "P" else "detection"
            _first_difference(f"{target} kws_process {what}s on {stream.name} (chunks {plan})", got, expected,
                              lambda row, e=expected: f" (frame {e[row, 0]}{stream.clip_at(int(e[row, 0]) * hop)})"
                              if row < len(e) else "", what)
    n_runs = sum(line.startswith("P ") for line in expected_lines)
    n_detections = sum(line.startswith("D ") for line in expected_lines)
    return CheckResult(target, "stream", (n_runs + n_detections) * len(stream.plans), len(stream.plans))


def verify_build(target: str, runner: Runner, model: KwsModel, inputs: VerifyInputs, detector: DetectorConfig,
                 progress: Callable[[str], None] = lambda message: None) -> list[CheckResult]:
    """All three comparisons with one harness build; raises :class:`ExportError` on any difference."""
    with tempfile.TemporaryDirectory(prefix="kws-verify-") as tmp:
        work = Path(tmp)
        progress(f"{target}: front end on {len(inputs.streams)} streams")
        results = [check_frames(target, runner, inputs.streams, work, model.frontend)]
        progress(f"{target}: model on {len(inputs.model_features)} feature blocks")
        results.append(check_model(target, runner, model, inputs.model_features, inputs.model_names, work))
        progress(f"{target}: kws_process on {len(inputs.stream.pcm) / model.frontend.sample_rate_hz:.0f} s stream")
        results.append(check_stream(target, runner, model, inputs.stream, detector, work))
    return results
