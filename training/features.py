"""Training features: augmented waveforms through the fixed-point front end, cached on disk.

Features are always computed by :mod:`kws.frontend` (the device's integer
arithmetic), never by a float library. Each example is cached as a small
``.npy`` file whose name is the hash of

    (audio content hash, front-end config hash, augmentation config hash, augmentation seed)

so a second training run, or a run that only changes the model, reads the
cache instead of recomputing. Work is spread over ``jobs`` processes with a
progress bar.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Sequence

import numpy as np

from kws.datasets.manifest import ClipRecord
from kws.audio import float_to_int16, int16_to_float, read_audio_float
from kws.config import FrontendConfig, config_hash
from kws.errors import AudioError
from kws.clips import fit_to_clip
from kws.fileio import atomic_path
from kws.frontend import compute_features
from kws.training.augment import AugmentConfig, augment_waveform, scale_to_rms_dbfs

SILENCE_PREFIX = "silence:"
"""Records whose path starts with this are generated ``_silence_`` examples, not files."""
#: A generated silence path may end in ``@LOW,HIGH``: its RMS level in dBFS is drawn from that range
#: (the spec is part of the path, so the feature cache tells the two kinds apart).
SILENCE_LEVEL_SEPARATOR = "@"
MUSIC_PREFIX = "music:"
"""Records whose path starts with this are generated synthetic music / tonal sounds
(``music:SEED:I@LOW,HIGH``, the RMS range in dBFS), labelled ``_silence_``."""
GENERATED_PREFIXES = (SILENCE_PREFIX, MUSIC_PREFIX)


def silence_level_suffix(rms_dbfs: Sequence[float]) -> str:
    return f"{SILENCE_LEVEL_SEPARATOR}{rms_dbfs[0]:g},{rms_dbfs[1]:g}" if rms_dbfs else ""


def silence_audio(path: str, bank, rng: np.random.Generator, n_samples: int, sample_rate_hz: int) -> np.ndarray:
    """The float audio of a generated ``_silence_`` example ``silence:SEED:I[@LOW,HIGH]``."""
    from kws.datasets.noise import make_silence_clip

    _, _, level = path.partition(SILENCE_LEVEL_SEPARATOR)
    if not level:
        return int16_to_float(make_silence_clip(bank, rng, duration_s=n_samples / sample_rate_hz))
    low_dbfs, high_dbfs = (float(v) for v in level.split(","))
    noise = int16_to_float(make_silence_clip(bank, rng, duration_s=n_samples / sample_rate_hz, gain_range=(1.0, 1.0)))
    return scale_to_rms_dbfs(noise, rng.uniform(low_dbfs, high_dbfs)).astype(np.float32)


def music_audio(path: str, rng: np.random.Generator, n_samples: int, sample_rate_hz: int) -> np.ndarray:
    """The float audio of a generated synthetic-music example ``music:SEED:I@LOW,HIGH``."""
    from kws.datasets.synthetic_music import synthetic_music

    _, _, level = path.partition(SILENCE_LEVEL_SEPARATOR)
    low_dbfs, high_dbfs = (float(v) for v in level.split(","))
    audio = synthetic_music(rng, n_samples, sample_rate_hz)
    return scale_to_rms_dbfs(audio, rng.uniform(low_dbfs, high_dbfs)).astype(np.float32)


@dataclasses.dataclass(frozen=True)
class FeatureJob:
    """One example to featurise: a clip (or generated silence) and its augmentation variant."""

    path: str
    variant: int
    """0 = the clean clip; 1.. = independently augmented copies."""
    seed: int
    """Base seed of the run; the example's own seed is derived from it, the audio and the variant."""


#: Training windows clips exactly as evaluation and the device-side tools do (one rule, one place).
window_around_speech = fit_to_clip


def audio_content_hash(path: str) -> str:
    """SHA-1 of a file's bytes (or of the generator spec for generated silence and music)."""
    if path.startswith(GENERATED_PREFIXES):
        return hashlib.sha1(path.encode()).hexdigest()
    digest = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def example_seed(base_seed: int, audio_hash: str, variant: int) -> int:
    """Augmentation seed of one example: stable across runs, distinct per clip and variant."""
    text = f"{base_seed}|{audio_hash}|{variant}"
    return int.from_bytes(hashlib.sha1(text.encode()).digest()[:8], "little")


def cache_key(audio_hash: str, frontend_hash: str, augment_hash: str, augment_seed: int | None) -> str:
    text = f"{audio_hash}|{frontend_hash}|{augment_hash}|{augment_seed}"
    return hashlib.sha1(text.encode()).hexdigest()


