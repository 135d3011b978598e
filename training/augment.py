"""Waveform and feature augmentation for keyword-spotting training.

Waveform functions operate on mono float32 audio in [-1, 1] at ``sample_rate``
(16 kHz by default) and never change the input array. SpecAugment operates on
the front end's int8 feature arrays ``[frames x n_mfcc]``. Every random choice
is drawn from an explicit :class:`numpy.random.Generator`, so the same seed
gives the same output.

The chain used for training (:func:`augment_waveform`) is, in order::

    speed perturbation -> pitch shift -> reverberation -> band limiting
        -> additive noise at an SNR -> gain -> time shift -> peak limit

This module is pure numpy/scipy (rate conversion goes through
:func:`kws.audio.resample`, i.e. soxr); it does not import TensorFlow.

Conventions
-----------
* Lengths are preserved unless a function says otherwise.
* SNRs are measured on the *active* part of the speech: the frames whose energy
  is within ``active_threshold_db`` of the loudest frame (see
  :func:`active_mask`), and the noise power over the same samples. A 0.4 s word
  in a 1 s window is therefore mixed at the SNR the word actually has.
* Nothing here clips silently: gains are limited to the available headroom
  and mixes are scaled down as a whole when their peak would exceed
  ``max_peak``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import scipy.signal

from kws.audio import resample
from kws.errors import AudioError, ConfigError

#: Speed of sound used by the image-source room model, in m/s.
SPEED_OF_SOUND_M_S = 343.0

#: Natural-log amplitude decay over one RT60: 60 dB of energy = 3 decades of amplitude.
_LN_1000 = math.log(1000.0)

#: Half-width (in samples) of the windowed-sinc fractional-delay taps.
_FRACTIONAL_DELAY_HALF_WIDTH = 16

#: Samples searched after the first significant tap for the direct-path peak (see reverberate).
_DIRECT_PEAK_SEARCH = 4

NoiseSampler = Callable[[int, np.random.Generator], np.ndarray]


# --------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------


def _as_audio(audio: np.ndarray, name: str = "audio") -> np.ndarray:
    """Return ``audio`` as a 1-D float32 array, raising :class:`AudioError` if unusable."""
    arr = np.asarray(audio)
    if arr.ndim != 1:
        raise AudioError(f"{name}: expected mono audio of shape (n,), got shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise AudioError(f"{name}: expected float audio, got dtype {arr.dtype}")
    arr = arr.astype(np.float32, copy=False)
    if not np.all(np.isfinite(arr)):
        bad = int(np.count_nonzero(~np.isfinite(arr)))
        raise AudioError(f"{name}: {bad} samples are NaN or infinite")
    return arr


def _check_sample_rate(sample_rate: int) -> int:
    if int(sample_rate) != sample_rate or sample_rate <= 0:
        raise AudioError(f"sample_rate must be a positive integer in Hz, got {sample_rate!r}")
    return int(sample_rate)


def _uniform(rng: np.random.Generator, value_range: tuple[float, float]) -> float:
    """One draw from ``[low, high]`` (returns ``low`` exactly when the range is empty)."""
    low, high = float(value_range[0]), float(value_range[1])
    if high <= low:
        return low
    return float(rng.uniform(low, high))


def _fit_length(audio: np.ndarray, n_samples: int) -> np.ndarray:
    """Centre-crop or symmetrically zero-pad ``audio`` to ``n_samples``."""
    n = audio.shape[0]
    if n == n_samples:
        return audio
    if n > n_samples:
        start = (n - n_samples) // 2
        return audio[start : start + n_samples]
    out = np.zeros(n_samples, dtype=audio.dtype)
    start = (n_samples - n) // 2
    out[start : start + n] = audio
    return out


def _peak(audio: np.ndarray) -> float:
    return float(np.max(np.abs(audio))) if audio.size else 0.0


def _limit_peak(audio: np.ndarray, max_peak: float) -> np.ndarray:
    """Scale ``audio`` down (never up) so that its peak is at most ``max_peak``."""
    peak = _peak(audio)
    if peak > max_peak:
        audio = audio * np.float32(max_peak / peak)
    return audio.astype(np.float32, copy=False)


# --------------------------------------------------------------------------------------
# time shift and gain
# --------------------------------------------------------------------------------------


def time_shift(
    audio: np.ndarray, max_shift_ms: float, rng: np.random.Generator, *, sample_rate: int = 16000
) -> np.ndarray:
    """Shift audio by a random whole number of samples, filling with zeros.

    Parameters
    ----------
    audio : np.ndarray [shape=(n,), float32]
    max_shift_ms : float
        Largest shift in milliseconds; the shift is drawn uniformly from
        ``[-max_shift_ms, +max_shift_ms]`` (positive = later, i.e. delayed).
    rng : np.random.Generator
    sample_rate : int
        Sample rate in Hz.

    Returns
    -------
    np.ndarray [shape=(n,), float32]
        A new array; samples shifted out are dropped, the gap is zeros.
    """
    audio = _as_audio(audio)
    sample_rate = _check_sample_rate(sample_rate)
    if max_shift_ms < 0:
        raise AudioError(f"max_shift_ms must be >= 0, got {max_shift_ms}")
    max_shift = int(round(max_shift_ms * sample_rate / 1000.0))
    shift = int(rng.integers(-max_shift, max_shift + 1)) if max_shift > 0 else 0
    return shift_samples(audio, shift)


def shift_samples(audio: np.ndarray, shift: int) -> np.ndarray:
    """Shift ``audio`` by ``shift`` samples (positive = delay), zero fill, same length.

    Parameters
    ----------
    audio : np.ndarray [shape=(n,), float32]
    shift : int
        Shift in samples.

    Returns
    -------
    np.ndarray [shape=(n,), float32]
    """
    audio = _as_audio(audio)
    n = audio.shape[0]
    out = np.zeros(n, dtype=np.float32)
    if abs(shift) >= n:
        return out
    if shift >= 0:
        out[shift:] = audio[: n - shift]
    else:
        out[: n + shift] = audio[-shift:]
    return out


def headroom_db(audio: np.ndarray, max_peak: float = 1.0) -> float:
    """Largest gain (dB) that keeps the peak of ``audio`` at or below ``max_peak``.

    Parameters
    ----------
    audio : np.ndarray [shape=(n,), float32]
    max_peak : float
        Allowed peak amplitude (linear, full scale = 1.0).

    Returns
    -------
    float
        ``20 log10(max_peak / peak)``; ``inf`` for silent audio, negative when the
        audio already exceeds ``max_peak``.
    """
    peak = _peak(_as_audio(audio))
    if peak == 0.0:
        return math.inf
    return 20.0 * math.log10(max_peak / peak)


def scale_to_rms_dbfs(audio: np.ndarray, rms_dbfs: float) -> np.ndarray:
    """``audio`` (floats in [-1, 1]) scaled to an RMS level of ``rms_dbfs``, clipped to [-1, 1]; silence stays
    silence. The dtype of ``audio`` is kept."""
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))
    if rms <= 0.0:
        return np.zeros_like(audio)
    return np.clip(audio * (10.0 ** (rms_dbfs / 20.0) / rms), -1.0, 1.0)


def apply_gain_db(
    audio: np.ndarray, gain_db: float, *, max_peak: float = 1.0, on_clip: str = "limit"
) -> np.ndarray:
    """Apply a gain in dB without clipping.

    Parameters
    ----------
    audio : np.ndarray [shape=(n,), float32]
    gain_db : float
        Requested gain in dB (positive = louder).
    max_peak : float
        Allowed output peak amplitude.
    on_clip : {"limit", "raise"}
        What to do when the requested gain would push the peak above
        ``max_peak``: ``"limit"`` reduces the gain to the available headroom
        (:func:`headroom_db`, use it to report how much was lost), ``"raise"``
        raises :class:`AudioError`.

    Returns
    -------
    np.ndarray [shape=(n,), float32]
    """
    audio = _as_audio(audio)
    if on_clip not in ("limit", "raise"):
        raise AudioError(f"on_clip must be 'limit' or 'raise', got {on_clip!r}")
    headroom = headroom_db(audio, max_peak)
    if gain_db > headroom:
        if on_clip == "raise":
            raise AudioError(
                f"gain of {gain_db:.2f} dB would clip: only {headroom:.2f} dB of headroom below peak {max_peak}"
            )
        gain_db = headroom
    scale = 10.0 ** (gain_db / 20.0)
    out = (audio.astype(np.float64) * scale).astype(np.float32)
    # float32 rounding can land a hair above max_peak; pull it back.
    return _limit_peak(out, max_peak)


def random_gain(
    audio: np.ndarray,
    gain_db_range: tuple[float, float],
    rng: np.random.Generator,
    *,
    max_peak: float = 1.0,
) -> np.ndarray:
    """Apply a gain drawn uniformly from ``gain_db_range`` (dB), limited to the headroom.

    Parameters
    ----------
    audio : np.ndarray [shape=(n,), float32]
    gain_db_range : (float, float)
        ``(low_db, high_db)``.
    rng : np.random.Generator
    max_peak : float
        Allowed output peak; positive gains are reduced so it is never exceeded.

    Returns
    -------
    np.ndarray [shape=(n,), float32]
    """
    return apply_gain_db(audio, _uniform(rng, gain_db_range), max_peak=max_peak, on_clip="limit")


# --------------------------------------------------------------------------------------
# noise at a speech-referenced SNR
# --------------------------------------------------------------------------------------


def active_mask(
    speech: np.ndarray,
    *,
    sample_rate: int = 16000,
    frame_ms: float = 10.0,
    active_threshold_db: float = 30.0,
) -> np.ndarray:
    """Samples belonging to the active (voiced) part of ``speech``.

    The signal is cut into non-overlapping frames of ``frame_ms``; a frame is
    active when its mean energy is within ``active_threshold_db`` of the loudest
    frame. The last partial frame is judged on its own samples.

    Parameters
    ----------
    speech : np.ndarray [shape=(n,), float32]
    sample_rate : int
        Sample rate in Hz.
    frame_ms : float
        Frame length in milliseconds.
    active_threshold_db : float
        Frames quieter than the loudest frame by more than this are inactive.

    Returns
    -------
    np.ndarray [shape=(n,), bool]
        All False for silent input.
    """
    speech = _as_audio(speech, "speech")
    sample_rate = _check_sample_rate(sample_rate)
    frame = max(1, int(round(frame_ms * sample_rate / 1000.0)))
    n = speech.shape[0]
    if n == 0:
        return np.zeros(0, dtype=bool)
    n_frames = -(-n // frame)
    padded = np.zeros(n_frames * frame, dtype=np.float64)
    padded[:n] = speech
    sums = np.sum(padded.reshape(n_frames, frame) ** 2, axis=1)
    counts = np.full(n_frames, frame, dtype=np.float64)
    counts[-1] = n - (n_frames - 1) * frame
    energy = sums / counts
    loudest = float(np.max(energy))
    if loudest <= 0.0:
        return np.zeros(n, dtype=bool)
    active_frames = energy >= loudest * 10.0 ** (-active_threshold_db / 10.0)
    return np.repeat(active_frames, frame)[:n]


def measure_snr_db(
    speech: np.ndarray,
    noise: np.ndarray,
    *,
    sample_rate: int = 16000,
    frame_ms: float = 10.0,
    active_threshold_db: float = 30.0,
) -> float:
    """SNR in dB of ``speech`` against ``noise``, measured over the active speech.

    Speech power is the mean square over :func:`active_mask` samples; the noise
    power is the mean square of ``noise`` over the same samples.

    Parameters
    ----------
    speech, noise : np.ndarray [shape=(n,), float32]
        Same length.
    sample_rate, frame_ms, active_threshold_db
        As in :func:`active_mask`.

    Returns
    -------
    float
        SNR in dB (``inf`` when the noise is zero over the active part).

    Raises
    ------
    AudioError
        Different lengths, or silent speech (no active part).
    """
    speech = _as_audio(speech, "speech")
    noise = _as_audio(noise, "noise")
    speech_power, noise_power = _active_powers(speech, noise, sample_rate, frame_ms, active_threshold_db)
    if speech_power == 0.0:
        raise AudioError("speech is silent: SNR is undefined")
    if noise_power == 0.0:
        return math.inf
    return 10.0 * math.log10(speech_power / noise_power)


def _active_powers(
    speech: np.ndarray, noise: np.ndarray, sample_rate: int, frame_ms: float, active_threshold_db: float
) -> tuple[float, float]:
    if speech.shape != noise.shape:
        raise AudioError(f"speech and noise must have the same length, got {speech.shape[0]} and {noise.shape[0]}")
    mask = active_mask(speech, sample_rate=sample_rate, frame_ms=frame_ms, active_threshold_db=active_threshold_db)
    if not np.any(mask):
        return 0.0, 0.0
    speech_power = float(np.mean(speech[mask].astype(np.float64) ** 2))
    noise_power = float(np.mean(noise[mask].astype(np.float64) ** 2))
    return speech_power, noise_power


def scale_noise_to_snr(
    speech: np.ndarray,
    noise: np.ndarray,
    snr_db: float,
    *,
    sample_rate: int = 16000,
    frame_ms: float = 10.0,
    active_threshold_db: float = 30.0,
) -> np.ndarray:
    """Scale ``noise`` so that ``speech`` over it has ``snr_db`` (see :func:`measure_snr_db`).

    Parameters
    ----------
    speech, noise : np.ndarray [shape=(n,), float32]
        Same length.
    snr_db : float
        Target SNR in dB, measured on the active speech.
    sample_rate, frame_ms, active_threshold_db
        As in :func:`active_mask`.

    Returns
    -------
    np.ndarray [shape=(n,), float32]
        The scaled noise.

    Raises
    ------
    AudioError
        Different lengths, silent speech, or noise that is zero over the active speech.
    """
    speech = _as_audio(speech, "speech")
    noise = _as_audio(noise, "noise")
    speech_power, noise_power = _active_powers(speech, noise, sample_rate, frame_ms, active_threshold_db)
    if speech_power == 0.0:
        raise AudioError("speech is silent: cannot mix noise at an SNR")
    if noise_power == 0.0:
        raise AudioError("noise is zero over the active speech: cannot reach the requested SNR")
    scale = math.sqrt(speech_power / (noise_power * 10.0 ** (snr_db / 10.0)))
    return (noise.astype(np.float64) * scale).astype(np.float32)


def mix_at_snr(
    speech: np.ndarray,
    noise: np.ndarray,
    snr_db: float,
    *,
    sample_rate: int = 16000,
    frame_ms: float = 10.0,
    active_threshold_db: float = 30.0,
    max_peak: float = 1.0,
) -> np.ndarray:
    """Add ``noise`` to ``speech`` at ``snr_db``, measured on the active speech.

    ``speech + scale_noise_to_snr(speech, noise, snr_db)``; when the peak of that
    sum exceeds ``max_peak`` the whole mix is scaled down (both parts by the same
    factor, so the SNR is unchanged).

    Parameters
    ----------
    speech : np.ndarray [shape=(n,), float32]
    noise : np.ndarray [shape=(n,), float32]
        Noise of the same length (any level; only its shape matters).
    snr_db : float
        Target SNR in dB.
    sample_rate, frame_ms, active_threshold_db
        As in :func:`active_mask`.
    max_peak : float
        Allowed output peak amplitude.

    Returns
    -------
    np.ndarray [shape=(n,), float32]

    Raises
    ------
    AudioError
        As :func:`scale_noise_to_snr`.
    """
    scaled = scale_noise_to_snr(
        speech,
        noise,
        snr_db,
        sample_rate=sample_rate,
        frame_ms=frame_ms,
        active_threshold_db=active_threshold_db,
    )
    mix = _as_audio(speech, "speech").astype(np.float64) + scaled
    return _limit_peak(mix.astype(np.float32), max_peak)


# --------------------------------------------------------------------------------------
# speed, time stretch, pitch
# --------------------------------------------------------------------------------------


def speed_perturb(
    audio: np.ndarray, factor: float, *, sample_rate: int = 16000, keep_length: bool = True
) -> np.ndarray:
    """Play ``audio`` ``factor`` times faster: duration / factor, every frequency x factor.

    Implemented by resampling (soxr VHQ via :func:`kws.audio.resample`) from
    ``round(sample_rate * factor)`` Hz to ``sample_rate`` Hz, so ``factor`` is
    effectively quantised to a multiple of ``1 / sample_rate``.

    Parameters
    ----------
    audio : np.ndarray [shape=(n,), float32]
    factor : float
        Speed factor (> 0); 1.1 = 10 % faster and higher.
    sample_rate : int
        Sample rate in Hz.
    keep_length : bool
        If True (default) the result is centre-cropped (factor < 1) or
        symmetrically zero-padded (factor > 1) back to ``n`` samples. If False
        the result has ``round(n / factor)`` samples.

    Returns
    -------
    np.ndarray [shape=(n,) or (round(n / factor),), float32]
    """
    audio = _as_audio(audio)
    sample_rate = _check_sample_rate(sample_rate)
    if not factor > 0:
        raise AudioError(f"speed factor must be > 0, got {factor}")
    n = audio.shape[0]
    rate_in_hz = int(round(sample_rate * factor))
    out = resample(audio, rate_in_hz, sample_rate) if n else audio.copy()
    target = n if keep_length else int(round(n * sample_rate / rate_in_hz))
    if not keep_length and out.shape[0] != target:
        out = out[:target] if out.shape[0] > target else np.pad(out, (0, target - out.shape[0]))
    elif keep_length:
        out = _fit_length(out, n)
    return np.ascontiguousarray(out, dtype=np.float32)


def time_stretch(
    audio: np.ndarray,
    stretch: float,
    *,
    sample_rate: int = 16000,
    frame_ms: float = 20.0,
    tolerance_ms: float = 5.0,
) -> np.ndarray:
    """Change duration by ``stretch`` while keeping pitch (WSOLA).

    Waveform-similarity overlap-add: Hann frames of ``frame_ms`` are written at
    a fixed output hop of half a frame; each is read from the input near its
    nominal position (output position / ``stretch``), shifted by up to
    ``tolerance_ms`` to the offset whose waveform best continues the previous
    frame (maximum cross-correlation), which avoids phase cancellation.

    Parameters
    ----------
    audio : np.ndarray [shape=(n,), float32]
    stretch : float
        Duration ratio (> 0); 2.0 = twice as long.
    sample_rate : int
        Sample rate in Hz.
    frame_ms : float
        Analysis/synthesis frame length in milliseconds.
    tolerance_ms : float
        Largest offset searched around the nominal read position, in milliseconds.

    Returns
    -------
    np.ndarray [shape=(round(n * stretch),), float32]
    """
    audio = _as_audio(audio)
    sample_rate = _check_sample_rate(sample_rate)
    if not stretch > 0:
        raise AudioError(f"stretch must be > 0, got {stretch}")
    n = audio.shape[0]
    out_len = int(round(n * stretch))
    if n == 0 or out_len == 0:
        return np.zeros(out_len, dtype=np.float32)
    frame = max(4, 2 * int(round(frame_ms * sample_rate / 2000.0)))
    hop_out = frame // 2
    hop_in = hop_out / stretch
    tol = max(0, int(round(tolerance_ms * sample_rate / 1000.0)))
    window = np.hanning(frame + 1)[:-1]  # periodic Hann: sums to 1 at 50 % overlap

    n_frames = out_len // hop_out + 2
    # Input padded with `tol` zeros in front (negative read offsets) and enough behind.
    last_read = int(math.ceil((n_frames - 1) * hop_in)) + 2 * tol + hop_out + frame
    x = np.zeros(tol + max(n, last_read) + 1, dtype=np.float64)
    x[tol : tol + n] = audio

    out = np.zeros(n_frames * hop_out + frame, dtype=np.float64)
    weight = np.zeros_like(out)
    prev = 0  # read position (unpadded coordinates) of the previous frame
    for k in range(n_frames):
        nominal = int(round(k * hop_in))
        if k == 0 or tol == 0:
            pos = nominal
        else:
            natural = x[tol + prev + hop_out : tol + prev + hop_out + frame]
            lo = nominal - tol  # may be negative: the front padding covers it
            region = x[tol + lo : tol + lo + frame + 2 * tol]
            if np.any(natural) and np.any(region):
                corr = np.correlate(region, natural, mode="valid")
                pos = lo + int(np.argmax(corr))
            else:
                pos = nominal
        segment = x[tol + pos : tol + pos + frame]
        start = k * hop_out
        out[start : start + frame] += window * segment
        weight[start : start + frame] += window
        prev = pos
    nonzero = weight > 1e-8
    out[nonzero] /= weight[nonzero]
    return out[:out_len].astype(np.float32)


def pitch_shift(
    audio: np.ndarray,
    semitones: float,
    *,
    sample_rate: int = 16000,
    frame_ms: float = 20.0,
    tolerance_ms: float = 5.0,
) -> np.ndarray:
    """Shift pitch by ``semitones`` and keep the duration.

    The audio is first time-stretched by the pitch ratio ``2 ** (semitones / 12)``
    with :func:`time_stretch` (WSOLA, pitch kept), then resampled back to the
    original duration with :func:`speed_perturb`, which scales every frequency
    by the ratio.

    Parameters
    ----------
    audio : np.ndarray [shape=(n,), float32]
    semitones : float
        Pitch change in semitones (positive = higher).
    sample_rate : int
        Sample rate in Hz.
    frame_ms, tolerance_ms : float
        WSOLA settings, see :func:`time_stretch`.

    Returns
    -------
    np.ndarray [shape=(n,), float32]
    """
    audio = _as_audio(audio)
    sample_rate = _check_sample_rate(sample_rate)
    if semitones == 0 or audio.shape[0] == 0:
        return audio.copy()
    ratio = 2.0 ** (semitones / 12.0)
    stretched = time_stretch(
        audio, ratio, sample_rate=sample_rate, frame_ms=frame_ms, tolerance_ms=tolerance_ms
    )
    shifted = speed_perturb(stretched, ratio, sample_rate=sample_rate, keep_length=False)
    n = audio.shape[0]
    if shifted.shape[0] >= n:
        return np.ascontiguousarray(shifted[:n], dtype=np.float32)
    return np.pad(shifted, (0, n - shifted.shape[0])).astype(np.float32)


# --------------------------------------------------------------------------------------
# room reverberation
# --------------------------------------------------------------------------------------


def exponential_decay_rir(
    rt60_s: float,
    sample_rate: int,
    rng: np.random.Generator,
    *,
    predelay_ms: float = 0.0,
    direct_to_reverb_db: float = 0.0,
    length_s: Optional[float] = None,
) -> np.ndarray:
    """Synthetic room impulse response: a direct-path impulse plus a decaying noise tail.

    The tail is Gaussian noise under the amplitude envelope
    ``exp(-ln(1000) * t / rt60_s)``, i.e. its energy falls by 60 dB in
    ``rt60_s`` seconds. The direct path is a unit impulse at sample 0 (so
    convolution does not delay the signal); the tail starts ``predelay_ms``
    after it (at the next sample when 0) and holds ``direct_to_reverb_db`` dB
    less energy than the direct path.

    Parameters
    ----------
    rt60_s : float
        Reverberation time in seconds (> 0).
    sample_rate : int
        Sample rate in Hz.
    rng : np.random.Generator
    predelay_ms : float
        Gap between the direct path and the start of the tail, in milliseconds.
    direct_to_reverb_db : float
        Direct-path energy over tail energy, in dB.
    length_s : float, optional
        RIR length in seconds; default ``1.5 * rt60_s`` (tail 90 dB down at the end)
        plus the pre-delay.

    Returns
    -------
    np.ndarray [shape=(round(length_s * sample_rate),), float32]
    """
    sample_rate = _check_sample_rate(sample_rate)
    if not rt60_s > 0:
        raise AudioError(f"rt60_s must be > 0, got {rt60_s}")
    if predelay_ms < 0:
        raise AudioError(f"predelay_ms must be >= 0, got {predelay_ms}")
    tail_start = max(1, int(round(predelay_ms * sample_rate / 1000.0)))
    if length_s is None:
        n_taps = tail_start + int(math.ceil(1.5 * rt60_s * sample_rate))
    else:
        n_taps = int(round(length_s * sample_rate))
    if n_taps < 1:
        raise AudioError(f"length_s gives an empty impulse response ({length_s} s)")
    rir = np.zeros(n_taps, dtype=np.float64)
    rir[0] = 1.0
    n_tail = n_taps - tail_start
    if n_tail > 0:
        t_s = np.arange(n_tail) / sample_rate
        tail = rng.standard_normal(n_tail) * np.exp(-_LN_1000 * t_s / rt60_s)
        tail_energy = float(np.sum(tail**2))
        if tail_energy > 0.0:
            tail *= math.sqrt(10.0 ** (-direct_to_reverb_db / 10.0) / tail_energy)
        rir[tail_start:] = tail
    return rir.astype(np.float32)


def image_source_rir(
    room_dims_m: tuple[float, float, float],
    source_pos_m: tuple[float, float, float],
    mic_pos_m: tuple[float, float, float],
    absorption: float | tuple[float, float, float, float, float, float],
    sample_rate: int,
    max_order: int,
    *,
    fractional_delay: bool = True,
    speed_of_sound_m_s: float = SPEED_OF_SOUND_M_S,
    length_s: Optional[float] = None,
) -> np.ndarray:
    """Room impulse response of a shoebox room by the image-source method (Allen & Berkley).

    Every image source up to ``max_order`` wall reflections contributes a tap at
    delay ``distance / speed_of_sound_m_s`` with amplitude
    ``(product of wall reflection coefficients) / distance`` (1/r spreading,
    distance in metres), where a wall's pressure reflection coefficient is
    ``sqrt(1 - absorption)``. The direct path therefore has amplitude
    ``1 / distance``. Taps are placed at the nearest sample, or spread with a
    Hann-windowed sinc (half-width 16 samples) for fractional delays.

    Parameters
    ----------
    room_dims_m : (float, float, float)
        Room size (x, y, z) in metres.
    source_pos_m, mic_pos_m : (float, float, float)
        Positions inside the room in metres.
    absorption : float or 6 floats
        Energy absorption coefficient(s) in [0, 1]: one for every wall, or per
        wall in the order (x=0, x=Lx, y=0, y=Ly, z=0, z=Lz).
    sample_rate : int
        Sample rate in Hz.
    max_order : int
        Largest total number of reflections of an image source (0 = direct path only).
    fractional_delay : bool
        Windowed-sinc taps (True) or nearest-sample taps (False).
    speed_of_sound_m_s : float
        Speed of sound in m/s.
    length_s : float, optional
        RIR length in seconds; default: just long enough for the latest image.

    Returns
    -------
    np.ndarray [shape=(n_taps,), float32]
    """
    sample_rate = _check_sample_rate(sample_rate)
    dims = np.asarray(room_dims_m, dtype=np.float64)
    src = np.asarray(source_pos_m, dtype=np.float64)
    mic = np.asarray(mic_pos_m, dtype=np.float64)
    for name, vec in (("room_dims_m", dims), ("source_pos_m", src), ("mic_pos_m", mic)):
        if vec.shape != (3,) or not np.all(np.isfinite(vec)):
            raise AudioError(f"{name} must be three finite numbers (x, y, z), got {vec.tolist()}")
    if np.any(dims <= 0):
        raise AudioError(f"room_dims_m must be positive, got {dims.tolist()}")
    for name, vec in (("source_pos_m", src), ("mic_pos_m", mic)):
        if np.any(vec < 0) or np.any(vec > dims):
            raise AudioError(f"{name} {vec.tolist()} is outside the room {dims.tolist()}")
    alpha = np.asarray(absorption, dtype=np.float64)
    if alpha.ndim == 0:
        alpha = np.full(6, float(alpha))
    if alpha.shape != (6,) or np.any(alpha < 0) or np.any(alpha > 1):
        raise AudioError(f"absorption must be one or six values in [0, 1], got {np.asarray(absorption).tolist()}")
    if int(max_order) != max_order or max_order < 0:
        raise AudioError(f"max_order must be a non-negative integer, got {max_order}")
    max_order = int(max_order)
    if not speed_of_sound_m_s > 0:
        raise AudioError(f"speed_of_sound_m_s must be > 0, got {speed_of_sound_m_s}")
    beta = np.sqrt(1.0 - alpha).reshape(3, 2)  # [axis, (near wall, far wall)]

    # Per axis: image index m in [-N, N], mirror flag q in {0, 1}.
    # Image coordinate (1 - 2q) * s + 2 m L; reflections off the near wall |m - q|, far wall |m|.
    m = np.arange(-max_order, max_order + 1)
    q = np.array([0, 1])
    mm, qq = np.meshgrid(m, q, indexing="ij")
    mm = mm.ravel()
    qq = qq.ravel()
    coords, near, far = [], [], []
    for axis in range(3):
        coords.append((1 - 2 * qq) * src[axis] + 2 * mm * dims[axis] - mic[axis])
        near.append(np.abs(mm - qq))
        far.append(np.abs(mm))
    n_axis = mm.size
    ix, iy, iz = np.meshgrid(np.arange(n_axis), np.arange(n_axis), np.arange(n_axis), indexing="ij")
    ix, iy, iz = ix.ravel(), iy.ravel(), iz.ravel()
    order = near[0][ix] + far[0][ix] + near[1][iy] + far[1][iy] + near[2][iz] + far[2][iz]
    keep = order <= max_order
    ix, iy, iz = ix[keep], iy[keep], iz[keep]
    distance = np.sqrt(coords[0][ix] ** 2 + coords[1][iy] ** 2 + coords[2][iz] ** 2)
    gain = (
        beta[0, 0] ** near[0][ix]
        * beta[0, 1] ** far[0][ix]
        * beta[1, 0] ** near[1][iy]
        * beta[1, 1] ** far[1][iy]
        * beta[2, 0] ** near[2][iz]
        * beta[2, 1] ** far[2][iz]
    )
    distance = np.maximum(distance, 1.0 / sample_rate * speed_of_sound_m_s)  # source on the mic: 1 sample
    gain = gain / distance
    delay = distance / speed_of_sound_m_s * sample_rate  # in samples
    audible = gain != 0.0
    gain, delay = gain[audible], delay[audible]

    half = _FRACTIONAL_DELAY_HALF_WIDTH if fractional_delay else 0
    if length_s is None:
        n_taps = int(math.ceil(float(np.max(delay)))) + half + 1
    else:
        n_taps = int(round(length_s * sample_rate))
    if n_taps < 1:
        raise AudioError(f"length_s gives an empty impulse response ({length_s} s)")
    rir = np.zeros(n_taps, dtype=np.float64)
    if fractional_delay:
        offsets = np.arange(-half + 1, half + 1)
        index = np.floor(delay).astype(np.int64)[:, None] + offsets[None, :]
        x = index - delay[:, None]
        taps = np.sinc(x) * 0.5 * (1.0 + np.cos(np.pi * np.clip(x / half, -1.0, 1.0)))
        taps *= gain[:, None]
        inside = (index >= 0) & (index < n_taps)
        np.add.at(rir, index[inside], taps[inside])
    else:
        index = np.round(delay).astype(np.int64)
        inside = index < n_taps
        np.add.at(rir, index[inside], gain[inside])
    return rir.astype(np.float32)


def measure_rt60(
    rir: np.ndarray, sample_rate: int, *, start_db: float = -5.0, end_db: float = -25.0
) -> float:
    """Reverberation time of an impulse response by Schroeder backward integration.

    The energy decay curve ``EDC(t) = sum_{tau >= t} h(tau)^2`` is normalised
    to 0 dB; a straight line is fitted (least squares) to it between
    ``start_db`` and ``end_db`` and extrapolated to a 60 dB decay (T20 for the
    defaults, T30 with ``end_db=-35``).

    Parameters
    ----------
    rir : np.ndarray [shape=(n,), float]
    sample_rate : int
        Sample rate in Hz.
    start_db, end_db : float
        Fit range on the EDC, in dB (``0 > start_db > end_db``).

    Returns
    -------
    float
        RT60 in seconds.

    Raises
    ------
    AudioError
        The EDC never reaches ``end_db``, or the response is silent.
    """
    sample_rate = _check_sample_rate(sample_rate)
    h = np.asarray(rir, dtype=np.float64)
    if h.ndim != 1:
        raise AudioError(f"rir must have shape (n,), got {h.shape}")
    if not 0 > start_db > end_db:
        raise AudioError(f"need 0 > start_db > end_db, got {start_db} and {end_db}")
    edc = np.cumsum((h**2)[::-1])[::-1]
    if edc.size == 0 or edc[0] <= 0:
        raise AudioError("rir is silent: RT60 is undefined")
    with np.errstate(divide="ignore"):
        edc_db = 10.0 * np.log10(edc / edc[0])
    below_start = np.nonzero(edc_db <= start_db)[0]
    below_end = np.nonzero(edc_db <= end_db)[0]
    if below_end.size == 0:
        raise AudioError(f"rir decays by less than {-end_db} dB: cannot measure RT60")
    first, last = int(below_start[0]), int(below_end[0])
    if last - first < 2:
        raise AudioError("rir decays too abruptly to fit a slope")
    t_s = np.arange(first, last + 1) / sample_rate
    slope_db_per_s = np.polyfit(t_s, edc_db[first : last + 1], 1)[0]
    if slope_db_per_s >= 0:
        raise AudioError("rir energy does not decay")
    return float(-60.0 / slope_db_per_s)


def reverberate(
    audio: np.ndarray,
    rir: np.ndarray,
    *,
    align_to_direct: bool = True,
    direct_threshold: float = 0.1,
    max_peak: float = 1.0,
) -> np.ndarray:
    """Convolve ``audio`` with a room impulse response (FFT convolution).

    Parameters
    ----------
    audio : np.ndarray [shape=(n,), float32]
    rir : np.ndarray [shape=(m,), float32]
    align_to_direct : bool
        If True, the response is read from the direct path on, so the
        reverberant speech is not delayed by the source distance. The direct
        path is taken to be the first tap whose magnitude reaches
        ``direct_threshold`` times the largest one (not the largest itself:
        in symmetric rooms coinciding reflections can outweigh it), moved to
        the largest tap among it and the next 4 (the peak of a fractional
        delay rather than its leading side lobes).
    direct_threshold : float
        See ``align_to_direct``; in (0, 1].
    max_peak : float
        Allowed output peak; the output is scaled down if it would exceed it.

    Returns
    -------
    np.ndarray [shape=(n,), float32]
        The first ``n`` samples of the convolution, scaled to the energy
        (sum of squares) of ``audio``, then peak-limited to ``max_peak``.
        Silent input gives silence.
    """
    audio = _as_audio(audio)
    rir = _as_audio(rir, "rir")
    if rir.size == 0 or not np.any(rir):
        raise AudioError("rir is empty or all zeros")
    if not 0.0 < direct_threshold <= 1.0:
        raise AudioError(f"direct_threshold must be in (0, 1], got {direct_threshold}")
    if align_to_direct:
        magnitude = np.abs(rir)
        first = int(np.argmax(magnitude >= direct_threshold * magnitude.max()))
        # step over the leading side lobes of a fractional-delay tap onto its peak
        look = magnitude[first : first + _DIRECT_PEAK_SEARCH + 1]
        rir = rir[first + int(np.argmax(look)) :]
    n = audio.shape[0]
    if n == 0:
        return audio.copy()
    wet = scipy.signal.fftconvolve(audio.astype(np.float64), rir.astype(np.float64), mode="full")[:n]
    energy_in = float(np.sum(audio.astype(np.float64) ** 2))
    energy_out = float(np.sum(wet**2))
    if energy_in == 0.0 or energy_out == 0.0:
        return np.zeros(n, dtype=np.float32)
    wet *= math.sqrt(energy_in / energy_out)
    return _limit_peak(wet.astype(np.float32), max_peak)


# --------------------------------------------------------------------------------------
# band limiting
# --------------------------------------------------------------------------------------


def _filtfilt(audio: np.ndarray, sos: np.ndarray) -> np.ndarray:
    """Zero-phase filtering that also works on clips shorter than scipy's default padding."""
    n = audio.shape[0]
    if n < 2:
        return audio.copy()
    default_pad = 3 * (2 * sos.shape[0] + 1 - min((sos[:, 2] == 0).sum(), (sos[:, 5] == 0).sum()))
    out = scipy.signal.sosfiltfilt(sos, audio.astype(np.float64), padlen=min(default_pad, n - 1))
    return out.astype(np.float32)


