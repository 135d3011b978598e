"""The integer MFCC front end: batch functions and the streaming ``Frontend``.

int16 PCM -> frames -> Q15 Hann window -> block-floating-point normalisation
-> fixed-point real FFT -> magnitude (integer square root) -> Q15 mel filters
-> integer log2 -> DCT-II -> int16 MFCC (Q8.7) -> int8 features.

Batch and streaming paths call the same :func:`mfcc_from_frames`, so they are
bit-identical by construction; the tests still check random chunkings.
"""

from __future__ import annotations

import numpy as np

from kws.config import FrontendConfig, n_frames
from kws.errors import AudioError
from kws.fixedpoint import as_int64, bit_length, isqrt_floor, round_shift_right, saturate, shift_by
from kws.frontend.dct import apply_dct
from kws.frontend.fft import complex_fft, real_fft_bins
from kws.frontend.logarithm import log2_q16
from kws.frontend.mel import apply_mel
from kws.frontend.tables import LOG2_FRAC_BITS, FrontendTables, tables

DEFAULT_CONFIG = FrontendConfig()


def check_pcm(pcm: np.ndarray, source: str = "pcm") -> np.ndarray:
    """Require 1-D int16 PCM; raise :class:`AudioError` saying what is wrong."""
    pcm = np.asarray(pcm)
    if pcm.dtype != np.int16:
        raise AudioError(f"{source}: the front end takes int16 PCM, got {pcm.dtype} (use kws.audio.read_audio)")
    if pcm.ndim != 1:
        raise AudioError(f"{source}: expected mono 1-D PCM, got shape {pcm.shape}")
    return pcm


def frame_signal(pcm: np.ndarray, config: FrontendConfig) -> np.ndarray:
    """Complete frames of ``pcm`` (no padding). Returns [shape=(frames, window_samples), int16] (a view)."""
    count = n_frames(config, pcm.size)
    if count == 0:
        return np.zeros((0, config.window_samples), dtype=np.int16)
    windows = np.lib.stride_tricks.sliding_window_view(pcm, config.window_samples)
    return windows[: (count - 1) * config.hop_samples + 1 : config.hop_samples]


def window_and_normalise(frames: np.ndarray, t: FrontendTables) -> tuple[np.ndarray, np.ndarray]:
    """Apply the Q15 window and shift each frame so its peak has ``block_norm_bits`` bits.

    Returns
    -------
    windowed : np.ndarray [shape=(frames, window_samples), int64], |value| <= 2**block_norm_bits
    shift_bits : np.ndarray [shape=(frames,), int64], the left shift e applied (negative = right)
    """
    windowed = as_int64(frames) * as_int64(t.window_q15)  # |x * w| < 2**30
    peak = np.abs(windowed).max(axis=1) if windowed.shape[1] else np.zeros(len(windowed), np.int64)
    shift_bits = t.block_norm_bits - bit_length(peak)
    return shift_by(windowed, shift_bits[:, None]), shift_bits


def spectrum_magnitude(windowed: np.ndarray, t: FrontendTables) -> np.ndarray:
    """|2 X[k]| for the used bins, as integers. Returns [shape=(frames, n_bins_used), int64]."""
    n_frames_, width = windowed.shape
    padded = np.zeros((n_frames_, t.config.fft_size), dtype=np.int64)
    padded[:, :width] = windowed
    z_re, z_im = complex_fft(padded[:, 0::2], padded[:, 1::2], as_int64(t.fft_cos_q30), as_int64(t.fft_sin_q30),
                             t.fft_bitrev)
    x_re, x_im = real_fft_bins(z_re, z_im, t.used_bins, as_int64(t.split_cos_q30), as_int64(t.split_sin_q30))
    return isqrt_floor(x_re * x_re + x_im * x_im)  # < 2**61 before the root


def log_mel(mel: np.ndarray, shift_bits: np.ndarray, t: FrontendTables) -> np.ndarray:
    """log2(float mel + 2**log_floor_log2) in Q16, from integer mel energies and frame shifts."""
    scale_log2 = t.mel_scale_log2 + shift_bits[:, None]
    floor = np.left_shift(np.int64(1), scale_log2 + t.config.log_floor_log2)
    return log2_q16(mel + floor, t.log2_table_q16) - (scale_log2 << LOG2_FRAC_BITS)


