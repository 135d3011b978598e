"""Decision logic on the model's int8 scores: smoothing, thresholds, consecutive hits, refractory.

Everything here is integer arithmetic on int8 scores so the C mirror (``kws_detector_process``)
can reproduce it bit for bit. The rules, for one call ``process(scores, frame_index)``:

1. **Smoothing.** The detector keeps the last ``smoothing_inferences`` int8 score vectors. With
   ``count`` = how many it holds (fewer than ``smoothing_inferences`` only just after a reset),
   the smoothed score of label ``l`` is, with the offset ``u = q + 128`` (0..255, so every sum is
   non-negative)::

       smoothed[l] = (sum(u[l]) + count // 2) // count - 128

   i.e. the mean rounded half up, back in int8 units. Sums fit int32 for any window length
   accepted here.
2. **Hits.** Label ``l`` hits when it is not in ``ignored_labels`` and
   ``smoothed[l] >= threshold[l]`` (``threshold`` from ``thresholds_int8``, else
   ``default_threshold_int8``; 128 means "never").
3. **Refractory.** ``refractory_frames = ceil(refractory_ms / hop_ms)``. After a detection at
   frame ``F`` the detector is *blocked* while ``frame_index - F < refractory_frames``.
4. **Consecutive hits.** Per label a counter: when blocked it is set to 0; otherwise it becomes
   ``counter + 1`` on a hit and 0 on a miss (saturating at ``min_consecutive_hits``).
5. **Firing.** When not blocked and at least one label's counter reached
   ``min_consecutive_hits``, the detector fires for the one of those labels with the highest
   smoothed score (the lowest label index on ties): ``Detection(label, time_s, score)`` with
   ``score`` its smoothed int8 score and ``time_s`` the end of frame ``frame_index``, i.e.
   ``(frame_index * hop_samples + window_samples) / sample_rate_hz``. Then every counter is
   set to 0 and ``F = frame_index``.

:func:`replay` computes the same detections for a whole recorded score sequence at once (used
to sweep thresholds); the tests check it against :class:`Detector`.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any, Mapping, NamedTuple, Sequence

import numpy as np

from kws.config import FrontendConfig, config_hash
from kws.errors import ConfigError
from kws.fileio import write_json_atomic

#: File name of a model's default detector settings, beside its ``config.json``.
DETECTOR_FILE = "detector.json"
#: Threshold value that no int8 score reaches: the label never triggers.
THRESHOLD_NEVER = 128
#: Labels that never trigger a detection by default.
NON_KEYWORD_LABELS = ("_silence_", "_unknown_")


@dataclasses.dataclass(frozen=True, kw_only=True)
class DetectorConfig:
    """Integer decision rules on the int8 scores of a model (see the module docstring)."""

    inference_period_ms: int = 200
    """Time between two model runs in milliseconds; a positive multiple of the front end's hop."""
    smoothing_inferences: int = 3
    """Number of consecutive inferences whose int8 scores are averaged (1 = no smoothing)."""
    default_threshold_int8: int = 64
    """Threshold on the smoothed score, in int8 score units (probability * 256 - 128), for labels
    not listed in ``thresholds_int8``. 64 is probability 0.75; 128 means never."""
    thresholds_int8: tuple[tuple[str, int], ...] = ()
    """Per-label thresholds ``((label, int8 threshold), ...)``, sorted by label; JSON: an object."""
    min_consecutive_hits: int = 2
    """Number of consecutive inferences a label's smoothed score must reach its threshold before
    it fires."""
    refractory_ms: int = 1000
    """After a detection, no other detection for this long, in milliseconds (rounded up to whole
    hops)."""
    ignored_labels: tuple[str, ...] = NON_KEYWORD_LABELS
    """Labels that never trigger (non-keyword classes)."""

    def __post_init__(self) -> None:
        thresholds = self.thresholds_int8
        if isinstance(thresholds, Mapping):
            thresholds = tuple(thresholds.items())
        object.__setattr__(self, "thresholds_int8", tuple(sorted((str(k), v) for k, v in thresholds)))
        object.__setattr__(self, "ignored_labels", tuple(self.ignored_labels))
        validate_detector(self)

    def threshold_for(self, label: str) -> int:
        """int8 threshold of ``label``."""
        return dict(self.thresholds_int8).get(label, self.default_threshold_int8)

    def with_thresholds(self, thresholds: Mapping[str, int]) -> "DetectorConfig":
        """A copy with ``thresholds`` merged over the per-label thresholds."""
        merged = dict(self.thresholds_int8)
        merged.update(thresholds)
        return dataclasses.replace(self, thresholds_int8=tuple(merged.items()))

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["thresholds_int8"] = dict(self.thresholds_int8)
        data["ignored_labels"] = list(self.ignored_labels)
        return data

    def config_hash(self) -> str:
        return config_hash(self)


