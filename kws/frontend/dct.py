"""Integer DCT-II of the log-mel energies (ln 2 folded into the Q15 matrix)."""

from __future__ import annotations

import numpy as np

from kws.fixedpoint import as_int64, round_shift_right, saturate


def apply_dct(log2_mel_q16: np.ndarray, dct_q15: np.ndarray, shift: int) -> np.ndarray:
    """MFCC = DCT(ln mel), rounded to int16.

    Parameters
    ----------
    log2_mel_q16 : np.ndarray [shape=(frames, n_mel), int64], log2 of mel energy in Q16
    dct_q15 : np.ndarray [shape=(n_mfcc, n_mel), int16], ln(2) * DCT-II in Q15
    shift : int, right shift to the MFCC Q-format

    Returns
    -------
    np.ndarray [shape=(frames, n_mfcc), int16]
    """
    acc = as_int64(log2_mel_q16) @ as_int64(dct_q15).T  # |acc| < 2**22 * 2**15 * n_mel: int64 is ample
    return saturate(round_shift_right(acc, shift), 16)
