"""The clip decision rule: the top label, unless it is a keyword the model is not sure of.

A plain argmax calls every one-second clip something, and on sound it has never heard (music,
engines, birds) that something is often a command. With a minimum keyword score, a clip whose
top label is a keyword scoring below it is given the best non-keyword label (``_silence_`` or
``_unknown_``) instead: the model answers only when sure, as the streaming detector does with
its thresholds. The same rule serves int8 scores (``min_score`` in int8 units) and float
probabilities (``min_score`` a probability).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

#: Labels that are not keywords: a clip "called a command" is one decided as any other label.
NON_KEYWORD_PREFIX = "_"


def keyword_mask(labels: Sequence[str]) -> np.ndarray:
    """``True`` for the keyword labels (every label not starting with ``_``)."""
    return np.array([not label.startswith(NON_KEYWORD_PREFIX) for label in labels], dtype=bool)


def decide(scores: np.ndarray, is_keyword: np.ndarray, min_keyword_score: float | None = None) -> np.ndarray:
    """Decided label index per row of ``scores`` ``[n, n_labels]`` (first index on ties).

    ``min_keyword_score`` ``None`` gives the plain argmax. Otherwise a row whose top label is a
    keyword scoring below ``min_keyword_score`` is decided as its best non-keyword label; with no
    non-keyword label the argmax stands.
    """
    scores = np.asarray(scores)
    top = np.argmax(scores, axis=1)
    if min_keyword_score is None or scores.shape[0] == 0 or is_keyword.all():
        return top
    lowest = np.iinfo(scores.dtype).min if np.issubdtype(scores.dtype, np.integer) else -np.inf
    best_other = np.argmax(np.where(is_keyword, lowest, scores), axis=1)
    unsure = is_keyword[top] & (scores[np.arange(len(top)), top] < min_keyword_score)
    return np.where(unsure, best_other, top)


def probability_to_score_int8(probability: float, scale: float, zero_point: int) -> int:
    """The lowest int8 score whose probability ``scale * (q - zero_point)`` is ``>= probability``."""
    return int(np.clip(np.ceil(probability / scale + zero_point - 1e-9), -128, 128))