def validate_detector(config: DetectorConfig) -> None:
    """Raise :class:`ConfigError` naming the first bad setting."""
    def need(ok: bool, message: str) -> None:
        if not ok:
            raise ConfigError(f"DetectorConfig: {message}")

    def is_int(value: Any) -> bool:
        return isinstance(value, (int, np.integer)) and not isinstance(value, bool)

    for name in ("inference_period_ms", "smoothing_inferences", "default_threshold_int8",
                 "min_consecutive_hits", "refractory_ms"):
        need(is_int(getattr(config, name)), f"{name} must be an integer, got {getattr(config, name)!r}")
    need(0 < config.inference_period_ms <= 10000, f"inference_period_ms must be in 1..10000, "
                                                 f"got {config.inference_period_ms}")
    need(1 <= config.smoothing_inferences <= 256, f"smoothing_inferences must be in 1..256, "
                                                  f"got {config.smoothing_inferences}")
    need(1 <= config.min_consecutive_hits <= 256, f"min_consecutive_hits must be in 1..256, "
                                                  f"got {config.min_consecutive_hits}")
    need(0 <= config.refractory_ms <= 600000, f"refractory_ms must be in 0..600000, got {config.refractory_ms}")
    for label, value in [("default", config.default_threshold_int8), *config.thresholds_int8]:
        need(is_int(value) and -128 <= value <= THRESHOLD_NEVER,
             f"threshold of {label!r} must be an integer in -128..{THRESHOLD_NEVER} (int8 score units), got {value!r}")
    need(len({k for k, _ in config.thresholds_int8}) == len(config.thresholds_int8), "a label has two thresholds")
    need(all(isinstance(x, str) and x for x in config.ignored_labels), "ignored_labels must be non-empty strings")


def detector_from_dict(data: dict[str, Any], *, where: str = "detector") -> DetectorConfig:
    """Build a :class:`DetectorConfig` from its JSON form, rejecting unknown keys and wrong types."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a table of settings, got {type(data).__name__}")
    fields = {f.name for f in dataclasses.fields(DetectorConfig)}
    unknown = sorted(set(data) - fields - {"config_hash", "calibration"})
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(repr(k) for k in unknown)} for DetectorConfig")
    values = {k: v for k, v in data.items() if k in fields}
    if "thresholds_int8" in values:
        if not isinstance(values["thresholds_int8"], dict):
            raise ConfigError(f"{where}: 'thresholds_int8' must be an object {{label: int8 threshold}}")
        values["thresholds_int8"] = tuple(values["thresholds_int8"].items())
    if "ignored_labels" in values:
        if not isinstance(values["ignored_labels"], list):
            raise ConfigError(f"{where}: 'ignored_labels' must be a list of labels")
        values["ignored_labels"] = tuple(values["ignored_labels"])
    try:
        config = DetectorConfig(**values)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    stored = data.get("config_hash")
    if stored is not None and stored != config.config_hash():
        raise ConfigError(f"{where}: config_hash {stored!r} does not match the settings "
                          f"(hash {config.config_hash()}); the file was edited or is corrupt")
    return config


def read_detector_config(path: str | os.PathLike) -> DetectorConfig:
    """Read a ``detector.json``; raise :class:`ConfigError` naming the file and the problem."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: detector config not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not a readable JSON detector config ({exc})") from None
    return detector_from_dict(data, where=str(path))


def write_detector_config(path: str | os.PathLike, config: DetectorConfig, *,
                          calibration: dict[str, Any] | None = None) -> Path:
    """Write ``config`` (plus its hash and, optionally, how it was calibrated) as JSON, atomically."""
    extra = {"calibration": calibration} if calibration is not None else {}
    path = Path(path)
    write_json_atomic(path, {**config.to_dict(), "config_hash": config.config_hash(), **extra})
    return path


def detector_config_path(model_source: str | os.PathLike) -> Path:
    """Where the default detector settings of a model (folder, ``.tflite`` or shipped name) live."""
    from kws.model import resolve_model_files

    tflite, _ = resolve_model_files(model_source)
    return tflite.parent / DETECTOR_FILE