def telephone_band(
    audio: np.ndarray,
    *,
    sample_rate: int = 16000,
    low_hz: float = 300.0,
    high_hz: float = 3400.0,
    order: int = 4,
) -> np.ndarray:
    """Band-limit to the telephone band (300-3400 Hz by default).

    A Butterworth band-pass of ``order`` (per edge) applied forwards and
    backwards (zero phase), so the edges are at -6 dB and the slopes are
    ``2 * order * 6`` dB per octave.

    Parameters
    ----------
    audio : np.ndarray [shape=(n,), float32]
    sample_rate : int
        Sample rate in Hz.
    low_hz, high_hz : float
        Band edges in Hz (``0 < low_hz < high_hz < sample_rate / 2``).
    order : int
        Butterworth order per edge.

    Returns
    -------
    np.ndarray [shape=(n,), float32]
    """
    audio = _as_audio(audio)
    sample_rate = _check_sample_rate(sample_rate)
    if not 0 < low_hz < high_hz < sample_rate / 2:
        raise AudioError(f"need 0 < low_hz < high_hz < {sample_rate / 2} Hz, got {low_hz} and {high_hz}")
    sos = scipy.signal.butter(order, [low_hz, high_hz], btype="bandpass", fs=sample_rate, output="sos")
    return _filtfilt(audio, sos)


