"""Synthetic music and tonal sound: the generated non-speech `_silence_` examples."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from kws.datasets.synthetic_music import KINDS, synthetic_music

RATE_HZ = 16000


def spectral_flatness(audio: np.ndarray) -> float:
    """Geometric over arithmetic mean of the power spectrum: ~0.56 for white noise, ~0 for a few tones."""
    power = np.abs(np.fft.rfft(audio * np.hanning(audio.size))) ** 2 + 1e-12
    return float(np.exp(np.mean(np.log(power))) / np.mean(power))


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_deterministic_full_scale_and_finite(kind):
    first = synthetic_music(np.random.default_rng(3), RATE_HZ, RATE_HZ, kind)
    again = synthetic_music(np.random.default_rng(3), RATE_HZ, RATE_HZ, kind)
    other = synthetic_music(np.random.default_rng(4), RATE_HZ, RATE_HZ, kind)
    assert first.shape == (RATE_HZ,) and np.isfinite(first).all()
    assert np.max(np.abs(first)) == pytest.approx(1.0)
    assert np.array_equal(first, again) and not np.array_equal(first, other)


@pytest.mark.parametrize("kind", ["melody", "chords", "beeps", "siren"])
def test_tonal_kinds_are_pitched_unlike_noise(kind):
    noise_flatness = spectral_flatness(np.random.default_rng(0).standard_normal(RATE_HZ))
    flatness = np.median([spectral_flatness(synthetic_music(np.random.default_rng(s), RATE_HZ, RATE_HZ, kind))
                          for s in range(8)])
    assert noise_flatness > 0.4 and flatness < 0.05


def test_unknown_kind_is_named():
    with pytest.raises(ValueError, match="unknown kind of synthetic sound 'opera'"):
        synthetic_music(np.random.default_rng(0), RATE_HZ, RATE_HZ, "opera")


def test_training_adds_music_as_silence_at_its_level(tmp_path):
    from kws.config import FrontendConfig
    from kws.errors import ConfigError
    from kws.training.config import TrainConfig
    from kws.training.data import silence
    from kws.training.features import FeatureJob, featurise, music_audio
    from kws.training.augment import AugmentConfig

    config = TrainConfig(labels=("_silence_", "_unknown_", "yes"), silence_examples=2, synthetic_music_examples=3,
                         synthetic_music_rms_dbfs=(-40.0, -30.0))
    records = silence(config)
    music = [r for r in records if r.path.startswith("music:")]
    assert len(records) == 5 and len(music) == 3 and {r.label for r in records} == {"_silence_"}
    for record in music:
        audio = music_audio(record.path, np.random.default_rng(1), RATE_HZ, RATE_HZ)
        rms_dbfs = 20 * np.log10(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))
        assert -40.0 - 0.01 <= rms_dbfs <= -30.0 + 0.01
    jobs = [FeatureJob(r.path, variant, config.seed) for r in music for variant in (0, 1)]
    result = featurise(jobs, frontend=FrontendConfig(), augment=AugmentConfig(noise_probability=0.0),
                       cache_dir=tmp_path, noise_names=None, n_jobs=1)
    assert result.bad == [] and result.features.shape == (6, 49, 10)
    assert len({f.tobytes() for f in result.features}) == 6  # every example and variant differs
    with pytest.raises(ConfigError, match="synthetic_music_rms_dbfs"):
        dataclasses.replace(config, synthetic_music_rms_dbfs=(-10.0, -30.0))