def model_detector_config(model_source: str | os.PathLike) -> DetectorConfig:
    """The model's stored ``detector.json``, or the defaults when it has none."""
    path = detector_config_path(model_source)
    if not path.is_file():
        return DetectorConfig()
    return read_detector_config(path)


def probability_to_int8(probability: float, scale: float = 1 / 256, zero_point: int = -128) -> int:
    """int8 score of ``probability`` for an output quantized with ``scale``/``zero_point``.

    ``zero_point + round(probability / scale)`` (half away from zero), clamped to -128..128
    (128: never reached).
    """
    value = float(probability)
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"threshold probability must be in 0..1, got {probability!r}")
    steps = value / scale
    rounded = int(np.floor(steps + 0.5))
    return max(-128, min(THRESHOLD_NEVER, zero_point + rounded))


def parse_thresholds(items: Sequence[str], labels: Sequence[str], *, scale: float = 1 / 256,
                     zero_point: int = -128) -> dict[str, int]:
    """``["yes=0.8", ...]`` (probabilities) -> ``{"yes": 77, ...}`` (int8 units)."""
    out: dict[str, int] = {}
    for item in items:
        label, sep, value = item.partition("=")
        if not sep or not label:
            raise ConfigError(f"--threshold {item!r}: expected LABEL=PROBABILITY, e.g. yes=0.8")
        if label not in labels:
            raise ConfigError(f"--threshold {item!r}: the model has no label {label!r} (labels: {', '.join(labels)})")
        try:
            probability = float(value)
        except ValueError:
            raise ConfigError(f"--threshold {item!r}: {value!r} is not a number") from None
        try:
            out[label] = probability_to_int8(probability, scale, zero_point)
        except ConfigError as exc:
            raise ConfigError(f"--threshold {item!r}: {exc}") from None
    return out


class Detection(NamedTuple):
    """A keyword found in a stream."""

    label: str
    time_s: float
    """When the detection fires: end of the last frame of the inference window, in seconds from
    the start of the stream."""
    score: int
    """Smoothed int8 score of the label when it fired."""