def mfcc_from_frames(frames: np.ndarray, config: FrontendConfig = DEFAULT_CONFIG) -> np.ndarray:
    """Integer MFCC of complete frames.

    Parameters
    ----------
    frames : np.ndarray [shape=(frames, window_samples), int16]

    Returns
    -------
    np.ndarray [shape=(frames, n_mfcc), int16], Q(mfcc_frac_bits)
    """
    t = tables(config)
    if len(frames) == 0:
        return np.zeros((0, config.n_mfcc), dtype=np.int16)
    windowed, shift_bits = window_and_normalise(frames, t)
    magnitude = spectrum_magnitude(windowed, t)
    mel = apply_mel(magnitude, t.first_bin, t.mel_band_start, t.mel_band_n_bins, t.mel_weights_q15)
    return apply_dct(log_mel(mel, shift_bits, t), t.dct_q15, t.mfcc_shift)


def quantize_features(mfcc_q: np.ndarray, config: FrontendConfig = DEFAULT_CONFIG) -> np.ndarray:
    """int16 MFCC -> int8 features: ``saturate(round(mfcc_q / 2**feature_shift_bits) + zero_point)``."""
    scaled = round_shift_right(mfcc_q, config.feature_shift_bits) + config.feature_zero_point
    return saturate(scaled, 8)


def dequantize_features(features: np.ndarray, config: FrontendConfig = DEFAULT_CONFIG) -> np.ndarray:
    """int8 features -> real MFCC values (float32), for plots and float training only."""
    return ((np.asarray(features, np.float32) - config.feature_zero_point) * config.feature_scale).astype(np.float32)


def compute_mfcc(pcm: np.ndarray, config: FrontendConfig = DEFAULT_CONFIG) -> np.ndarray:
    """Integer MFCC of a whole clip. Returns [shape=(frames, n_mfcc), int16] Q(mfcc_frac_bits)."""
    return mfcc_from_frames(frame_signal(check_pcm(pcm), config), config)


def compute_features(pcm: np.ndarray, config: FrontendConfig = DEFAULT_CONFIG) -> np.ndarray:
    """int8 features of a whole clip. Returns [shape=(frames, n_mfcc), int8]."""
    return quantize_features(compute_mfcc(pcm, config), config)


def compute_features_many(clips: list[np.ndarray], config: FrontendConfig = DEFAULT_CONFIG,
                          frames_per_call: int = 256) -> list[np.ndarray]:
    """int8 features of many clips, vectorised across clips (identical to :func:`compute_features`).

    Returns a list of [shape=(frames_i, n_mfcc), int8] arrays, one per clip.
    """
    framed = [frame_signal(check_pcm(pcm, f"clip {i}"), config) for i, pcm in enumerate(clips)]
    counts = [len(f) for f in framed]
    if sum(counts) == 0:
        return [np.zeros((0, config.n_mfcc), np.int8) for _ in clips]
    all_frames = np.concatenate(framed)
    parts = [mfcc_from_frames(all_frames[i : i + frames_per_call], config)
             for i in range(0, len(all_frames), frames_per_call)]
    features = quantize_features(np.concatenate(parts), config)
    return np.split(features, np.cumsum(counts)[:-1])


class Frontend:
    """Streaming front end: feed int16 chunks of any size, get the int8 frames they complete.

    ``process`` returns exactly the frames :func:`compute_features` would give
    for the concatenated input, whatever the chunking.
    """

    def __init__(self, config: FrontendConfig = DEFAULT_CONFIG):
        self.config = config
        tables(config)  # build (and validate) the tables up front, not on the first chunk
        self.reset()

    def reset(self) -> None:
        """Forget buffered samples; the next sample starts a new frame."""
        self._pending = np.zeros(0, dtype=np.int16)

    def process_mfcc(self, pcm_chunk: np.ndarray) -> np.ndarray:
        """Like :meth:`process` but returns int16 MFCC [shape=(new_frames, n_mfcc)]."""
        chunk = check_pcm(pcm_chunk, "audio chunk")
        buffer = np.concatenate([self._pending, chunk])
        frames = frame_signal(buffer, self.config)
        consumed = len(frames) * self.config.hop_samples
        self._pending = buffer[consumed:].copy()
        return mfcc_from_frames(frames, self.config)

    def process(self, pcm_chunk: np.ndarray) -> np.ndarray:
        """Append ``pcm_chunk`` [shape=(n,), int16]; return new int8 frames [shape=(new_frames, n_mfcc)]."""
        return quantize_features(self.process_mfcc(pcm_chunk), self.config)
