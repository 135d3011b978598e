"""The integer MFCC front end: tables, stages, worst-case headroom, streaming, fidelity."""

import math
from pathlib import Path

import numpy as np
import pytest

from kws.audio import read_audio
from kws.config import FrontendConfig
from kws.errors import AudioError
from kws.fixedpoint import as_int64, isqrt_floor
from kws.frontend import Frontend, compute_features, compute_features_many, frame_signal, tables
from kws.frontend.fft import complex_fft, real_fft_bins
from kws.frontend.fidelity import measure_fidelity, scale_to_dbfs
from kws.frontend.golden import golden_inputs
from kws.frontend.logarithm import log2_q16
from kws.frontend.mel import apply_mel
from kws.frontend.pipeline import log_mel, window_and_normalise
from kws.frontend.tables import dct_matrix

CONFIG = FrontendConfig()


def test_mel_filterbank_equals_librosa_htk():
    librosa = pytest.importorskip("librosa")
    from kws.frontend.mel import mel_filterbank

    ours = mel_filterbank(16000, 512, 40, 20.0, 4000.0)
    theirs = librosa.filters.mel(sr=16000, n_fft=512, n_mels=40, fmin=20.0, fmax=4000.0, htk=True, norm=None)
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_window_and_dct_tables_match_scipy():
    import scipy.fft
    import scipy.signal

    t = tables(CONFIG)
    np.testing.assert_allclose(t.window_q15 / 32768.0, scipy.signal.get_window("hann", 480), atol=1.0 / 32768)
    eye = np.eye(40)
    np.testing.assert_allclose(dct_matrix(10, 40), scipy.fft.dct(eye, norm="ortho", axis=0)[:10], atol=1e-12)


def test_tables_are_pure_and_read_only():
    a, b = tables(CONFIG), tables(FrontendConfig())
    assert a is b  # cached per config value
    with pytest.raises(ValueError):
        a.window_q15[0] = 1
    assert a.window_q15.dtype == np.int16 and a.dct_q15.dtype == np.int16


def test_integer_real_fft_matches_numpy():
    t = tables(CONFIG)
    rng = np.random.default_rng(0)
    x = rng.integers(-(2**20), 2**20, (8, 512))
    z_re, z_im = complex_fft(x[:, 0::2], x[:, 1::2], as_int64(t.fft_cos_q30), as_int64(t.fft_sin_q30), t.fft_bitrev)
    bins = np.arange(257)
    angles = 2 * np.pi * bins / 512
    cos_q30 = np.round(np.cos(angles) * 2**30).astype(np.int64)
    sin_q30 = np.round(np.sin(angles) * 2**30).astype(np.int64)
    re, im = real_fft_bins(z_re, z_im, bins, cos_q30, sin_q30)
    expected = 2 * np.fft.rfft(x, axis=1)
    error = np.abs((re + 1j * im) - expected)
    assert error.max() < 64  # a few LSB per stage, against values up to 2**30


def test_log2_is_accurate_over_the_whole_range():
    t = tables(CONFIG)
    values = np.unique(np.concatenate([np.arange(1, 5000), np.geomspace(1, 2**62, 5000).astype(np.int64)]))
    got = log2_q16(values, t.log2_table_q16) / 65536.0
    expected = np.log2(values.astype(np.float64))
    assert np.abs(got - expected).max() < 2e-5