class FeatureCache:
    """A folder of ``<key[:2]>/<key>.npy`` int8 feature arrays."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npy"

    def get(self, key: str) -> np.ndarray | None:
        path = self.path(key)
        try:
            return np.load(path)
        except (FileNotFoundError, ValueError, OSError):
            return None  # missing or damaged entry: recompute it

    def put(self, key: str, features: np.ndarray) -> None:
        with atomic_path(self.path(key)) as tmp:
            with open(tmp, "wb") as f:
                np.save(f, features)


@dataclasses.dataclass
class _WorkerState:
    frontend: FrontendConfig
    augment: AugmentConfig
    augment_hash: str
    cache: FeatureCache
    noise_bank: object | None
    babble_bank: object | None


_STATE: _WorkerState | None = None


def _init_worker(frontend: FrontendConfig, augment: AugmentConfig, augment_hash: str, cache_root: str,
                 noise_names: Sequence[str] | None, babble_folders: Sequence[str] | None = None) -> None:
    global _STATE
    from kws.datasets.noise import NoiseBank, load_noise_recordings, load_speech_babble

    rate = frontend.sample_rate_hz
    bank = NoiseBank(load_noise_recordings(noise_names, sample_rate=rate)) if noise_names else None
    babble = NoiseBank(load_speech_babble(babble_folders, sample_rate=rate)) \
        if babble_folders and augment.babble_probability > 0 else None
    _STATE = _WorkerState(frontend, augment, augment_hash, FeatureCache(cache_root), bank, babble)


def _load_audio(job: FeatureJob, state: _WorkerState, audio_hash: str) -> np.ndarray:
    n_samples = state.frontend.clip_samples
    if job.path.startswith(SILENCE_PREFIX):
        if state.noise_bank is None:
            raise AudioError(f"{job.path}: silence examples need background noise (none loaded)")
        rng = np.random.default_rng(example_seed(job.seed, audio_hash, -1))
        return silence_audio(job.path, state.noise_bank, rng, n_samples, state.frontend.sample_rate_hz)
    if job.path.startswith(MUSIC_PREFIX):
        rng = np.random.default_rng(example_seed(job.seed, audio_hash, -1))
        return music_audio(job.path, rng, n_samples, state.frontend.sample_rate_hz)
    return window_around_speech(read_audio_float(job.path, state.frontend.sample_rate_hz), n_samples)


def _featurise(job: FeatureJob) -> tuple[np.ndarray | None, str | None]:
    """Worker: return (features, None) or (None, reason)."""
    state = _STATE
    assert state is not None, "worker not initialised"
    try:
        audio_hash = audio_content_hash(job.path)
        seed = example_seed(job.seed, audio_hash, job.variant) if job.variant else None
        key = cache_key(audio_hash, state.frontend.config_hash(), state.augment_hash if seed else "clean", seed)
        cached = state.cache.get(key)
        if cached is not None:
            return cached, None
        audio = _load_audio(job, state, audio_hash)
        if seed is not None:
            sampler = state.noise_bank.sample if state.noise_bank is not None else None
            babble = state.babble_bank.sample if state.babble_bank is not None else None
            audio = augment_waveform(audio, state.augment, np.random.default_rng(seed), noise_sampler=sampler,
                                     babble_sampler=babble)
        features = compute_features(float_to_int16(audio), state.frontend)
        state.cache.put(key, features)
        return features, None
    except (AudioError, OSError) as exc:
        return None, str(exc)


def augment_hash(augment: AugmentConfig, noise_names: Sequence[str] | None,
                 babble_folders: Sequence[str] | None = None) -> str:
    """Hash of everything that changes an augmented example besides its seed."""
    if not (augment.babble_probability and babble_folders):  # babble off changes nothing: keep earlier keys
        settings = config_hash(augment, omit=("babble_probability",))
        return hashlib.sha1(f"{settings}|{sorted(noise_names or [])}".encode()).hexdigest()[:12]
    speakers = sorted(Path(f).name for f in babble_folders)
    return hashlib.sha1(f"{config_hash(augment)}|{sorted(noise_names or [])}|{speakers}".encode()).hexdigest()[:12]


@dataclasses.dataclass
class FeatureSet:
    """Features of a list of jobs: int8 [n, frames, n_mfcc], and which jobs failed."""

    features: np.ndarray
    kept: list[int]
    """Indices (into the job list) of the examples in ``features``."""
    bad: list[tuple[str, str]]
    """(path, reason) of clips that could not be featurised."""


def featurise(jobs: Sequence[FeatureJob], *, frontend: FrontendConfig, augment: AugmentConfig,
              cache_dir: str | os.PathLike, noise_names: Sequence[str] | None, n_jobs: int = 2,
              description: str = "features", babble_folders: Sequence[str] | None = None) -> FeatureSet:
    """Featurise ``jobs`` (cached), in ``n_jobs`` processes, with a progress bar.

    ``babble_folders``: speaker folders whose speech is the background of ``augment.babble_probability``
    of the noisy examples."""
    from tqdm import tqdm

    init_args = (frontend, augment, augment_hash(augment, noise_names, babble_folders), str(cache_dir), noise_names,
                 babble_folders)
    results: list[tuple[np.ndarray | None, str | None]]
    chunk = max(1, min(64, len(jobs) // (8 * max(1, n_jobs)) or 1))
    if n_jobs <= 1 or len(jobs) < 64:
        _init_worker(*init_args)
        results = [_featurise(job) for job in tqdm(jobs, desc=description, unit="clip", leave=False)]
    else:
        with ProcessPoolExecutor(n_jobs, initializer=_init_worker, initargs=init_args) as pool:
            results = list(tqdm(pool.map(_featurise, jobs, chunksize=chunk), total=len(jobs), desc=description,
                                unit="clip", leave=False))
    kept = [i for i, (f, _) in enumerate(results) if f is not None]
    bad = [(jobs[i].path, reason) for i, (f, reason) in enumerate(results) if f is None]
    shape = (0, frontend.frames_per_clip, frontend.n_mfcc)
    features = np.stack([results[i][0] for i in kept]) if kept else np.zeros(shape, np.int8)
    return FeatureSet(features=features, kept=kept, bad=bad)


def jobs_for(records: Sequence[ClipRecord], variants: int, seed: int, *, include_clean: bool = True) -> list[FeatureJob]:
    """One clean job (variant 0) and ``variants`` augmented jobs per record."""
    first = 0 if include_clean else 1
    return [FeatureJob(r.path, v, seed) for r in records for v in range(first, variants + 1)]
