"""Accuracy of an int8 model on labelled clips: confusion matrix, per-class metrics, plot.

Every clip goes the device's way: int16 PCM fitted to one classification
window (:func:`kws.clips.fit_to_clip`, the rule training uses too) -> fixed-point front end -> int8 model run by the
TFLite Micro reference kernels (:class:`kws.model.KwsModel`). Rows of the
confusion matrix are true labels, columns predicted labels, both in the
model's label order.

Undefined ratios (precision of a class never predicted, recall of a class
with no clips) are reported as 0.0.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from kws.audio import list_audio_files
from kws.clips import decode_files, fit_to_clip, label_folders, labelled_files
from kws.errors import DataError
from kws.fileio import atomic_path, write_json_atomic
from kws.frontend import compute_features_many
from kws.model import KwsModel


def confusion_matrix(true_index: Sequence[int], predicted_index: Sequence[int], n_classes: int) -> np.ndarray:
    """Counts ``[true, predicted]``, ``[shape=(n_classes, n_classes), int64]``."""
    true_index = np.asarray(true_index, dtype=np.int64)
    predicted_index = np.asarray(predicted_index, dtype=np.int64)
    if true_index.shape != predicted_index.shape:
        raise ValueError(f"{true_index.shape} true indices but {predicted_index.shape} predictions")
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (true_index, predicted_index), 1)
    return matrix


def _ratio(numerator: int, denominator: int) -> float:
    return float(numerator) / float(denominator) if denominator else 0.0


@dataclasses.dataclass
class EvalResult:
    """Outcome of an evaluation."""

    labels: list[str]
    """Model labels: row / column order of ``confusion``."""
    confusion: np.ndarray
    """``[true, predicted]`` counts, ``[shape=(n_labels, n_labels), int64]``."""
    bad_files: list[dict[str, str]] = dataclasses.field(default_factory=list)
    """``{"path", "reason"}`` of every file skipped because it could not be used."""
    unknown_labels: dict[str, int] = dataclasses.field(default_factory=dict)
    """Label folders the model does not know, with their number of (skipped) files."""
    seconds: float = 0.0
    """Time spent in the front end and the int8 model."""
    model: str = ""
    """Where the model came from."""
    min_keyword_probability: float = 0.0
    """The decision rule the figures were computed with (:mod:`kws.decision`; 0 = argmax)."""

    @property
    def n(self) -> int:
        return int(self.confusion.sum())

    @property
    def accuracy(self) -> float:
        return _ratio(int(np.trace(self.confusion)), self.n)

    @property
    def clips_per_s(self) -> float:
        return self.n / self.seconds if self.seconds > 0 else 0.0

    def per_class(self) -> dict[str, dict[str, float | int]]:
        """``{label: {"precision", "recall", "n"}}``; ``n`` = clips whose true label it is."""
        correct = np.diag(self.confusion)
        true_counts = self.confusion.sum(axis=1)
        predicted_counts = self.confusion.sum(axis=0)
        return {
            label: {"precision": _ratio(int(correct[i]), int(predicted_counts[i])),
                    "recall": _ratio(int(correct[i]), int(true_counts[i])),
                    "n": int(true_counts[i])}
            for i, label in enumerate(self.labels)
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "accuracy": self.accuracy,
            "n": self.n,
            "per_class": self.per_class(),
            "confusion": self.confusion.tolist(),
            "labels": list(self.labels),
            "bad_files": list(self.bad_files),
            "unknown_labels": dict(self.unknown_labels),
            "clips_per_s": self.clips_per_s,
            "model": self.model,
            "min_keyword_probability": self.min_keyword_probability,
        }

    def report(self) -> str:
        """Readable summary: accuracy, per-class table, confusion matrix, skipped data."""
        lines = [f"accuracy {self.accuracy:.4f} ({int(np.trace(self.confusion))}/{self.n} clips)"]
        width = max([len(label) for label in self.labels] + [5])
        lines.append(f"  {'label':<{width}}  precision  recall      n")
        for label, m in self.per_class().items():
            lines.append(f"  {label:<{width}}  {m['precision']:9.3f}  {m['recall']:6.3f}  {m['n']:5d}")
        cell = max(5, len(str(int(self.confusion.max(initial=0)))) + 1)
        short = [label[: cell - 1] for label in self.labels]
        lines.append("confusion (rows: true, columns: predicted)")
        lines.append(f"  {'':<{width}}" + "".join(f"{s:>{cell}}" for s in short))
        for label, row in zip(self.labels, self.confusion):
            lines.append(f"  {label:<{width}}" + "".join(f"{int(v):>{cell}}" for v in row))
        for label, count in self.unknown_labels.items():
            lines.append(f"skipped label {label!r} ({count} files): not one of the model's labels")
        for bad in self.bad_files:
            lines.append(f"skipped {bad['path']}: {bad['reason']}")
        return "\n".join(lines)


def evaluate_features(model: KwsModel, features: np.ndarray, true_index: Sequence[int]) -> np.ndarray:
    """Confusion matrix of the model on int8 features ``[shape=(n, frames, n_mfcc)]``."""
    predicted = model.predict_indices(features) if len(features) else np.zeros(0, np.int64)
    return confusion_matrix(true_index, predicted, model.n_classes)


def clip_features(clips: Sequence[np.ndarray], model: KwsModel) -> np.ndarray:
    """int8 features ``[shape=(n, frames, n_mfcc)]`` of int16 clips, each fitted to one window."""
    config = model.frontend
    if not clips:
        return np.zeros((0, config.frames_per_clip, config.n_mfcc), np.int8)
    fitted = [fit_to_clip(pcm, config.clip_samples) for pcm in clips]
    return np.stack(compute_features_many(fitted, config))


def evaluate_clips(model: KwsModel, clips: Sequence[np.ndarray], labels: Sequence[str]) -> EvalResult:
    """Evaluate int16 clips with known labels (each must be one of the model's labels).

    Parameters
    ----------
    model : KwsModel
    clips : sequence of np.ndarray [shape=(n_i,), int16]
    labels : sequence of str, one per clip
    """
    if len(clips) != len(labels):
        raise ValueError(f"{len(clips)} clips but {len(labels)} labels")
    index = {label: i for i, label in enumerate(model.labels)}
    unknown = sorted(set(labels) - set(index))
    if unknown:
        raise DataError(f"labels {unknown} are not among the model's labels {list(model.labels)}")
    start = time.perf_counter()
    features = clip_features(clips, model)
    confusion = evaluate_features(model, features, [index[label] for label in labels])
    return EvalResult(labels=list(model.labels), confusion=confusion, seconds=time.perf_counter() - start,
                      model=model.source, min_keyword_probability=model.min_keyword_probability)


def spread(items: Sequence[Any], limit: int | None) -> list[Any]:
    """At most ``limit`` items, evenly spread over the sequence (all of them for ``None``)."""
    items = list(items)
    if limit is None or limit >= len(items):
        return items
    if limit <= 0:
        return []
    return [items[i] for i in np.linspace(0, len(items) - 1, limit).round().astype(int)]


def evaluate_folder(model: KwsModel, root: str | os.PathLike, *, limit: int | None = None) -> EvalResult:
    """Evaluate the model on a ``<root>/<label>/*.{wav,flac,ogg}`` tree.

    Folders whose name is not a model label are reported in
    ``unknown_labels`` and skipped; files that cannot be decoded (or are
    digitally silent) are reported in ``bad_files`` and skipped.

    Parameters
    ----------
    model : KwsModel
    root : path
    limit : int, optional
        Evaluate at most this many clips, evenly spread over the sorted files.

    Raises
    ------
    DataError
        ``root`` missing, or no folder with audio carries a model label.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: folder not found")
    known, unknown = [], {}
    for name in label_folders(root):
        n_files = len(list_audio_files(root / name))
        if name not in model.labels:
            unknown[name] = n_files
        elif n_files:
            known.append(name)
    if not known:
        raise DataError(f"{root}: no label folder with audio matches the model's labels {list(model.labels)}"
                        + (f" (found {sorted(unknown)})" if unknown else ""))
    files = spread(labelled_files(root, known), limit)
    decoded = decode_files([path for path, _ in files], sample_rate=model.frontend.sample_rate_hz)
    if not decoded.pcm:
        example = decoded.bad_files[0] if decoded.bad_files else None
        raise DataError(f"{root}: no usable clip to evaluate: all {len(files)} files were rejected"
                        + (f" (e.g. {example.path}: {example.reason})" if example else ""))
    result = evaluate_clips(model, decoded.pcm, [files[i][1] for i in decoded.kept])
    result.bad_files = [{"path": bad.path, "reason": bad.reason} for bad in decoded.bad_files]
    result.unknown_labels = unknown
    return result


def write_eval_json(result: EvalResult, path: str | os.PathLike) -> None:
    """Write :meth:`EvalResult.to_json` atomically."""
    write_json_atomic(path, result.to_json())


def plot_confusion(result: EvalResult, path: str | os.PathLike, *, title: str | None = None) -> None:
    """Write a confusion-matrix PNG: colour = share of the true class, text = count."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = result.confusion
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros(counts.shape, np.float64), where=totals > 0)
    n = len(result.labels)
    size = max(4.0, 0.55 * n + 2.0)
    fig, ax = plt.subplots(figsize=(size + 1.0, size), constrained_layout=True)
    image = ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0, interpolation="nearest")
    for i in range(n):
        for j in range(n):
            if counts[i, j]:
                ax.text(j, i, str(int(counts[i, j])), ha="center", va="center", fontsize=8,
                        color="white" if shares[i, j] > 0.5 else "black")
    ax.set_xticks(range(n), result.labels, rotation=60, ha="right")
    ax.set_yticks(range(n), result.labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title or f"accuracy {result.accuracy:.3f} on {result.n} clips")
    fig.colorbar(image, ax=ax, label="share of the true class")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


__all__ = ["EvalResult", "clip_features", "confusion_matrix", "evaluate_clips", "evaluate_features",
           "evaluate_folder", "fit_to_clip", "label_folders", "plot_confusion", "spread", "write_eval_json"]