def refractory_frames(config: DetectorConfig, frontend: FrontendConfig) -> int:
    """``ceil(refractory_ms / hop_ms)``."""
    return -(-config.refractory_ms // frontend.hop_ms)


class Detector:
    """Stateful integer detector: feed the int8 scores of each inference, get detections.

    Parameters
    ----------
    config : DetectorConfig
    labels : sequence of str
        The model's labels, in score order; every label named in ``config`` must be one of them.
    frontend : FrontendConfig
        For the hop (refractory time, timestamps) and the window length.
    """

    def __init__(self, config: DetectorConfig, labels: Sequence[str], frontend: FrontendConfig):
        self.config = config
        self.labels = tuple(labels)
        self.frontend = frontend
        unknown = sorted({k for k, _ in config.thresholds_int8} - set(self.labels))
        if unknown:
            raise ConfigError(f"DetectorConfig: thresholds for unknown label(s) {unknown}; "
                              f"model labels: {', '.join(self.labels)}")
        if config.inference_period_ms % frontend.hop_ms:
            raise ConfigError(f"DetectorConfig: inference_period_ms {config.inference_period_ms} is not a multiple "
                              f"of the front end's hop ({frontend.hop_ms} ms)")
        self.thresholds = np.array([THRESHOLD_NEVER if label in config.ignored_labels else config.threshold_for(label)
                                    for label in self.labels], dtype=np.int32)
        self.refractory_frames = refractory_frames(config, frontend)
        self.reset()

    def reset(self) -> None:
        """Forget the score history, the hit counters and the refractory state."""
        n = len(self.labels)
        self._history = np.zeros((self.config.smoothing_inferences, n), dtype=np.int32)
        self._sum = np.zeros(n, dtype=np.int32)
        self._count = 0
        self._next = 0
        self._counters = np.zeros(n, dtype=np.int32)
        self._last_fire: int | None = None
        self.smoothed = np.full(n, -128, dtype=np.int32)

    def time_s(self, frame_index: int) -> float:
        """End of frame ``frame_index`` in seconds."""
        f = self.frontend
        return (frame_index * f.hop_samples + f.window_samples) / f.sample_rate_hz

    def process(self, scores: np.ndarray, frame_index: int) -> list[Detection]:
        """Take the int8 scores of the inference whose window ends at ``frame_index``.

        Parameters
        ----------
        scores : np.ndarray [shape=(n_labels,), int8]
        frame_index : int, index of the last frame of the window (increasing)

        Returns
        -------
        list of Detection (zero or one)
        """
        u = np.asarray(scores, dtype=np.int32) + 128
        if u.shape != (len(self.labels),):
            raise ValueError(f"expected {len(self.labels)} scores, got shape {u.shape}")
        slot = self._next
        if self._count == self.config.smoothing_inferences:
            self._sum -= self._history[slot]
        else:
            self._count += 1
        self._history[slot] = u
        self._sum += u
        self._next = (slot + 1) % self.config.smoothing_inferences
        count = self._count
        self.smoothed = (self._sum + count // 2) // count - 128
        blocked = self._last_fire is not None and frame_index - self._last_fire < self.refractory_frames
        if blocked:
            self._counters[:] = 0
            return []
        hits = self.smoothed >= self.thresholds
        self._counters = np.where(hits, np.minimum(self._counters + 1, self.config.min_consecutive_hits), 0)
        ready = self._counters >= self.config.min_consecutive_hits
        if not ready.any():
            return []
        candidates = np.where(ready, self.smoothed, -1 << 20)
        best = int(np.argmax(candidates))
        self._counters[:] = 0
        self._last_fire = frame_index
        return [Detection(self.labels[best], self.time_s(frame_index), int(self.smoothed[best]))]


def smooth_scores(scores: np.ndarray, smoothing_inferences: int) -> np.ndarray:
    """The detector's smoothed scores for a whole sequence, ``[shape=(n, n_labels), int32]``.

    Parameters
    ----------
    scores : np.ndarray [shape=(n, n_labels), int8], in inference order, from a reset
    """
    u = np.asarray(scores, dtype=np.int64) + 128
    n = len(u)
    cumulative = np.concatenate([np.zeros((1, u.shape[1]), np.int64), np.cumsum(u, axis=0)])
    ends = np.arange(1, n + 1)
    starts = np.maximum(ends - smoothing_inferences, 0)
    sums = cumulative[ends] - cumulative[starts]
    counts = (ends - starts)[:, None]
    return ((sums + counts // 2) // counts - 128).astype(np.int32)


def replay(smoothed: np.ndarray, frames: np.ndarray, config: DetectorConfig, labels: Sequence[str],
           frontend: FrontendConfig, thresholds: np.ndarray | None = None) -> list[tuple[int, int, int]]:
    """The detections :class:`Detector` makes on a recorded sequence, without stepping every inference.

    Parameters
    ----------
    smoothed : np.ndarray [shape=(n, n_labels), int32], from :func:`smooth_scores`
    frames : np.ndarray [shape=(n,), int], last frame of each inference window
    thresholds : np.ndarray [shape=(n_labels,)], optional
        int8 thresholds per label overriding ``config`` (ignored labels: :data:`THRESHOLD_NEVER`).

    Returns
    -------
    list of (inference index, label index, smoothed score)
    """
    labels = tuple(labels)
    if thresholds is None:
        thresholds = Detector(config, labels, frontend).thresholds
    need = config.min_consecutive_hits
    hits = smoothed >= np.asarray(thresholds)[None, :]
    n = len(smoothed)
    if n == 0 or not hits.any():
        return []
    # run[i, l]: consecutive hits of label l ending at inference i
    idx = np.arange(n)[:, None]
    last_miss = np.maximum.accumulate(np.where(hits, -1, idx), axis=0)
    run = idx - last_miss
    candidates = np.flatnonzero((run >= need).any(axis=1))
    refractory = refractory_frames(config, frontend)
    frames = np.asarray(frames, dtype=np.int64)
    out: list[tuple[int, int, int]] = []
    unblocked_from = 0  # first inference whose counters count (after the last detection's refractory)
    for i in candidates:
        if i < unblocked_from:
            continue
        counters = np.minimum(run[i], i - unblocked_from + 1)
        ready = counters >= need
        if not ready.any():
            continue
        best = int(np.argmax(np.where(ready, smoothed[i], -1 << 20)))
        out.append((int(i), best, int(smoothed[i, best])))
        blocked_until = int(frames[i]) + refractory  # first frame not blocked
        unblocked_from = max(int(i) + 1, int(np.searchsorted(frames, blocked_until)))
    return out


__all__ = [
    "DETECTOR_FILE", "NON_KEYWORD_LABELS", "THRESHOLD_NEVER", "Detection", "Detector", "DetectorConfig",
    "detector_config_path", "detector_from_dict", "model_detector_config", "parse_thresholds",
    "probability_to_int8", "read_detector_config", "refractory_frames", "replay", "smooth_scores",
    "validate_detector", "write_detector_config",
]