def _peaking_sos(center_hz: float, gain_db: float, q: float, sample_rate: int) -> np.ndarray:
    """One biquad section (RBJ audio-EQ cookbook peaking filter) as an sos row."""
    a = 10.0 ** (gain_db / 40.0)
    w0 = 2.0 * math.pi * center_hz / sample_rate
    alpha = math.sin(w0) / (2.0 * q)
    cos_w0 = math.cos(w0)
    b = [1.0 + alpha * a, -2.0 * cos_w0, 1.0 - alpha * a]
    den = [1.0 + alpha / a, -2.0 * cos_w0, 1.0 - alpha / a]
    return np.array([[*(x / den[0] for x in b), 1.0, den[1] / den[0], den[2] / den[0]]])


def _high_shelf_sos(corner_hz: float, gain_db: float, sample_rate: int, slope: float = 0.5) -> np.ndarray:
    """One biquad section (RBJ audio-EQ cookbook high shelf) as an sos row."""
    a = 10.0 ** (gain_db / 40.0)
    w0 = 2.0 * math.pi * corner_hz / sample_rate
    cos_w0 = math.cos(w0)
    alpha = math.sin(w0) / 2.0 * math.sqrt((a + 1.0 / a) * (1.0 / slope - 1.0) + 2.0)
    two_sqrt_a_alpha = 2.0 * math.sqrt(a) * alpha
    b0 = a * ((a + 1.0) + (a - 1.0) * cos_w0 + two_sqrt_a_alpha)
    b1 = -2.0 * a * ((a - 1.0) + (a + 1.0) * cos_w0)
    b2 = a * ((a + 1.0) + (a - 1.0) * cos_w0 - two_sqrt_a_alpha)
    a0 = (a + 1.0) - (a - 1.0) * cos_w0 + two_sqrt_a_alpha
    a1 = 2.0 * ((a - 1.0) - (a + 1.0) * cos_w0)
    a2 = (a + 1.0) - (a - 1.0) * cos_w0 - two_sqrt_a_alpha
    return np.array([[b0 / a0, b1 / a0, b2 / a0, 1.0, a1 / a0, a2 / a0]])