def _worst_case_signals() -> dict[str, np.ndarray]:
    n = 16000
    t = np.arange(n)
    signals = {name: pcm for name, (_, pcm) in golden_inputs(CONFIG).items()}
    signals.update({
        "dc_positive": np.full(n, 32767, np.int16),
        "nyquist_full_scale": np.where(t % 2 == 0, 32767, -32768).astype(np.int16),
        "square_50hz": np.where((t // 160) % 2 == 0, 32767, -32768).astype(np.int16),
        "single_impulse": np.eye(1, n, 8000, dtype=np.int16)[0] * -32768,
        "lsb_noise": np.random.default_rng(3).integers(-1, 2, n).astype(np.int16),
    })
    return signals


@pytest.mark.parametrize("name", list(_worst_case_signals()))
def test_no_intermediate_overflows_on_worst_case_input(name):
    """Every intermediate stays inside the width the C code uses (int32 data, int64 accumulators)."""
    pcm = _worst_case_signals()[name]
    t = tables(CONFIG)
    frames = frame_signal(pcm, CONFIG)
    windowed, shift_bits = window_and_normalise(frames, t)
    assert np.abs(windowed).max() <= 2**t.block_norm_bits
    padded = np.zeros((len(frames), 512), np.int64)
    padded[:, :480] = windowed
    z_re, z_im = complex_fft(padded[:, 0::2], padded[:, 1::2], as_int64(t.fft_cos_q30), as_int64(t.fft_sin_q30),
                             t.fft_bitrev)
    assert max(np.abs(z_re).max(), np.abs(z_im).max()) < 2**30
    x_re, x_im = real_fft_bins(z_re, z_im, t.used_bins, as_int64(t.split_cos_q30), as_int64(t.split_sin_q30))
    assert max(np.abs(x_re).max(), np.abs(x_im).max()) < 2**31
    power = x_re * x_re + x_im * x_im
    assert power.max() < 2**62
    mel = apply_mel(isqrt_floor(power), t.first_bin, t.mel_band_start, t.mel_band_n_bins, t.mel_weights_q15)
    assert mel.max() < 2**56
    log2_mel = log_mel(mel, shift_bits, t)
    assert np.abs(log2_mel).max() < 2**31
    # No wrap-around anywhere: each frame's integer mel energies track the float ones to within
    # 2**-16 of the largest value any band could reach in that frame (the precision of a 20-bit
    # block). Bands far below the peak (a full-scale DC or Nyquist tone leaves them ~140 dB down)
    # differ in the log domain, which is why this check is linear.
    from kws.frontend.mel import mel_filterbank
    from kws.frontend.tables import hann_window

    float_frames = frames / 32768.0 * hann_window(480)
    float_mel = np.abs(np.fft.rfft(float_frames, 512, axis=1)) @ mel_filterbank(16000, 512, 40, 20.0, 4000.0).T
    int_mel = mel / 2.0 ** (t.mel_scale_log2 + shift_bits[:, None])
    band_weight = mel_filterbank(16000, 512, 40, 20.0, 4000.0).sum(axis=1).max()
    bound = np.maximum(np.abs(float_frames).sum(axis=1, keepdims=True) * band_weight, 1e-12)
    assert (np.abs(int_mel - float_mel) / bound).max() < 2**-16


def test_streaming_equals_batch_for_random_chunkings():
    pcm = read_audio(Path(__file__).resolve().parents[1] / "kws" / "data" / "example_yes.wav")
    pcm = np.concatenate([pcm, pcm[:7777]])
    expected = compute_features(pcm)
    rng = np.random.default_rng(5)
    for trial in range(6):
        frontend = Frontend(CONFIG)
        pieces, position = [], 0
        while position < pcm.size:
            size = 1 if trial == 0 and position < 2000 else int(rng.integers(1, 2500))
            pieces.append(frontend.process(pcm[position : position + size]))
            position += size
        np.testing.assert_array_equal(np.concatenate(pieces), expected)
    frontend.reset()
    np.testing.assert_array_equal(frontend.process(pcm), expected)


def test_batch_of_many_clips_equals_single_clips():
    rng = np.random.default_rng(6)
    clips = [rng.integers(-3000, 3000, n).astype(np.int16) for n in (16000, 479, 480, 800, 12345)]
    for got, clip in zip(compute_features_many(clips, frames_per_call=7), clips):
        np.testing.assert_array_equal(got, compute_features(clip))


def test_frame_count_and_feature_format():
    pcm = np.zeros(16000, np.int16)
    features = compute_features(pcm)
    assert features.shape == (49, 10) and features.dtype == np.int8
    assert compute_features(np.zeros(479, np.int16)).shape == (0, 10)
    # Digital silence: c0 = 40 * ln(2**-20) / sqrt(40) = -87.7 -> code 64 + round(-87.7 / 0.5) = -111.
    assert features[0, 0] == 64 + round(40 * math.log(2**-20) / math.sqrt(40) / 0.5)


def test_front_end_rejects_non_int16_input():
    with pytest.raises(AudioError, match="int16"):
        compute_features(np.zeros(16000, np.float32))
    with pytest.raises(AudioError, match="mono"):
        compute_features(np.zeros((16000, 2), np.int16))


def test_fidelity_floor_on_real_speech_commands(speech_commands_dir):
    """SNR vs float reference: >= 40 dB (CMSIS-DSP q15 MFCC reaches ~34 dB), >= 35 dB at -40 dBFS."""
    files = sorted(speech_commands_dir.rglob("*.wav"))
    assert len(files) > 2000
    clips = [read_audio(f) for f in files]
    normal = measure_fidelity(clips)
    assert normal.mfcc_snr_db >= 40.0
    quiet = measure_fidelity([scale_to_dbfs(c, -40.0) for c in clips])
    assert quiet.mfcc_snr_db >= 35.0
    assert normal.feature_snr_db >= 30.0  # int8 step 0.5 bounds this near 35 dB


def test_bench_frontend_prints_its_figures(speech_commands_dir, capsys):
    from kws.cli import main

    assert main(["bench", "frontend", "--data", str(speech_commands_dir / "yes"), "--limit", "12"]) == 0
    out = capsys.readouterr().out
    assert "int16 MFCC  SNR" in out and "x real time on one core" in out and "kws / librosa speed ratio" in out


def test_one_core_restores_the_cpu_set():
    import os

    from kws.frontend.fidelity import one_core

    before = os.sched_getaffinity(0)
    with one_core():
        assert len(os.sched_getaffinity(0)) == 1
    assert os.sched_getaffinity(0) == before
