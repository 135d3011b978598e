"""Background noise: real recordings, generated colored noise, and a sampler.

Real noise comes from two shared folders (see ``shared/data/README.md``):

- ``background_noise/*.wav``: the six Speech Commands ``_background_noise_``
  files plus two household recordings, 16 kHz mono;
- ``ambient/*.ogg``: ambience and music at 24-48 kHz, mostly stereo.

Every noise is held as mono float32 at the front end's sample rate (16 kHz by
default): files are downmixed and resampled by
:func:`kws.audio.read_audio_float`. Real noises keep their recorded level.

Generated noise has a power spectrum ``S(f) ∝ 1 / f**exponent``: white
(exponent 0), pink (1, equal power per octave) and brown (2). It is made by
shaping the spectrum of seeded white Gaussian noise, then scaled to the asked
RMS (1.0 unless given).

:class:`NoiseBank` holds a set of noises and cuts random segments from them
with a :class:`numpy.random.Generator`; :func:`make_silence_clip` builds the
``_silence_`` class the standard Speech Commands way (a 1 s noise segment at
a random gain, TensorFlow ``input_data.py``).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from kws.datasets.paths import require_data_folder
from kws.audio import AUDIO_EXTENSIONS, float_to_int16, read_audio_float
from kws.errors import ConfigError, DataError

#: Spectral exponents of the generated noise colors: ``S(f) ∝ 1 / f**exponent``.
NOISE_EXPONENTS = {"white": 0.0, "pink": 1.0, "brown": 2.0}

#: Shared data folders holding noise.
BACKGROUND_NOISE_DIR = "background_noise"
AMBIENT_DIR = "ambient"

#: RMS given to generated noises added to a bank by default (-40 dBFS), near
#: the level of the Speech Commands white/pink noise files (RMS ≈ 0.003).
GENERATED_RMS = 0.01

#: Gain range of silence clips: uniform in [0, 1) on the noise's recorded level,
#: as TensorFlow's ``input_data.py`` does for the ``_silence_`` class.
SILENCE_GAIN_RANGE = (0.0, 1.0)


@dataclasses.dataclass(frozen=True, eq=False)
class Noise:
    """One noise signal."""

    name: str
    """Short name (file stem, or ``"pink"`` for generated noise)."""
    samples: np.ndarray
    """Mono audio ``[shape=(n,), float32]`` in [-1, 1] at ``sample_rate``."""
    sample_rate: int
    """Sample rate in Hz."""
    origin: str
    """File path, or ``"generated"``."""

    @property
    def duration_s(self) -> float:
        return self.samples.shape[0] / self.sample_rate

    @property
    def rms(self) -> float:
        return float(np.sqrt(np.mean(np.square(self.samples, dtype=np.float64))))


# --------------------------------------------------------------------------- #
# Generated noise
# --------------------------------------------------------------------------- #


def colored_noise(n_samples: int, rng: np.random.Generator, *, exponent: float, rms: float = 1.0) -> np.ndarray:
    """Gaussian noise with power spectrum ``∝ 1 / f**exponent``.

    White noise is drawn from ``rng``, its real FFT multiplied by
    ``f**(-exponent / 2)`` (the DC bin set to zero for ``exponent > 0``), and
    transformed back; the result is scaled to exactly ``rms``.

    Parameters
    ----------
    n_samples : int
        Length (at least 2).
    rng : np.random.Generator
    exponent : float
        0 white, 1 pink, 2 brown.
    rms : float
        Root-mean-square of the output.

    Returns
    -------
    np.ndarray [shape=(n_samples,), float32]
    """
    if n_samples < 2:
        raise ConfigError(f"n_samples={n_samples}: colored noise needs at least 2 samples")
    if rms < 0:
        raise ConfigError(f"rms={rms}: must be >= 0")
    white = rng.standard_normal(n_samples)
    if exponent == 0:
        shaped = white
    else:
        spectrum = np.fft.rfft(white)
        freqs = np.arange(spectrum.shape[0], dtype=np.float64)  # bin index ∝ frequency
        gain = np.zeros_like(freqs)
        gain[1:] = freqs[1:] ** (-exponent / 2.0)
        shaped = np.fft.irfft(spectrum * gain, n=n_samples)
    shaped = shaped - shaped.mean()
    current = np.sqrt(np.mean(shaped**2))
    return (shaped * (rms / current)).astype(np.float32)


def white_noise(n_samples: int, rng: np.random.Generator, *, rms: float = 1.0) -> np.ndarray:
    """White Gaussian noise ``[shape=(n_samples,), float32]`` with the given RMS."""
    return colored_noise(n_samples, rng, exponent=NOISE_EXPONENTS["white"], rms=rms)


def pink_noise(n_samples: int, rng: np.random.Generator, *, rms: float = 1.0) -> np.ndarray:
    """Pink noise (power ∝ 1/f) ``[shape=(n_samples,), float32]`` with the given RMS."""
    return colored_noise(n_samples, rng, exponent=NOISE_EXPONENTS["pink"], rms=rms)


def brown_noise(n_samples: int, rng: np.random.Generator, *, rms: float = 1.0) -> np.ndarray:
    """Brown noise (power ∝ 1/f²) ``[shape=(n_samples,), float32]`` with the given RMS."""
    return colored_noise(n_samples, rng, exponent=NOISE_EXPONENTS["brown"], rms=rms)


def generated_noises(
    duration_s: float,
    rng: np.random.Generator,
    *,
    colors: Iterable[str] = ("white", "pink", "brown"),
    rms: float = GENERATED_RMS,
    sample_rate: int = 16000,
) -> list[Noise]:
    """One generated :class:`Noise` per color, ``duration_s`` long, at ``rms``."""
    n_samples = int(round(duration_s * sample_rate))
    noises = []
    for color in colors:
        if color not in NOISE_EXPONENTS:
            raise ConfigError(f"noise color {color!r}: choose from {sorted(NOISE_EXPONENTS)}")
        samples = colored_noise(n_samples, rng, exponent=NOISE_EXPONENTS[color], rms=rms)
        noises.append(Noise(name=color, samples=samples, sample_rate=sample_rate, origin="generated"))
    return noises


# --------------------------------------------------------------------------- #
# Real noise
# --------------------------------------------------------------------------- #


def load_noise_file(path: str | os.PathLike, *, sample_rate: int = 16000) -> Noise:
    """Read one noise file as mono float32 at ``sample_rate`` (downmixed, resampled).

    Raises
    ------
    AudioError
        unreadable file (the message names it).
    """
    path = Path(path)
    samples = read_audio_float(path, sample_rate)
    return Noise(name=path.stem, samples=samples, sample_rate=sample_rate, origin=str(path))


def load_speech_babble(folders: Sequence[str | os.PathLike], *, sample_rate: int = 16000) -> list[Noise]:
    """Other people's speech as background: each speaker folder's audio files (sorted, recursively) joined
    into one :class:`Noise` named after the folder.

    Raises
    ------
    DataError
        a folder with no audio file.
    AudioError
        an unreadable file (named).
    """
    out = []
    for folder in map(Path, folders):
        files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)
        if not files:
            raise DataError(f"{folder}: no audio files to use as background speech")
        samples = np.concatenate([read_audio_float(f, sample_rate) for f in files]).astype(np.float32)
        out.append(Noise(name=folder.name, samples=samples, sample_rate=sample_rate, origin=str(folder)))
    return out


def load_noise_folder(
    folder: str | os.PathLike,
    *,
    sample_rate: int = 16000,
    names: Iterable[str] | None = None,
    min_duration_s: float = 1.0,
) -> list[Noise]:
    """Read every audio file directly inside ``folder`` as a :class:`Noise`.

    Parameters
    ----------
    folder : path
    sample_rate : int
        Target rate in Hz.
    names : iterable of str, optional
        Only these file names (with extension), e.g. ``["blanket_rain.ogg"]``.
    min_duration_s : float
        Files shorter than this are an error (too short to cut segments from).

    Returns
    -------
    list of Noise
        in file-name order.

    Raises
    ------
    DataError
        missing folder, no audio files, a requested name missing, or a file too short.
    AudioError
        an unreadable file.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: noise folder not found")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)
    if names is not None:
        wanted = list(names)
        missing = sorted(set(wanted) - {p.name for p in files})
        if missing:
            raise DataError(f"{folder}: noise files not found: {', '.join(missing)}")
        files = [p for p in files if p.name in set(wanted)]
    if not files:
        raise DataError(f"{folder}: no .wav/.flac/.ogg noise files")
    noises = [load_noise_file(p, sample_rate=sample_rate) for p in files]
    for noise in noises:
        if noise.duration_s < min_duration_s:
            raise DataError(f"{noise.origin}: noise is {noise.duration_s:.2f} s long, shorter than {min_duration_s} s")
    return noises