def cheap_mic(
    audio: np.ndarray,
    rng: np.random.Generator,
    *,
    sample_rate: int = 16000,
    low_cut_hz_range: tuple[float, float] = (80.0, 400.0),
    high_cut_hz_range: tuple[float, float] = (3500.0, 7000.0),
    resonance_hz_range: tuple[float, float] = (1500.0, 4500.0),
    resonance_gain_db_range: tuple[float, float] = (0.0, 8.0),
    resonance_q_range: tuple[float, float] = (1.0, 4.0),
    tilt_db_range: tuple[float, float] = (-4.0, 4.0),
) -> np.ndarray:
    """Colour audio like a cheap microphone: random band limits, a resonance and a tilt.

    Draws, in this order, a high-pass cut-off, a low-pass cut-off, a resonance
    frequency, gain and Q, and a tilt; then filters with (all zero phase,
    forward-backward): a 2nd-order Butterworth high-pass and a 4th-order
    Butterworth low-pass (cut-offs at -6 dB), an RBJ peaking section, and a
    broad RBJ high shelf at 1 kHz whose gain is the tilt. The peaking and
    shelf gains are the total (two-pass) gains.

    Parameters
    ----------
    audio : np.ndarray [shape=(n,), float32]
    rng : np.random.Generator
    sample_rate : int
        Sample rate in Hz.
    low_cut_hz_range, high_cut_hz_range : (float, float)
        Ranges of the high-pass and low-pass cut-offs in Hz; the low-pass is
        capped at 0.45 * ``sample_rate``.
    resonance_hz_range, resonance_gain_db_range, resonance_q_range : (float, float)
        Ranges of the resonance centre (Hz), boost (dB) and quality factor.
    tilt_db_range : (float, float)
        Range of the treble shelf gain above ~1 kHz in dB (negative = duller).

    Returns
    -------
    np.ndarray [shape=(n,), float32]
    """
    audio = _as_audio(audio)
    sample_rate = _check_sample_rate(sample_rate)
    nyquist = sample_rate / 2.0
    low_cut_hz = _uniform(rng, low_cut_hz_range)
    high_cut_hz = min(_uniform(rng, high_cut_hz_range), 0.45 * sample_rate)
    resonance_hz = min(_uniform(rng, resonance_hz_range), 0.45 * sample_rate)
    resonance_gain_db = _uniform(rng, resonance_gain_db_range)
    resonance_q = _uniform(rng, resonance_q_range)
    tilt_db = _uniform(rng, tilt_db_range)
    if not 0 < low_cut_hz < high_cut_hz < nyquist:
        raise AudioError(f"cheap_mic: need 0 < low cut ({low_cut_hz} Hz) < high cut ({high_cut_hz} Hz) < Nyquist")
    if resonance_q <= 0:
        raise AudioError(f"cheap_mic: resonance Q must be > 0, got {resonance_q}")
    sections = [
        scipy.signal.butter(2, low_cut_hz, btype="highpass", fs=sample_rate, output="sos"),
        scipy.signal.butter(4, high_cut_hz, btype="lowpass", fs=sample_rate, output="sos"),
        _peaking_sos(resonance_hz, resonance_gain_db / 2.0, resonance_q, sample_rate),
        _high_shelf_sos(1000.0, tilt_db / 2.0, sample_rate),
    ]
    return _filtfilt(audio, np.vstack(sections))


