"""Background noise: generated colors (level, spectral slope), loading real noise, NoiseBank, silence clips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from kws.datasets import noise as nz
from kws.datasets.noise import Noise, NoiseBank
from kws.datasets.paths import data_folder
from kws.errors import ConfigError, DataError

SAMPLE_RATE = 16000


def spectral_slope(samples: np.ndarray, *, lo_hz: float = 20.0, hi_hz: float = 4000.0, seg: int = 4096) -> float:
    """Slope of log10(power) against log10(frequency): averaged Hann periodograms, least squares fit."""
    n_segs = samples.shape[0] // seg
    frames = samples[: n_segs * seg].reshape(n_segs, seg).astype(np.float64)
    power = np.mean(np.abs(np.fft.rfft(frames * np.hanning(seg), axis=1)) ** 2, axis=0)
    freqs = np.fft.rfftfreq(seg, 1.0 / SAMPLE_RATE)
    band = (freqs >= lo_hz) & (freqs <= hi_hz)
    slope, _ = np.polyfit(np.log10(freqs[band]), np.log10(power[band]), 1)
    return float(slope)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


# --------------------------------------------------------------------------- #
# Generated noise
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("make, exponent", [(nz.white_noise, 0.0), (nz.pink_noise, 1.0), (nz.brown_noise, 2.0)])
def test_generated_noise_level_and_slope(make, exponent):
    samples = make(2**17, np.random.default_rng(1))
    assert samples.dtype == np.float32 and samples.shape == (2**17,)
    assert rms(samples) == pytest.approx(1.0, rel=1e-4)
    assert abs(float(np.mean(samples))) < 1e-4
    assert spectral_slope(samples) == pytest.approx(-exponent, abs=0.1)


def test_generated_noise_is_seeded_and_scaled():
    a = nz.pink_noise(5000, np.random.default_rng(3), rms=0.05)
    b = nz.pink_noise(5000, np.random.default_rng(3), rms=0.05)
    c = nz.pink_noise(5000, np.random.default_rng(4), rms=0.05)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert rms(a) == pytest.approx(0.05, rel=1e-4)
    assert rms(nz.colored_noise(5000, np.random.default_rng(0), exponent=1.5, rms=0.2)) == pytest.approx(0.2, rel=1e-4)


def test_generated_noises_and_errors():
    noises = nz.generated_noises(0.5, np.random.default_rng(0))
    assert [n.name for n in noises] == ["white", "pink", "brown"]
    assert all(n.samples.shape == (8000,) and n.origin == "generated" for n in noises)
    assert all(n.rms == pytest.approx(nz.GENERATED_RMS, rel=1e-4) for n in noises)
    with pytest.raises(ConfigError, match="noise color 'blue'"):
        nz.generated_noises(0.5, np.random.default_rng(0), colors=["blue"])
    with pytest.raises(ConfigError, match="n_samples=1"):
        nz.white_noise(1, np.random.default_rng(0))


# --------------------------------------------------------------------------- #
# NoiseBank and silence
# --------------------------------------------------------------------------- #


def ramp_noise(name: str, n: int, offset: float = 0.0) -> Noise:
    """A noise whose samples are distinct, so a segment's position can be found."""
    return Noise(name=name, samples=(np.arange(n, dtype=np.float32) + offset) / 1e6, sample_rate=SAMPLE_RATE, origin="test")


def test_bank_samples_contiguous_segments():
    bank = NoiseBank([ramp_noise("a", 50_000), ramp_noise("b", 30_000, offset=100_000)])
    rng = np.random.default_rng(5)
    starts = set()
    for _ in range(50):
        segment = bank.sample(16_000, rng)
        assert segment.dtype == np.float32 and segment.shape == (16_000,)
        steps = np.round(np.diff(segment.astype(np.float64)) * 1e6)
        assert np.all(steps == 1)  # one unbroken window of one noise
        starts.add(round(float(segment[0]) * 1e6))
    assert len(starts) > 40
    assert any(s >= 100_000 for s in starts) and any(s < 100_000 for s in starts)


def test_bank_is_reproducible_and_weighted():
    noises = nz.generated_noises(2.0, np.random.default_rng(0))
    bank = NoiseBank(noises)
    a = bank.sample(4000, np.random.default_rng(9))
    b = bank.sample(4000, np.random.default_rng(9))
    assert np.array_equal(a, b)
    only_brown = NoiseBank(noises, weights=[0, 0, 1])
    rng = np.random.default_rng(1)
    assert {only_brown.pick(rng).name for _ in range(20)} == {"brown"}
    with pytest.raises(ConfigError, match="weights"):
        NoiseBank(noises, weights=[1, 1])


def test_short_noise_is_looped():
    bank = NoiseBank([ramp_noise("short", 1000)])
    segment = bank.sample(2500, np.random.default_rng(2))
    assert segment.shape == (2500,)
    positions = np.round(segment.astype(np.float64) * 1e6).astype(int)
    assert np.all(np.diff(positions) % 1000 == 1)


def test_bank_errors():
    with pytest.raises(DataError, match="at least one noise"):
        NoiseBank([])
    other = Noise(name="x", samples=np.zeros(100, np.float32), sample_rate=8000, origin="test")
    with pytest.raises(DataError, match="different sample rates"):
        NoiseBank([ramp_noise("a", 100), other])