def load_background_noise(*, sample_rate: int = 16000) -> list[Noise]:
    """The shared ``background_noise/*.wav`` files (Speech Commands noise + household)."""
    return load_noise_folder(require_data_folder(BACKGROUND_NOISE_DIR), sample_rate=sample_rate)


def load_ambient(*, sample_rate: int = 16000, names: Iterable[str] | None = None) -> list[Noise]:
    """The shared ``ambient/*.ogg`` files, downmixed and resampled (all 19 take ~5 s to decode)."""
    return load_noise_folder(require_data_folder(AMBIENT_DIR), sample_rate=sample_rate, names=names)


# --------------------------------------------------------------------------- #
# Sampling
# --------------------------------------------------------------------------- #


class NoiseBank:
    """A set of noises to cut random segments from.

    Parameters
    ----------
    noises : sequence of Noise
        All at the same sample rate.
    weights : sequence of float, optional
        Relative probability of picking each noise; equal by default (as in
        TensorFlow's Speech Commands pipeline).
    """

    def __init__(self, noises: Sequence[Noise], *, weights: Sequence[float] | None = None):
        if not noises:
            raise DataError("NoiseBank needs at least one noise")
        rates = {n.sample_rate for n in noises}
        if len(rates) != 1:
            raise DataError(f"NoiseBank noises have different sample rates: {sorted(rates)} Hz")
        self.noises = list(noises)
        self.sample_rate = rates.pop()
        self._probabilities = self._normalise(weights)

    def _normalise(self, weights: Sequence[float] | None) -> np.ndarray:
        if weights is None:
            return np.full(len(self.noises), 1.0 / len(self.noises))
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (len(self.noises),) or np.any(w < 0) or w.sum() <= 0:
            raise ConfigError(f"weights must be {len(self.noises)} non-negative numbers, not all zero")
        return w / w.sum()

    @classmethod
    def from_shared_data(
        cls,
        *,
        sample_rate: int = 16000,
        ambient: bool = False,
        generated_s: float = 0.0,
        rng: np.random.Generator | None = None,
    ) -> "NoiseBank":
        """The shared background noise, plus ambient files and generated noise if asked.

        Parameters
        ----------
        sample_rate : int
        ambient : bool
            Add the ``ambient/*.ogg`` files (slower to load).
        generated_s : float
            If > 0, add white, pink and brown noise this long at :data:`GENERATED_RMS`.
        rng : np.random.Generator, optional
            For the generated noise; required when ``generated_s > 0``.
        """
        noises = load_background_noise(sample_rate=sample_rate)
        if ambient:
            noises += load_ambient(sample_rate=sample_rate)
        if generated_s > 0:
            if rng is None:
                raise ConfigError("generated_s > 0 needs an rng for reproducible noise")
            noises += generated_noises(generated_s, rng, sample_rate=sample_rate)
        return cls(noises)

    def __len__(self) -> int:
        return len(self.noises)

    @property
    def names(self) -> list[str]:
        return [n.name for n in self.noises]

    def pick(self, rng: np.random.Generator) -> Noise:
        """A noise drawn with the bank's weights."""
        return self.noises[int(rng.choice(len(self.noises), p=self._probabilities))]

    def segment(self, noise: Noise, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        """A random ``n_samples`` window of ``noise`` ``[shape=(n_samples,), float32]``.

        The start is uniform over every position that fits; a noise shorter
        than the request is looped from a random start.
        """
        if n_samples <= 0:
            raise ConfigError(f"n_samples={n_samples}: must be positive")
        samples = noise.samples
        length = samples.shape[0]
        if length >= n_samples:
            start = int(rng.integers(0, length - n_samples + 1))
            return samples[start : start + n_samples].copy()
        start = int(rng.integers(0, length))
        return np.take(samples, np.arange(start, start + n_samples) % length)

    def sample(self, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        """A random segment of a random noise ``[shape=(n_samples,), float32]``."""
        return self.segment(self.pick(rng), n_samples, rng)


def make_silence_clip(
    bank: NoiseBank,
    rng: np.random.Generator,
    *,
    duration_s: float = 1.0,
    gain_range: tuple[float, float] = SILENCE_GAIN_RANGE,
) -> np.ndarray:
    """A ``_silence_`` training example: a noise segment at a random gain.

    Follows the Speech Commands protocol (TensorFlow ``input_data.py``): pick
    a background noise file, cut a random ``duration_s`` window, multiply by a
    gain drawn uniformly from ``gain_range`` (relative to the recorded level),
    clip to [-1, 1].

    Parameters
    ----------
    bank : NoiseBank
        Usually the Speech Commands background noise (not music).
    rng : np.random.Generator
    duration_s : float
        Clip length in seconds.
    gain_range : (float, float)
        Low and high gain, ``0 <= low <= high``.

    Returns
    -------
    np.ndarray [shape=(round(duration_s * bank.sample_rate),), int16]
    """
    low, high = gain_range
    if not 0.0 <= low <= high:
        raise ConfigError(f"gain_range={gain_range}: need 0 <= low <= high")
    n_samples = int(round(duration_s * bank.sample_rate))
    gain = rng.uniform(low, high) if high > low else low
    clip = np.clip(bank.sample(n_samples, rng) * gain, -1.0, 1.0)
    return float_to_int16(clip)


# --------------------------------------------------------------------------- #
# Which recordings train and which validate
# --------------------------------------------------------------------------- #

#: Folders (under $KWS_DATA) of noise and ambience recordings used for ``_silence_``, noise
#: augmentation and the noisy / ambience validation sets.
NOISE_FOLDERS = (BACKGROUND_NOISE_DIR, AMBIENT_DIR)


def noise_recording_names(folders: Sequence[str] = NOISE_FOLDERS) -> list[str]:
    """``folder/file`` names of every noise recording in ``folders`` (sorted)."""
    names = []
    for folder in folders:
        root = require_data_folder(folder)
        names += [f"{folder}/{p.name}" for p in sorted(root.iterdir())
                  if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS]
    return names


def noise_folds(names: Sequence[str], n_folds: int, *, salt: str = "") -> dict[str, int]:
    """Assign noise recordings to ``n_folds`` folds, balanced: sorted by a hash of the name, dealt
    round-robin (so every fold holds recordings, unlike a plain hash of a few dozen names)."""
    import hashlib

    order = sorted(names, key=lambda n: hashlib.sha1((salt + n).encode()).hexdigest())
    return {name: i % n_folds for i, name in enumerate(order)}


def load_noise_recordings(names: Sequence[str], *, sample_rate: int = 16000) -> list[Noise]:
    """Load ``folder/file`` recordings (as listed by :func:`noise_recording_names`); the Noise names
    are the ``folder/file`` names."""
    noises = []
    for name in names:
        folder, _, file = name.partition("/")
        noise = load_noise_file(require_data_folder(folder) / file, sample_rate=sample_rate)
        noises.append(dataclasses.replace(noise, name=name))
    return noises