# --------------------------------------------------------------------------------------
# SpecAugment on int8 features
# --------------------------------------------------------------------------------------


def spec_augment(
    features_int8: np.ndarray,
    rng: np.random.Generator,
    zero_point: int,
    n_time_masks: int = 2,
    max_time_mask_frames: int = 10,
    n_freq_masks: int = 2,
    max_freq_mask_coeffs: int = 2,
) -> np.ndarray:
    """SpecAugment time and frequency masking on quantized features.

    Each mask's width is drawn uniformly from ``[0, max]`` (clipped to the
    axis size) and its start uniformly among the positions where it fits;
    masked cells are set to ``zero_point``, the int8 code of the real value 0.
    Time masks are drawn first, then frequency masks; masks may overlap.

    Parameters
    ----------
    features_int8 : np.ndarray [shape=(frames, n_mfcc), int8]
    rng : np.random.Generator
    zero_point : int
        Fill value, in [-128, 127].
    n_time_masks : int
        Number of time masks (spanning all coefficients of some frames).
    max_time_mask_frames : int
        Largest time-mask width in frames.
    n_freq_masks : int
        Number of frequency masks (spanning all frames of some coefficients).
    max_freq_mask_coeffs : int
        Largest frequency-mask width in coefficients.

    Returns
    -------
    np.ndarray [shape=(frames, n_mfcc), int8]
        A new array; the input is unchanged.
    """
    feats = np.asarray(features_int8)
    if feats.dtype != np.int8:
        raise AudioError(f"spec_augment expects int8 features, got dtype {feats.dtype}")
    if feats.ndim != 2:
        raise AudioError(f"spec_augment expects features of shape (frames, n_mfcc), got {feats.shape}")
    if int(zero_point) != zero_point or not -128 <= zero_point <= 127:
        raise AudioError(f"zero_point must be an integer in [-128, 127], got {zero_point}")
    for name, value in (
        ("n_time_masks", n_time_masks),
        ("max_time_mask_frames", max_time_mask_frames),
        ("n_freq_masks", n_freq_masks),
        ("max_freq_mask_coeffs", max_freq_mask_coeffs),
    ):
        if int(value) != value or value < 0:
            raise AudioError(f"{name} must be a non-negative integer, got {value}")
    out = feats.copy()
    n_frames, n_coeffs = out.shape
    fill = np.int8(zero_point)
    for axis, count, max_width, size in (
        (0, n_time_masks, max_time_mask_frames, n_frames),
        (1, n_freq_masks, max_freq_mask_coeffs, n_coeffs),
    ):
        for _ in range(int(count)):
            width = int(rng.integers(0, min(int(max_width), size) + 1))
            start = int(rng.integers(0, size - width + 1))
            if axis == 0:
                out[start : start + width, :] = fill
            else:
                out[:, start : start + width] = fill
    return out


