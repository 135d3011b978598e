"""When the device runs the model on a stream, and what it sees: the reference for ``kws_process``.

The front end produces a frame every hop; the model runs on the latest ``frames_per_clip``
frames once the window is first full and then every ``inference_period_frames`` frames. Frame
``f`` (0-based) is the last frame of a window when ``f = frames_per_clip - 1 + k * period``.
The generated C (``kws_process``) follows exactly this schedule; ``kws export --verify``
compares the two.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np

from kws.errors import ConfigError
from kws.frontend import compute_features
from kws.model import KwsModel


class Inference(NamedTuple):
    """One model run on a stream."""

    frame: int
    """Index of the last feature frame of the window (0-based, from the start of the stream)."""
    best: int
    """Index of the top score (first on ties)."""
    scores: np.ndarray
    """int8 scores [shape=(n_classes,)]."""


def inference_period_frames(period_ms: int, hop_ms: int) -> int:
    """Inference period in hops; it must be a whole, positive number of hops."""
    if period_ms <= 0 or period_ms % hop_ms:
        raise ConfigError(f"inference period {period_ms} ms must be a positive multiple of the hop ({hop_ms} ms)")
    return period_ms // hop_ms


def inference_frames(n_frames: int, frames_per_clip: int, period_frames: int) -> np.ndarray:
    """Indices of the frames after which the model runs, for a stream of ``n_frames`` frames."""
    return np.arange(frames_per_clip - 1, n_frames, period_frames, dtype=np.int64)


def stream_inferences(model: KwsModel, pcm: np.ndarray, period_frames: int) -> list[Inference]:
    """Every model run on a whole stream of int16 PCM, as the device computes them."""
    features = compute_features(pcm, model.frontend)
    window = model.frontend.frames_per_clip
    ends = inference_frames(len(features), window, period_frames)
    if len(ends) == 0:
        return []
    windows = np.stack([features[end - window + 1 : end + 1] for end in ends])
    scores = model.scores_batch(windows)
    return [Inference(int(end), int(np.argmax(row)), row) for end, row in zip(ends, scores)]


class Stream:
    """The device's whole streaming path on the host: front end, model on schedule, detector.

    The front end runs on every hop of audio; the model runs on the latest ``frames_per_clip``
    frames after frame ``f = frames_per_clip - 1 + k * period`` (exactly the runs of
    :func:`stream_inferences`, so the same as the C ``kws_process``); the detector takes each
    run's int8 scores. Output is identical for any chunking of the same audio.

    Parameters
    ----------
    model : KwsModel
    detector_config : DetectorConfig, optional
        Default: the model's stored ``detector.json`` (defaults when it has none).
    frontend : object with ``process(pcm) -> int8 frames`` and ``reset()``, optional
        Default: the integer reference :class:`kws.frontend.Frontend`; a bit-exact native one
        (:class:`kws.frontend.native.NativeStreamingFrontend`) may be passed for speed.
    record_scores : bool
        Keep every inference's frame index and int8 scores in :attr:`frames` / :attr:`scores`
        (for threshold sweeps).
    """

    def __init__(self, model: KwsModel, detector_config=None, *, frontend=None, record_scores: bool = False):
        from kws.detector import Detector, model_detector_config
        from kws.frontend import Frontend

        self.model = model
        self.detector_config = detector_config if detector_config is not None else model_detector_config(model.source)
        self.period_frames = inference_period_frames(self.detector_config.inference_period_ms, model.frontend.hop_ms)
        self.detector = Detector(self.detector_config, model.labels, model.frontend)
        self.frontend = frontend if frontend is not None else Frontend(model.frontend)
        self.window = model.frontend.frames_per_clip
        self.record_scores = record_scores
        self.reset()

    def reset(self) -> None:
        """Start a new stream: no buffered audio or frames, frame count 0, detector reset."""
        self.frontend.reset()
        self.detector.reset()
        self._frames = np.zeros((0, self.model.frontend.n_mfcc), dtype=np.int8)
        self.n_frames = 0
        """Frames produced so far."""
        self.model_seconds = 0.0
        """Wall time spent in the model interpreter since the last reset (for speed reports)."""
        self.last_scores: np.ndarray | None = None
        """int8 scores of the latest inference (None before the first)."""
        self._frame_log: list[np.ndarray] = []
        self._score_log: list[np.ndarray] = []

    @property
    def samples_seen(self) -> int:
        """Samples consumed by complete frames (a multiple of the hop once frames exist)."""
        return self.n_frames * self.model.frontend.hop_samples

    def process(self, pcm_chunk: np.ndarray) -> list:
        """Feed int16 PCM [shape=(n,)] of any length; return the detections it completes."""
        new = self.frontend.process(pcm_chunk)
        if len(new) == 0:
            return []
        first = self.n_frames  # stream index of new[0]
        buffer = np.concatenate([self._frames, new]) if len(self._frames) else new
        offset = first - len(self._frames)  # stream index of buffer[0]
        self.n_frames += len(new)
        ends = inference_frames(self.n_frames, self.window, self.period_frames)
        ends = ends[ends >= first]
        detections = []
        for end in ends:
            local = int(end) - offset
            started = time.perf_counter()
            scores = self.model.scores(buffer[local - self.window + 1 : local + 1])
            self.model_seconds += time.perf_counter() - started
            self.last_scores = scores
            if self.record_scores:
                self._frame_log.append(np.int64(end))
                self._score_log.append(scores)
            detections.extend(self.detector.process(scores, int(end)))
        self._frames = buffer[-(self.window - 1):].copy() if self.window > 1 else buffer[:0].copy()
        return detections

    @property
    def frames(self) -> np.ndarray:
        """Last frame index of every recorded inference [shape=(n,), int64] (``record_scores``)."""
        return np.array(self._frame_log, dtype=np.int64)

    @property
    def scores(self) -> np.ndarray:
        """int8 scores of every recorded inference [shape=(n, n_labels)] (``record_scores``)."""
        if not self._score_log:
            return np.zeros((0, self.model.n_classes), dtype=np.int8)
        return np.stack(self._score_log)