def test_silence_clip():
    noises = nz.generated_noises(3.0, np.random.default_rng(0), colors=["pink"], rms=0.1)
    bank = NoiseBank(noises)
    clip = nz.make_silence_clip(bank, np.random.default_rng(4))
    assert clip.dtype == np.int16 and clip.shape == (16000,)
    again = nz.make_silence_clip(bank, np.random.default_rng(4))
    assert np.array_equal(clip, again)
    peak_source = float(np.max(np.abs(noises[0].samples))) * 32768
    assert 0 < np.max(np.abs(clip.astype(np.int32))) <= peak_source + 1
    levels = [rms(nz.make_silence_clip(bank, np.random.default_rng(s), gain_range=(0.0, 0.2))) for s in range(20)]
    assert max(levels) <= 0.2 * 0.1 * 32768 * 1.1
    assert np.all(nz.make_silence_clip(bank, np.random.default_rng(0), gain_range=(0.0, 0.0)) == 0)
    assert nz.make_silence_clip(bank, np.random.default_rng(0), duration_s=0.5).shape == (8000,)
    with pytest.raises(ConfigError, match="gain_range"):
        nz.make_silence_clip(bank, np.random.default_rng(0), gain_range=(0.5, 0.1))


def test_load_noise_folder_downmixes_and_resamples(tmp_path):
    t = np.arange(48000) / 48000.0
    stereo = np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0.1 * np.sin(2 * np.pi * 440 * t)], axis=1)
    sf.write(str(tmp_path / "tone.wav"), stereo.astype(np.float32), 48000, subtype="FLOAT")
    sf.write(str(tmp_path / "tiny.wav"), np.zeros(100, np.int16) + 5, 16000)
    (tmp_path / "readme.txt").write_text("ignored")
    (tone,) = nz.load_noise_folder(tmp_path, names=["tone.wav"])
    assert tone.samples.dtype == np.float32 and tone.samples.shape == (16000,)
    assert tone.rms == pytest.approx(0.3 / np.sqrt(2), rel=0.01)  # mean of the two channels
    with pytest.raises(DataError, match=r"tiny.wav: noise is 0.01 s long"):
        nz.load_noise_folder(tmp_path)
    with pytest.raises(DataError, match="noise files not found: gone.wav"):
        nz.load_noise_folder(tmp_path, names=["gone.wav"])
    with pytest.raises(DataError, match="noise folder not found"):
        nz.load_noise_folder(tmp_path / "nowhere")


# --------------------------------------------------------------------------- #
# The shared real data
# --------------------------------------------------------------------------- #


def real_folder(name: str) -> Path:
    folder = data_folder(name)
    if not folder.is_dir():
        pytest.skip(f"shared real data folder {folder} not found (set KWS_DATA to the folder holding it)")
    return folder


def test_real_background_noise():
    real_folder(nz.BACKGROUND_NOISE_DIR)
    noises = nz.load_background_noise()
    assert len(noises) == 8 and "white_noise" in [n.name for n in noises]
    for noise in noises:
        assert noise.samples.dtype == np.float32 and noise.samples.ndim == 1
        assert noise.sample_rate == SAMPLE_RATE and noise.duration_s > 30
        assert 0 < noise.rms < 0.1
    bank = NoiseBank.from_shared_data(generated_s=2.0, rng=np.random.default_rng(0))
    assert len(bank) == 11
    clips = [nz.make_silence_clip(NoiseBank(noises), np.random.default_rng(s)) for s in range(10)]
    assert all(c.shape == (16000,) and c.dtype == np.int16 for c in clips)


def test_real_ambient_is_resampled_and_downmixed():
    folder = real_folder(nz.AMBIENT_DIR)
    files = sorted(folder.glob("*.ogg"))
    noises = nz.load_ambient()
    assert len(noises) == len(files) > 10
    for path, noise in zip(files, noises):
        info = sf.info(str(path))
        assert noise.name == path.stem and noise.sample_rate == SAMPLE_RATE
        assert noise.samples.dtype == np.float32 and noise.samples.ndim == 1
        assert abs(noise.samples.shape[0] - info.frames * SAMPLE_RATE / info.samplerate) <= 1
        assert np.max(np.abs(noise.samples)) <= 1.5
    rates = {sf.info(str(p)).samplerate for p in files}
    assert rates - {SAMPLE_RATE}  # the folder really needed resampling


def test_speech_babble_joins_each_speakers_files_and_names_an_empty_folder(tmp_path):
    for speaker, n_files in (("SPK1", 2), ("SPK2", 1)):
        (tmp_path / speaker).mkdir()
        for i in range(n_files):
            sf.write(tmp_path / speaker / f"{i}.flac", np.full(8000, 0.1 * (i + 1), np.float32), 16000)
    babble = nz.load_speech_babble([tmp_path / "SPK1", tmp_path / "SPK2"])
    assert [b.name for b in babble] == ["SPK1", "SPK2"]
    assert babble[0].samples.size == 16000 and babble[1].samples.size == 8000
    np.testing.assert_allclose(babble[0].samples[[0, 8000]], [0.1, 0.2], atol=1e-3)  # files in sorted order
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="empty: no audio files"):
        nz.load_speech_babble([tmp_path / "empty"])
