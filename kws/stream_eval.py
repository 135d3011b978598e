"""Streaming evaluation: false rejects and false accepts per hour of a model + detector on long audio.

Test streams are built deterministically (one seeded generator):

* **positive stream**: keyword clips placed one after another into the negative audio (cycled
  from the start), each after a random gap of ``gap_s`` seconds, optionally scaled to
  ``snr_db`` against the background under it; or, ``clean``, in place of the background (the
  clip alone as recorded, between stretches of negative audio);
* **negative stream**: the negative audio alone (every file, in sorted order, one continuous
  stream), which measures false accepts per hour.

Both streams go through :class:`kws.streaming.Stream` once with the scores recorded; the integer
detector is then replayed (:func:`kws.detector.replay`) for every threshold of the sweep, which
gives exactly the detections a stream with that threshold would make.

Matching: a detection whose time falls in ``[start, end + tolerance_s]`` of a placed positive and
carries its label is a hit (the first one only); every other detection in either stream is a
false accept. False accepts per hour count the negative stream only; the wrong detections in the
positive stream are reported separately.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from kws.audio import AUDIO_EXTENSIONS, iter_audio_blocks
from kws.clips import BadFile, decode_files, error_reason
from kws.detector import THRESHOLD_NEVER, DetectorConfig, Detector, replay, smooth_scores
from kws.errors import AudioError, DataError
from kws.model import KwsModel

#: Threshold values (int8 units) of the sweep.
SWEEP_INT8 = tuple(range(-96, 128, 4)) + (127,)


def audio_files(paths: Sequence[str | os.PathLike], what: str) -> list[Path]:
    """Audio files given directly or found (recursively) in the given folders, sorted per argument.

    Raises
    ------
    DataError
        a path that does not exist, or a folder with no audio file (named).
    """
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)
            if not files:
                raise DataError(f"{path}: no audio files ({', '.join(AUDIO_EXTENSIONS)}) in this {what} folder")
            found.extend(files)
        else:
            raise DataError(f"{path}: no such {what} file or folder")
    return found


def read_negatives(paths: Sequence[Path], rate: int) -> tuple[list[np.ndarray], list[BadFile]]:
    """int16 PCM of every negative file (resampled, downmixed); unreadable files are reported."""
    pcm, bad = [], []
    for path in paths:
        try:
            blocks = list(iter_audio_blocks(path, rate))
        except AudioError as exc:
            bad.append(BadFile(str(path), error_reason(exc, path)))
            continue
        if blocks:
            pcm.append(np.concatenate(blocks))
    return pcm, bad


def positive_files(folder: str | os.PathLike, model: KwsModel, config: DetectorConfig,
                   keyword: str | None = None) -> tuple[list[tuple[Path, str]], list[str]]:
    """``(file, label)`` of the positives and notes on skipped folders.

    With ``keyword`` every audio file of ``folder`` is a positive of that label; otherwise the
    sub-folders named after the model's keyword labels are used and the others are skipped.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: positives folder not found")
    keywords = [label for label in model.labels if label not in config.ignored_labels]
    notes = []
    if keyword is not None:
        if keyword not in keywords:
            raise DataError(f"--keyword {keyword!r}: not a keyword label of the model ({', '.join(keywords)})")
        files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)
        pairs = [(p, keyword) for p in files]
    else:
        pairs = []
        for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
            if sub.name not in keywords:
                notes.append(f"skipped folder {sub.name}/: not a keyword label of the model")
                continue
            pairs += [(p, sub.name) for p in sorted(sub.iterdir())
                      if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS]
    if not pairs:
        raise DataError(f"{folder}: no positive clips ({'audio files' if keyword else 'keyword label folders'})")
    return pairs, notes


def spread(items: list, limit: int | None) -> list:
    """At most ``limit`` items, evenly spread over the list."""
    if limit is None or len(items) <= limit:
        return items
    index = np.linspace(0, len(items) - 1, limit).round().astype(int)
    return [items[i] for i in index]


@dataclasses.dataclass(frozen=True)
class Placed:
    """A keyword clip placed into a positive stream."""

    label: str
    start_s: float
    end_s: float
    file: str


def _mean_square(x: np.ndarray) -> float:
    return float(np.mean(np.square(x, dtype=np.float64))) if x.size else 0.0


class Background:
    """The negative audio, cycled forever, handed out in pieces."""

    def __init__(self, pcm: list[np.ndarray]):
        self.pcm = [p for p in pcm if p.size]
        if not self.pcm:
            raise DataError("the negative audio is empty")
        self.file, self.pos = 0, 0

    def take(self, n: int) -> np.ndarray:
        out = []
        while n > 0:
            current = self.pcm[self.file]
            piece = current[self.pos : self.pos + n]
            out.append(piece)
            n -= piece.size
            self.pos += piece.size
            if self.pos >= current.size:
                self.file, self.pos = (self.file + 1) % len(self.pcm), 0
        return np.concatenate(out) if out else np.zeros(0, np.int16)