# --------------------------------------------------------------------------------------
# the training chain
# --------------------------------------------------------------------------------------


def _check_range(name: str, value_range: tuple[float, float], low: float | None = None, low_open: bool = False) -> None:
    if len(value_range) != 2:
        raise ConfigError(f"AugmentConfig.{name} must be a (low, high) pair, got {value_range!r}")
    lo, hi = float(value_range[0]), float(value_range[1])
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        raise ConfigError(f"AugmentConfig.{name} must be finite with low <= high, got {value_range!r}")
    if low is not None and (lo < low or (low_open and lo == low)):
        bound = "> " if low_open else ">= "
        raise ConfigError(f"AugmentConfig.{name} must be {bound}{low}, got {value_range!r}")


@dataclass(frozen=True, kw_only=True)
class AugmentConfig:
    """Probabilities and ranges of the waveform and feature augmentations.

    Every ``*_range`` is a ``(low, high)`` pair sampled uniformly; every
    ``*_probability`` is the chance that a step is applied to a clip.
    """

    sample_rate: int = 16000
    """Sample rate of the audio in Hz."""

    speed_probability: float = 0.3
    """Chance of speed perturbation (duration and pitch change together)."""

    speed_range: tuple[float, float] = (0.9, 1.1)
    """Range of speed factors (1.1 = 10 % faster); the clip length is kept."""

    pitch_probability: float = 0.3
    """Chance of a pitch shift that keeps the duration."""

    pitch_semitones_range: tuple[float, float] = (-2.0, 2.0)
    """Range of pitch shifts in semitones."""

    reverb_probability: float = 0.3
    """Chance of convolving with a generated room impulse response."""

    rt60_s_range: tuple[float, float] = (0.15, 0.8)
    """Range of reverberation times (seconds) of the exponential-decay RIRs."""

    direct_to_reverb_db_range: tuple[float, float] = (-3.0, 10.0)
    """Range of direct-to-reverberant energy ratios (dB) of the exponential-decay RIRs."""

    predelay_ms_range: tuple[float, float] = (0.0, 20.0)
    """Range of gaps (ms) between the direct path and the reverberant tail."""

    image_source_fraction: float = 0.3
    """Share of reverberated clips that use a shoebox image-source RIR instead of an exponential one."""

    room_dims_m_range: tuple[tuple[float, float, float], tuple[float, float, float]] = (
        (3.0, 3.0, 2.4),
        (8.0, 6.0, 3.5),
    )
    """Smallest and largest shoebox room (x, y, z) in metres for image-source RIRs."""

    absorption_range: tuple[float, float] = (0.2, 0.7)
    """Range of wall energy absorption coefficients for image-source RIRs."""

    image_source_max_order: int = 6
    """Largest reflection order of image-source RIRs."""

    band_limit_probability: float = 0.2
    """Chance of band limiting (telephone band or a cheap microphone)."""

    telephone_fraction: float = 0.5
    """Share of band-limited clips that get the telephone band; the rest get :func:`cheap_mic`."""

    noise_probability: float = 0.8
    """Chance of adding noise from the caller's noise sampler."""

    snr_db_range: tuple[float, float] = (0.0, 20.0)
    """Range of SNRs (dB), measured on the active speech (:func:`measure_snr_db`)."""

    babble_probability: float = 0.0
    """Share of the added noises that are other people's speech (the caller's babble sampler) instead
    of noise: a wake word is also spoken while others talk."""

    active_threshold_db: float = 30.0
    """Frames within this many dB of the loudest frame count as active speech for the SNR."""

    gain_probability: float = 1.0
    """Chance of a random gain."""

    gain_db_range: tuple[float, float] = (-10.0, 6.0)
    """Range of gains in dB; positive gains are limited to the available headroom."""

    time_shift_ms: float = 100.0
    """Largest random time shift in milliseconds (0 disables it)."""

    max_peak: float = 0.99
    """Largest absolute sample value of the output; louder results are scaled down."""

    spec_augment_probability: float = 0.5
    """Chance of SpecAugment masking of a feature array (:func:`augment_features`)."""

    n_time_masks: int = 2
    """Number of SpecAugment time masks."""

    max_time_mask_frames: int = 10
    """Largest SpecAugment time-mask width in frames."""

    n_freq_masks: int = 2
    """Number of SpecAugment frequency masks."""

    max_freq_mask_coeffs: int = 2
    """Largest SpecAugment frequency-mask width in MFCC coefficients."""

    def __post_init__(self) -> None:
        if int(self.sample_rate) != self.sample_rate or self.sample_rate <= 0:
            raise ConfigError(f"AugmentConfig.sample_rate must be a positive integer, got {self.sample_rate!r}")
        for name in (
            "speed_probability",
            "pitch_probability",
            "reverb_probability",
            "image_source_fraction",
            "band_limit_probability",
            "telephone_fraction",
            "noise_probability",
            "babble_probability",
            "gain_probability",
            "spec_augment_probability",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"AugmentConfig.{name} must be in [0, 1], got {value!r}")
        _check_range("speed_range", self.speed_range, low=0.0, low_open=True)
        _check_range("pitch_semitones_range", self.pitch_semitones_range)
        _check_range("rt60_s_range", self.rt60_s_range, low=0.0, low_open=True)
        _check_range("direct_to_reverb_db_range", self.direct_to_reverb_db_range)
        _check_range("predelay_ms_range", self.predelay_ms_range, low=0.0)
        _check_range("absorption_range", self.absorption_range, low=0.0)
        if self.absorption_range[1] > 1.0:
            raise ConfigError(f"AugmentConfig.absorption_range must lie in [0, 1], got {self.absorption_range!r}")
        if len(self.room_dims_m_range) != 2 or any(len(d) != 3 for d in self.room_dims_m_range):
            raise ConfigError(
                f"AugmentConfig.room_dims_m_range must be two (x, y, z) triples, got {self.room_dims_m_range!r}"
            )
        small, large = self.room_dims_m_range
        if any(not 1.0 <= s <= l for s, l in zip(small, large)):
            raise ConfigError(
                "AugmentConfig.room_dims_m_range needs 1 m <= smallest <= largest per axis, "
                f"got {self.room_dims_m_range!r}"
            )
        _check_range("snr_db_range", self.snr_db_range)
        _check_range("gain_db_range", self.gain_db_range)
        for name in (
            "image_source_max_order",
            "n_time_masks",
            "max_time_mask_frames",
            "n_freq_masks",
            "max_freq_mask_coeffs",
        ):
            value = getattr(self, name)
            if int(value) != value or value < 0:
                raise ConfigError(f"AugmentConfig.{name} must be a non-negative integer, got {value!r}")
        if not self.active_threshold_db > 0:
            raise ConfigError(f"AugmentConfig.active_threshold_db must be > 0, got {self.active_threshold_db!r}")
        if not self.time_shift_ms >= 0:
            raise ConfigError(f"AugmentConfig.time_shift_ms must be >= 0, got {self.time_shift_ms!r}")
        if not 0.0 < self.max_peak <= 1.0:
            raise ConfigError(f"AugmentConfig.max_peak must be in (0, 1], got {self.max_peak!r}")


