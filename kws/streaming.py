"""When the device runs the model on a stream, and what it sees: the reference for ``kws_process``.

The front end produces a frame every hop; the model runs on the latest ``frames_per_clip``
frames once the window is first full and then every ``inference_period_frames`` frames. Frame
``f`` (0-based) is the last frame of a window when ``f = frames_per_clip - 1 + k * period``.
The generated C (``kws_process``) follows exactly this schedule; ``kws export --verify``
compares the two.
"""

from __future__ import annotations

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