def positive_stream(clips: list[np.ndarray], labels: list[str], files: list[str], background: Background,
                    rate: int, *, seed: int, gap_s: tuple[float, float], snr_db: float | None,
                    placed: list[Placed], clean: bool = False) -> Iterator[np.ndarray]:
    """Blocks of the positive stream; appends each clip's placement to ``placed`` as it is made.

    ``clean``: each clip replaces the background under it instead of being mixed into it."""
    if clean and snr_db is not None:
        raise ValueError("a clean positive stream has no SNR")
    rng = np.random.default_rng(seed)
    t = 0
    for clip, label, file in zip(clips, labels, files):
        gap = int(rng.uniform(*gap_s) * rate)
        segment = background.take(gap + clip.size).astype(np.float64)
        under = segment[gap:]
        signal = clip.astype(np.float64)
        if clean:
            under[:] = 0.0
        elif snr_db is not None:
            p_clip, p_bg = _mean_square(signal), _mean_square(under)
            if p_clip > 0 and p_bg > 0:
                signal *= np.sqrt(p_bg / p_clip * 10 ** (snr_db / 10))
        under += signal
        placed.append(Placed(label, (t + gap) / rate, (t + gap + clip.size) / rate, file))
        t += segment.size
        yield np.clip(np.round(segment), -32768, 32767).astype(np.int16)


@dataclasses.dataclass
class Recorded:
    """Scores of one stream: the inference frames and their int8 scores, smoothed once."""

    frames: np.ndarray
    smoothed: np.ndarray
    seconds: float


def record(model: KwsModel, config: DetectorConfig, blocks: Iterable[np.ndarray], frontend=None,
           progress: str | None = None) -> Recorded:
    """Run a stream once and keep every inference's scores (smoothed the detector's way)."""
    from kws.streaming import Stream

    stream = Stream(model, config, frontend=frontend, record_scores=True)
    n = 0
    bar = None
    if progress and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(desc=progress, unit=" s audio", leave=False, mininterval=1.0)
    for block in blocks:
        stream.process(block)
        n += block.size
        if bar is not None:
            bar.update(block.size / model.frontend.sample_rate_hz)
    if bar is not None:
        bar.close()
    return Recorded(stream.frames, smooth_scores(stream.scores, config.smoothing_inferences),
                    n / model.frontend.sample_rate_hz)


def detections_at(rec: Recorded, thresholds: np.ndarray, model: KwsModel,
                  config: DetectorConfig) -> list[tuple[float, int]]:
    """``(time_s, label index)`` of the detections with these per-label int8 thresholds."""
    fe = model.frontend
    out = replay(rec.smoothed, rec.frames, config, model.labels, fe, thresholds=thresholds)
    return [((int(rec.frames[i]) * fe.hop_samples + fe.window_samples) / fe.sample_rate_hz, label)
            for i, label, _ in out]


def match(detections: list[tuple[float, int]], placed: list[Placed], labels: Sequence[str],
          tolerance_s: float) -> tuple[np.ndarray, list[int]]:
    """Hit flags per placed positive and the label indices of the false accepts."""
    hit = np.zeros(len(placed), bool)
    starts = np.array([p.start_s for p in placed])
    false = []
    for time_s, label in detections:
        k = int(np.searchsorted(starts, time_s, side="right")) - 1
        ok = False
        for j in (k, k - 1):  # the latest placed positive that started before, or the one before it
            if 0 <= j < len(placed) and placed[j].start_s <= time_s <= placed[j].end_s + tolerance_s \
                    and placed[j].label == labels[label] and not hit[j]:
                hit[j] = ok = True
                break
        if not ok:
            false.append(label)
    return hit, false


def keyword_thresholds(model: KwsModel, config: DetectorConfig, value: int | None = None) -> np.ndarray:
    """Per-label thresholds: the config's, or ``value`` for every keyword; ignored labels never."""
    base = Detector(config, model.labels, model.frontend).thresholds.copy()
    if value is not None:
        for i, label in enumerate(model.labels):
            if label not in config.ignored_labels:
                base[i] = value
    return base