def random_rir(config: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """Draw a room impulse response as configured.

    With probability ``config.image_source_fraction`` a shoebox image-source
    RIR (random room, absorption, and source/microphone at least 0.5 m from
    every wall); otherwise an exponential-decay RIR with random RT60,
    direct-to-reverberant ratio and pre-delay.

    Parameters
    ----------
    config : AugmentConfig
    rng : np.random.Generator

    Returns
    -------
    np.ndarray [shape=(n_taps,), float32]
    """
    sr = config.sample_rate
    if rng.random() < config.image_source_fraction:
        small, large = config.room_dims_m_range
        dims = tuple(_uniform(rng, (s, l)) for s, l in zip(small, large))
        margin = [min(0.5, d / 4.0) for d in dims]
        src = tuple(_uniform(rng, (m, d - m)) for m, d in zip(margin, dims))
        mic = tuple(_uniform(rng, (m, d - m)) for m, d in zip(margin, dims))
        absorption = _uniform(rng, config.absorption_range)
        return image_source_rir(dims, src, mic, absorption, sr, config.image_source_max_order)
    return exponential_decay_rir(
        _uniform(rng, config.rt60_s_range),
        sr,
        rng,
        predelay_ms=_uniform(rng, config.predelay_ms_range),
        direct_to_reverb_db=_uniform(rng, config.direct_to_reverb_db_range),
    )


def augment_waveform(
    audio: np.ndarray,
    config: AugmentConfig,
    rng: np.random.Generator,
    noise_sampler: Optional[NoiseSampler] = None,
    babble_sampler: Optional[NoiseSampler] = None,
) -> np.ndarray:
    """Apply the configured augmentation chain to one clip.

    Order: speed perturbation -> pitch shift -> reverberation -> band limiting
    (telephone band or cheap microphone) -> noise at a random SNR -> random
    gain -> random time shift -> peak limit to ``config.max_peak``. Each step
    is applied with its configured probability.

    Noise is skipped when ``noise_sampler`` is None, when the (augmented)
    speech is silent, or when the noise is zero over the active speech.

    Parameters
    ----------
    audio : np.ndarray [shape=(n,), float32]
        Mono audio in [-1, 1] at ``config.sample_rate``.
    config : AugmentConfig
    rng : np.random.Generator
        Source of every random choice; the same seed gives the same output.
    noise_sampler : callable, optional
        ``noise_sampler(n_samples, rng) -> np.ndarray [shape=(n_samples,), float32]``;
        any level, it is rescaled to the drawn SNR.
    babble_sampler : callable, optional
        Like ``noise_sampler``, for background speech; used for ``config.babble_probability`` of the
        noises added.

    Returns
    -------
    np.ndarray [shape=(n,), float32]
        Finite, with every sample in ``[-config.max_peak, config.max_peak]``.

    Raises
    ------
    AudioError
        Unusable input audio, or a noise sampler that returns the wrong shape
        or non-finite values.
    """
    audio = _as_audio(audio)
    n = audio.shape[0]
    sr = config.sample_rate
    out = audio.copy()
    if n == 0:
        return out

    if rng.random() < config.speed_probability:
        out = speed_perturb(out, _uniform(rng, config.speed_range), sample_rate=sr, keep_length=True)
    if rng.random() < config.pitch_probability:
        out = pitch_shift(out, _uniform(rng, config.pitch_semitones_range), sample_rate=sr)
    if rng.random() < config.reverb_probability:
        out = reverberate(out, random_rir(config, rng), max_peak=config.max_peak)
    if rng.random() < config.band_limit_probability:
        if rng.random() < config.telephone_fraction:
            out = telephone_band(out, sample_rate=sr)
        else:
            out = cheap_mic(out, rng, sample_rate=sr)
    if noise_sampler is not None and rng.random() < config.noise_probability:
        sampler = noise_sampler
        # drawn only when babble is on, so recipes without it keep their random sequence (and feature cache)
        if babble_sampler is not None and config.babble_probability > 0 and rng.random() < config.babble_probability:
            sampler = babble_sampler
        noise = _as_audio(sampler(n, rng), "noise_sampler output")
        if noise.shape[0] != n:
            raise AudioError(f"noise_sampler returned {noise.shape[0]} samples, asked for {n}")
        speech_power, noise_power = _active_powers(out, noise, sr, 10.0, config.active_threshold_db)
        if speech_power > 0.0 and noise_power > 0.0:
            out = mix_at_snr(
                out,
                noise,
                _uniform(rng, config.snr_db_range),
                sample_rate=sr,
                active_threshold_db=config.active_threshold_db,
                max_peak=config.max_peak,
            )
    if rng.random() < config.gain_probability:
        out = random_gain(out, config.gain_db_range, rng, max_peak=config.max_peak)
    if config.time_shift_ms > 0:
        out = time_shift(out, config.time_shift_ms, rng, sample_rate=sr)
    out = np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)
    return _limit_peak(out.astype(np.float32), config.max_peak)


def augment_features(
    features_int8: np.ndarray, config: AugmentConfig, rng: np.random.Generator, zero_point: int
) -> np.ndarray:
    """Apply SpecAugment with ``config.spec_augment_probability`` (else return a copy).

    Parameters
    ----------
    features_int8 : np.ndarray [shape=(frames, n_mfcc), int8]
    config : AugmentConfig
    rng : np.random.Generator
    zero_point : int
        The int8 code of the real value 0 in the feature format.

    Returns
    -------
    np.ndarray [shape=(frames, n_mfcc), int8]
    """
    if rng.random() < config.spec_augment_probability:
        return spec_augment(
            features_int8,
            rng,
            zero_point,
            n_time_masks=config.n_time_masks,
            max_time_mask_frames=config.max_time_mask_frames,
            n_freq_masks=config.n_freq_masks,
            max_freq_mask_coeffs=config.max_freq_mask_coeffs,
        )
    feats = np.asarray(features_int8)
    if feats.dtype != np.int8 or feats.ndim != 2:
        raise AudioError(
            f"augment_features expects int8 features of shape (frames, n_mfcc), got {feats.dtype} {feats.shape}"
        )
    return feats.copy()