def summarise(model: KwsModel, config: DetectorConfig, thresholds: np.ndarray, positive: Recorded | None,
              placed: list[Placed], negative: Recorded, tolerance_s: float) -> dict[str, Any]:
    """FRR and FA/h overall and per keyword at the given per-label thresholds."""
    labels = model.labels
    hours = negative.seconds / 3600
    neg_false = [label for _, label in detections_at(negative, thresholds, model, config)]
    if positive is not None and placed:
        hit, pos_false = match(detections_at(positive, thresholds, model, config), placed, labels, tolerance_s)
    else:
        hit, pos_false = np.zeros(0, bool), []
    per_label = {}
    for i, label in enumerate(labels):
        if label in config.ignored_labels:
            continue
        mine = np.array([p.label == label for p in placed], bool)
        n = int(mine.sum())
        per_label[label] = {
            "n_positive": n,
            "false_reject_rate": float(1 - hit[mine].mean()) if n else None,
            "false_accepts": neg_false.count(i),
            "false_accepts_per_hour": neg_false.count(i) / hours if hours else None,
            "threshold": int(thresholds[i]),
        }
    return {
        "false_reject_rate": float(1 - hit.mean()) if hit.size else None,
        "false_accepts": len(neg_false),
        "false_accepts_per_hour": len(neg_false) / hours if hours else None,
        "false_accepts_in_positive_stream": len(pos_false),
        "n_positive": int(hit.size),
        "per_label": per_label,
    }


def sweep(model: KwsModel, config: DetectorConfig, positive: Recorded | None, placed: list[Placed],
          negative: Recorded, tolerance_s: float, values: Sequence[int] = SWEEP_INT8) -> list[dict[str, Any]]:
    """:func:`summarise` with one common threshold for every keyword, for each value of the sweep."""
    out = []
    for value in values:
        result = summarise(model, config, keyword_thresholds(model, config, value), positive, placed, negative,
                           tolerance_s)
        result["threshold"] = int(value)
        out.append(result)
    return out


def operating_point(curve: list[dict[str, Any]], target_fa_per_hour: float) -> dict[str, Any] | None:
    """The lowest threshold of the sweep whose FA/h is at most the target (lowest FRR among those)."""
    ok = [row for row in curve if row["false_accepts_per_hour"] is not None
          and row["false_accepts_per_hour"] <= target_fa_per_hour]
    return min(ok, key=lambda row: row["threshold"]) if ok else None


def calibrate_thresholds(model: KwsModel, config: DetectorConfig, negative: Recorded, target_fa_per_hour: float,
                         min_threshold_int8: int = 0) -> dict[str, int]:
    """Per keyword, the lowest int8 threshold (>= ``min_threshold_int8``) whose false accepts per hour on
    ``negative``, with only that keyword enabled, are at most ``target_fa_per_hour / n_keywords``."""
    keywords = [i for i, label in enumerate(model.labels) if label not in config.ignored_labels]
    budget = target_fa_per_hour / len(keywords)
    hours = negative.seconds / 3600
    out = {}
    for i in keywords:
        best = THRESHOLD_NEVER
        for value in range(127, min_threshold_int8 - 1, -1):
            thresholds = np.full(len(model.labels), THRESHOLD_NEVER, np.int32)
            thresholds[i] = value
            if len(detections_at(negative, thresholds, model, config)) / hours > budget:
                break
            best = value
        out[model.labels[i]] = int(best)
    return out


def plot_det(curves: dict[str, list[tuple[float, float]]], path: str | os.PathLike, *, title: str,
             target_fa_per_hour: float | None = None) -> None:
    """DET curve PNG: false reject rate against false accepts per hour (log x axis), one line per curve."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kws.fileio import atomic_path

    fig, ax = plt.subplots(figsize=(7, 5))
    floor = None
    for name, points in curves.items():
        xs = [fa for fa, _ in points]
        positive = [x for x in xs if x > 0]
        floor = min([floor or 1e9] + positive)
    floor = (floor or 1.0) / 2
    for name, points in curves.items():
        points = sorted(points)
        ax.plot([max(fa, floor) for fa, _ in points], [frr for _, frr in points],
                lw=2.5 if name == "overall" else 1, label=name, marker="." if name == "overall" else None)
    if target_fa_per_hour:
        ax.axvline(target_fa_per_hour, color="grey", ls="--", lw=1, label=f"{target_fa_per_hour:g} FA/h")
    ax.set_xscale("log")
    ax.set_xlabel(f"false accepts per hour (0 drawn at {floor:.2g})")
    ax.set_ylabel("false reject rate")
    ax.set_ylim(0, 1)
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)


def decode_positives(pairs: list[tuple[Path, str]], rate: int) -> tuple[list[np.ndarray], list[str], list[str],
                                                                         list[BadFile]]:
    decoded = decode_files([p for p, _ in pairs], sample_rate=rate)
    labels = [pairs[i][1] for i in decoded.kept]
    files = [str(pairs[i][0]) for i in decoded.kept]
    return decoded.pcm, labels, files, decoded.bad_files


__all__ = ["Background", "Placed", "Recorded", "SWEEP_INT8", "audio_files", "calibrate_thresholds",
           "decode_positives", "detections_at", "keyword_thresholds", "match", "operating_point", "plot_det",
           "positive_files", "positive_stream", "read_negatives", "record", "spread", "summarise", "sweep"]
