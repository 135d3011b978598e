"""Tests for kws.training.augment: each augmentation does what its docstring promises."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import math
from pathlib import Path

import numpy as np
import pytest

from kws.errors import AudioError, ConfigError
from kws.training import augment as aug

SR = 16000


# ------------------------------------------------------------------------------ helpers


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _sine(freq_hz: float, duration_s: float = 1.0, amplitude: float = 0.5) -> np.ndarray:
    t_s = np.arange(int(round(duration_s * SR))) / SR
    return (amplitude * np.sin(2 * np.pi * freq_hz * t_s)).astype(np.float32)


def _dominant_hz(audio: np.ndarray, trim: int = 2000) -> float:
    """Frequency of the largest spectral peak of the middle of ``audio`` (zero-padded FFT)."""
    seg = np.asarray(audio[trim:-trim], dtype=np.float64)
    seg = seg * np.hanning(seg.size)
    n_fft = 1 << 18
    spectrum = np.abs(np.fft.rfft(seg, n=n_fft))
    return float(np.argmax(spectrum)) * SR / n_fft


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.asarray(x, dtype=np.float64) ** 2)))


def _gain_db(filtered: np.ndarray, original: np.ndarray, trim: int = 3000) -> float:
    return 20 * math.log10(_rms(filtered[trim:-trim]) / _rms(original[trim:-trim]))


# Word-like test signal: a 150 Hz harmonic complex with a syllabic envelope, only in
# WORD (0.3 s .. 0.7 s, aligned to 10 ms frames), over a -80 dB floor elsewhere.
WORD = slice(4800, 11200)


def _word_in_window(amplitude: float = 0.1, seed: int = 1) -> np.ndarray:
    rng = _rng(seed)
    n = SR
    t_s = np.arange(n) / SR
    voiced = sum(np.sin(2 * np.pi * 150 * k * t_s + k) / k for k in range(1, 12))
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * 4 * t_s)
    speech = np.zeros(n)
    speech[WORD] = (voiced * envelope)[WORD]
    speech *= amplitude / np.max(np.abs(speech))
    speech += 1e-5 * rng.standard_normal(n)
    return speech.astype(np.float32)


def _white(n: int = SR, seed: int = 2) -> np.ndarray:
    return _rng(seed).standard_normal(n).astype(np.float32)


# ------------------------------------------------------------------------------ style / imports


def test_module_does_not_import_tensorflow():
    tree = ast.parse(Path(aug.__file__).read_text())
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
    assert "tensorflow" not in roots and "keras" not in roots
    assert roots <= {"__future__", "math", "dataclasses", "typing", "numpy", "scipy", "kws"}


PUBLIC_FUNCTIONS = [
    aug.time_shift,
    aug.shift_samples,
    aug.headroom_db,
    aug.apply_gain_db,
    aug.random_gain,
    aug.active_mask,
    aug.measure_snr_db,
    aug.scale_noise_to_snr,
    aug.mix_at_snr,
    aug.speed_perturb,
    aug.time_stretch,
    aug.pitch_shift,
    aug.exponential_decay_rir,
    aug.image_source_rir,
    aug.measure_rt60,
    aug.reverberate,
    aug.telephone_band,
    aug.cheap_mic,
    aug.spec_augment,
    aug.random_rir,
    aug.augment_waveform,
    aug.augment_features,
]


@pytest.mark.parametrize("func", PUBLIC_FUNCTIONS, ids=lambda f: f.__name__)
def test_public_functions_have_numpydoc_docstrings(func):
    doc = inspect.getdoc(func)
    assert doc and "Parameters\n----------" in doc and "Returns\n-------" in doc


def test_random_functions_take_an_explicit_generator():
    for func in (aug.time_shift, aug.random_gain, aug.exponential_decay_rir, aug.cheap_mic, aug.spec_augment,
                 aug.random_rir, aug.augment_waveform, aug.augment_features):
        assert "rng" in inspect.signature(func).parameters, func.__name__


# ------------------------------------------------------------------------------ time shift


def test_time_shift_zero_fills_and_keeps_length():
    audio = np.arange(1, 1601, dtype=np.float32) / 1600
    for seed in range(10):
        out = aug.time_shift(audio, 20.0, _rng(seed))
        assert out.dtype == np.float32 and out.shape == audio.shape
        # recover the shift from the first sample value and check the whole array
        nz = np.nonzero(out)[0]
        if out[0] == 0:  # delayed
            shift = int(nz[0])
            np.testing.assert_array_equal(out[shift:], audio[: audio.size - shift])
            assert np.all(out[:shift] == 0)
        else:  # advanced
            shift = -int(round(out[0] * 1600 - 1))
            np.testing.assert_array_equal(out[: audio.size + shift], audio[-shift:])
            assert np.all(out[audio.size + shift :] == 0)
        assert abs(shift) <= 320


def test_time_shift_deterministic_and_zero_range_identity():
    audio = _white(4000)
    np.testing.assert_array_equal(aug.time_shift(audio, 50, _rng(3)), aug.time_shift(audio, 50, _rng(3)))
    np.testing.assert_array_equal(aug.time_shift(audio, 0, _rng(3)), audio)
    with pytest.raises(AudioError):
        aug.time_shift(audio, -1, _rng(3))


def test_shift_samples_beyond_length_is_silence():
    assert not np.any(aug.shift_samples(np.ones(10, np.float32), 10))
    np.testing.assert_array_equal(aug.shift_samples(np.arange(4, dtype=np.float32), -1), [1, 2, 3, 0])


# ------------------------------------------------------------------------------ gain


def test_apply_gain_db_scales_when_there_is_headroom():
    audio = _sine(440, amplitude=0.1)
    out = aug.apply_gain_db(audio, 6.0)
    np.testing.assert_allclose(out, audio * 10 ** (6 / 20), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(aug.apply_gain_db(audio, -20.0), audio * 0.1, rtol=1e-6, atol=1e-8)


def test_apply_gain_db_limits_instead_of_clipping():
    audio = _sine(440, amplitude=0.5)
    assert aug.headroom_db(audio) == pytest.approx(20 * math.log10(1 / np.max(np.abs(audio))), abs=1e-6)
    out = aug.apply_gain_db(audio, 20.0, max_peak=0.9)
    assert np.max(np.abs(out)) <= 0.9
    assert np.max(np.abs(out)) == pytest.approx(0.9, rel=1e-5)
    # shape preserved: limited gain is a pure scale, no clipped flat tops
    np.testing.assert_allclose(out / np.max(np.abs(out)), audio / np.max(np.abs(audio)), atol=1e-6)
    with pytest.raises(AudioError, match="clip"):
        aug.apply_gain_db(audio, 20.0, on_clip="raise")
    assert aug.headroom_db(np.zeros(5, np.float32)) == math.inf


def test_random_gain_range_and_determinism():
    audio = _sine(300, amplitude=0.01)
    for seed in range(5):
        out = aug.random_gain(audio, (-6.0, 6.0), _rng(seed))
        gain_db = 20 * math.log10(np.max(np.abs(out)) / np.max(np.abs(audio)))
        assert -6.0 - 1e-3 <= gain_db <= 6.0 + 1e-3
        np.testing.assert_array_equal(out, aug.random_gain(audio, (-6.0, 6.0), _rng(seed)))
    loud = _sine(300, amplitude=0.95)
    assert np.max(np.abs(aug.random_gain(loud, (10.0, 12.0), _rng(0), max_peak=0.99))) <= 0.99


# ------------------------------------------------------------------------------ SNR


def test_active_mask_finds_the_word():
    mask = aug.active_mask(_word_in_window())
    assert mask.dtype == bool and mask.shape == (SR,)
    expected = np.zeros(SR, dtype=bool)
    expected[WORD] = True
    np.testing.assert_array_equal(mask, expected)
    assert not np.any(aug.active_mask(np.zeros(100, np.float32)))


@pytest.mark.parametrize("snr_db", [-5.0, 0.0, 5.0, 10.0, 20.0, 30.0])
def test_mix_at_snr_hits_the_requested_snr_on_the_active_speech(snr_db):
    speech = _word_in_window(amplitude=0.05)
    # non-stationary noise: much louder outside the word than inside it
    noise = _white()
    noise[: WORD.start] *= 5.0
    mix = aug.mix_at_snr(speech, noise, snr_db)
    assert mix.dtype == np.float32 and mix.shape == speech.shape
    added = mix.astype(np.float64) - speech
    # same definition as the module
    assert aug.measure_snr_db(speech, added) == pytest.approx(snr_db, abs=0.5)
    # independent check on the known word region
    independent = 10 * math.log10(np.mean(speech[WORD].astype(np.float64) ** 2) / np.mean(added[WORD] ** 2))
    assert independent == pytest.approx(snr_db, abs=0.5)
    # a whole-clip measure would be off by several dB: the window is mostly non-speech
    whole = 10 * math.log10(np.mean(speech.astype(np.float64) ** 2) / np.mean(added**2))
    assert whole < snr_db - 3.0


def test_mix_at_snr_scales_loud_mixes_as_a_whole():
    speech = _word_in_window(amplitude=0.9)
    noise = _white()
    mix = aug.mix_at_snr(speech, noise, 0.0, max_peak=1.0)
    assert np.max(np.abs(mix)) <= 1.0
    unlimited = speech.astype(np.float64) + aug.scale_noise_to_snr(speech, noise, 0.0)
    scale = np.max(np.abs(mix)) / np.max(np.abs(unlimited))
    assert scale < 1.0
    np.testing.assert_allclose(mix, scale * unlimited, atol=1e-5)


def test_mix_at_snr_rejects_bad_input():
    speech = _word_in_window()
    with pytest.raises(AudioError, match="silent"):
        aug.mix_at_snr(np.zeros(SR, np.float32), _white(), 10.0)
    with pytest.raises(AudioError, match="same length"):
        aug.mix_at_snr(speech, _white(SR - 1), 10.0)
    with pytest.raises(AudioError, match="zero"):
        aug.mix_at_snr(speech, np.zeros(SR, np.float32), 10.0)
    bad = speech.copy()
    bad[3] = np.nan
    with pytest.raises(AudioError, match="NaN"):
        aug.mix_at_snr(bad, _white(), 10.0)


# ------------------------------------------------------------------------------ speed / pitch


@pytest.mark.parametrize("factor", [0.9, 1.1])
def test_speed_perturb_changes_pitch_and_duration(factor):
    audio = _sine(440)
    out = aug.speed_perturb(audio, factor)
    assert out.dtype == np.float32 and out.shape == audio.shape
    assert _dominant_hz(out) == pytest.approx(440 * factor, rel=0.01)
    free = aug.speed_perturb(audio, factor, keep_length=False)
    assert free.shape[0] == round(audio.size / factor)


def test_speed_perturb_keeps_a_centred_word_centred():
    speech = _word_in_window()

    def centre_s(x):
        energy = x.astype(np.float64) ** 2
        return float(np.sum(energy * np.arange(x.size)) / np.sum(energy)) / SR

    for factor in (0.9, 1.1):
        # time is scaled by 1 / factor about the middle of the window
        expected = 0.5 + (centre_s(speech) - 0.5) / factor
        assert centre_s(aug.speed_perturb(speech, factor)) == pytest.approx(expected, abs=0.002)


@pytest.mark.parametrize("stretch", [0.8, 1.25])
def test_time_stretch_keeps_pitch(stretch):
    audio = _sine(500)
    out = aug.time_stretch(audio, stretch)
    assert out.shape[0] == round(audio.size * stretch)
    assert _dominant_hz(out) == pytest.approx(500, rel=0.01)


@pytest.mark.parametrize("semitones", [-4.0, -1.0, 2.0, 3.5])
def test_pitch_shift_moves_frequency_and_keeps_length(semitones):
    audio = _sine(440)
    out = aug.pitch_shift(audio, semitones)
    assert out.dtype == np.float32 and out.shape == audio.shape
    assert np.all(np.isfinite(out))
    assert _dominant_hz(out) == pytest.approx(440 * 2 ** (semitones / 12), rel=0.02)
    # level roughly kept (WSOLA without phase cancellation)
    assert _rms(out[2000:-2000]) == pytest.approx(_rms(audio), rel=0.15)


def test_pitch_shift_keeps_timing():
    speech = _word_in_window()
    out = aug.pitch_shift(speech, 3.0)
    energy = out.astype(np.float64) ** 2
    active = np.nonzero(energy > 1e-3 * energy.max())[0] / SR
    assert active[0] == pytest.approx(0.3, abs=0.02)
    assert active[-1] == pytest.approx(0.7, abs=0.02)
    np.testing.assert_array_equal(aug.pitch_shift(speech, 0.0), speech)


# ------------------------------------------------------------------------------ reverberation


def test_measure_rt60_on_an_exact_exponential():
    rt60_s = 0.5
    t_s = np.arange(SR) / SR
    rir = np.exp(-math.log(1000) * t_s / rt60_s)
    assert aug.measure_rt60(rir, SR) == pytest.approx(rt60_s, rel=1e-3)
    assert aug.measure_rt60(rir, SR, end_db=-35) == pytest.approx(rt60_s, rel=1e-3)
    with pytest.raises(AudioError):
        aug.measure_rt60(rir[:100], SR)


@pytest.mark.parametrize("rt60_s", [0.2, 0.4, 0.8])
def test_exponential_rir_has_the_requested_rt60(rt60_s):
    for seed in range(3):
        rir = aug.exponential_decay_rir(rt60_s, SR, _rng(seed))
        assert rir.dtype == np.float32
        assert aug.measure_rt60(rir, SR) == pytest.approx(rt60_s, rel=0.10)  # T20
        assert aug.measure_rt60(rir, SR, end_db=-35) == pytest.approx(rt60_s, rel=0.10)  # T30


def test_exponential_rir_direct_path_predelay_and_ratio():
    rir = aug.exponential_decay_rir(0.3, SR, _rng(4), predelay_ms=10.0, direct_to_reverb_db=6.0)
    assert rir[0] == 1.0
    assert not np.any(rir[1:160])
    assert np.any(rir[160:170])
    drr_db = 10 * math.log10(1.0 / np.sum(rir[1:].astype(np.float64) ** 2))
    assert drr_db == pytest.approx(6.0, abs=0.01)
    np.testing.assert_array_equal(rir, aug.exponential_decay_rir(0.3, SR, _rng(4), predelay_ms=10.0,
                                                                  direct_to_reverb_db=6.0))
    assert not np.array_equal(rir, aug.exponential_decay_rir(0.3, SR, _rng(5), predelay_ms=10.0,
                                                             direct_to_reverb_db=6.0))


ROOM = (5.0, 4.0, 3.0)
SOURCE = (1.0, 1.3, 1.6)
MIC = (3.0, 2.5, 1.2)
DIRECT_M = math.dist(SOURCE, MIC)


@pytest.mark.parametrize("fractional", [True, False])
def test_image_source_direct_path_arrives_at_distance_over_c(fractional):
    rir = aug.image_source_rir(ROOM, SOURCE, MIC, 0.3, SR, 4, fractional_delay=fractional)
    assert rir.dtype == np.float32
    expected = DIRECT_M / 343.0 * SR
    # the direct path is the first and (in this asymmetric geometry) the largest tap
    assert int(np.argmax(np.abs(rir))) == round(expected)
    k = np.arange(round(expected) - 3, round(expected) + 4)
    # 1/r amplitude (a fractional tap is spread over neighbours whose sum is the amplitude)
    amplitude = float(np.sum(rir[k])) if fractional else float(rir[round(expected)])
    assert amplitude == pytest.approx(1 / DIRECT_M, rel=0.05)
    first = int(np.nonzero(np.abs(rir) > 0.25 * np.max(np.abs(rir)))[0][0])
    assert abs(first - expected) <= 2  # only the tap's own side lobe precedes the direct sound
    if fractional:  # sub-sample arrival: the band-limited peak of the direct tap is at the true delay
        anechoic = aug.image_source_rir(ROOM, SOURCE, MIC, 1.0, SR, 0).astype(np.float64)
        t = np.arange(expected - 1.0, expected + 1.0, 0.01)
        taps = np.arange(anechoic.size)
        continuous = np.sinc(t[:, None] - taps[None, :]) @ anechoic
        assert float(t[np.argmax(continuous)]) == pytest.approx(expected, abs=0.03)


def test_image_source_anechoic_and_first_order_taps():
    anechoic = aug.image_source_rir(ROOM, SOURCE, MIC, 1.0, SR, 3, fractional_delay=False)
    nz = np.nonzero(anechoic)[0]
    assert nz.tolist() == [round(DIRECT_M / 343.0 * SR)]
    assert anechoic[nz[0]] == pytest.approx(1 / DIRECT_M, rel=1e-6)

    absorption = 0.36  # reflection coefficient 0.8
    rir = aug.image_source_rir(ROOM, SOURCE, MIC, absorption, SR, 1, fractional_delay=False)
    images = []
    for axis in range(3):
        for wall in (0.0, ROOM[axis]):
            img = list(SOURCE)
            img[axis] = 2 * wall - SOURCE[axis]
            images.append(img)
    expected = np.zeros_like(rir, dtype=np.float64)
    expected[round(DIRECT_M / 343.0 * SR)] += 1 / DIRECT_M
    for img in images:
        d = math.dist(img, MIC)
        expected[round(d / 343.0 * SR)] += 0.8 / d
    np.testing.assert_allclose(rir, expected, rtol=1e-5, atol=1e-7)


def test_image_source_rejects_positions_outside_the_room():
    with pytest.raises(AudioError, match="outside"):
        aug.image_source_rir(ROOM, (6.0, 1.0, 1.0), MIC, 0.3, SR, 2)
    with pytest.raises(AudioError, match="absorption"):
        aug.image_source_rir(ROOM, SOURCE, MIC, 1.5, SR, 2)


def test_reverberate_keeps_length_energy_and_alignment():
    speech = _word_in_window(amplitude=0.3)
    rir = aug.image_source_rir(ROOM, SOURCE, MIC, 0.3, SR, 6)
    wet = aug.reverberate(speech, rir)
    assert wet.dtype == np.float32 and wet.shape == speech.shape
    assert np.sum(wet.astype(np.float64) ** 2) == pytest.approx(np.sum(speech.astype(np.float64) ** 2), rel=1e-4)
    xcorr = np.correlate(wet[4000:12000], speech[4000:12000], mode="full")
    assert abs(int(np.argmax(xcorr)) - (8000 - 1)) <= 1  # aligned to the direct path
    assert not np.array_equal(wet, speech)
    # a unit impulse changes nothing; silence stays silent
    np.testing.assert_allclose(aug.reverberate(speech, np.array([1.0], np.float32)), speech, atol=1e-7)
    assert not np.any(aug.reverberate(np.zeros(100, np.float32), rir))


def test_reverberate_peak_limit():
    loud = np.sign(_sine(200, amplitude=1.0)).astype(np.float32) * 0.99
    rir = aug.exponential_decay_rir(0.3, SR, _rng(0))
    assert np.max(np.abs(aug.reverberate(loud, rir, max_peak=0.95))) <= 0.95


# ------------------------------------------------------------------------------ band limiting


def test_telephone_band_attenuation():
    for freq_hz, low, high in ((100.0, None, -20.0), (6000.0, None, -20.0), (1000.0, -1.0, 1.0)):
        tone = _sine(freq_hz)
        gain = _gain_db(aug.telephone_band(tone), tone)
        if low is not None:
            assert low <= gain <= high, (freq_hz, gain)
        else:
            assert gain <= high, (freq_hz, gain)
    out = aug.telephone_band(_white(300))  # shorter than scipy's default padding
    assert out.shape == (300,) and out.dtype == np.float32


def test_cheap_mic_with_fixed_cutoffs_attenuates_out_of_band():
    kwargs = dict(low_cut_hz_range=(400.0, 400.0), high_cut_hz_range=(3000.0, 3000.0),
                  resonance_gain_db_range=(0.0, 0.0), tilt_db_range=(0.0, 0.0))
    for freq_hz in (100.0, 6000.0):
        tone = _sine(freq_hz)
        assert _gain_db(aug.cheap_mic(tone, _rng(0), **kwargs), tone) <= -20.0
    tone = _sine(1200.0)
    assert abs(_gain_db(aug.cheap_mic(tone, _rng(0), **kwargs), tone)) <= 1.0


def test_cheap_mic_resonance_and_tilt_gains():
    flat = dict(low_cut_hz_range=(50.0, 50.0), high_cut_hz_range=(7000.0, 7000.0), tilt_db_range=(0.0, 0.0),
                resonance_hz_range=(2000.0, 2000.0), resonance_gain_db_range=(6.0, 6.0), resonance_q_range=(2.0, 2.0))
    tone = _sine(2000.0)
    assert _gain_db(aug.cheap_mic(tone, _rng(0), **flat), tone) == pytest.approx(6.0, abs=0.3)
    tilt = dict(flat, resonance_gain_db_range=(0.0, 0.0), tilt_db_range=(-4.0, -4.0))
    tone = _sine(5000.0)
    assert _gain_db(aug.cheap_mic(tone, _rng(0), **tilt), tone) == pytest.approx(-4.0, abs=0.7)


def test_cheap_mic_random_defaults_are_deterministic_and_cut_rumble():
    tone = _sine(30.0)
    noise = _white(SR) * 0.1
    for seed in range(4):
        out = aug.cheap_mic(noise, _rng(seed))
        assert out.dtype == np.float32 and out.shape == noise.shape and np.all(np.isfinite(out))
        np.testing.assert_array_equal(out, aug.cheap_mic(noise, _rng(seed)))
        assert _gain_db(aug.cheap_mic(tone, _rng(seed)), tone) <= -20.0
    assert not np.array_equal(aug.cheap_mic(noise, _rng(0)), aug.cheap_mic(noise, _rng(1)))


# ------------------------------------------------------------------------------ SpecAugment


def _features(seed: int = 0) -> np.ndarray:
    # values never equal to the zero point used below (-7), so masked cells are identifiable
    values = _rng(seed).integers(-128, 128, size=(49, 10))
    values[values == -7] = 5
    return values.astype(np.int8)


def test_spec_augment_masks_whole_rows_and_columns_with_zero_point():
    feats = _features()
    before = feats.copy()
    for seed in range(20):
        out = aug.spec_augment(feats, _rng(seed), -7, n_time_masks=2, max_time_mask_frames=8,
                               n_freq_masks=2, max_freq_mask_coeffs=3)
        assert out.dtype == np.int8 and out.shape == feats.shape and out is not feats
        np.testing.assert_array_equal(feats, before)  # input untouched
        masked = out != feats
        assert np.all(out[masked] == -7)
        rows = np.all(out == -7, axis=1)
        cols = np.all(out == -7, axis=0)
        # every changed cell lies in a fully masked row or column
        assert np.all(masked <= (rows[:, None] | cols[None, :]))
        assert rows.sum() <= 2 * 8 or cols.all()
        assert cols.sum() <= 2 * 3 or rows.all()
        np.testing.assert_array_equal(out, aug.spec_augment(feats, _rng(seed), -7, 2, 8, 2, 3))


def test_spec_augment_no_masks_is_a_copy_and_validates():
    feats = _features()
    np.testing.assert_array_equal(aug.spec_augment(feats, _rng(0), 0, 0, 10, 0, 2), feats)
    with pytest.raises(AudioError, match="int8"):
        aug.spec_augment(feats.astype(np.int16), _rng(0), 0)
    with pytest.raises(AudioError, match="zero_point"):
        aug.spec_augment(feats, _rng(0), 200)
    with pytest.raises(AudioError, match="shape"):
        aug.spec_augment(feats[0], _rng(0), 0)


def test_spec_augment_masks_something_over_many_draws():
    feats = _features()
    changed = sum(
        int(np.any(aug.spec_augment(feats, _rng(s), -7, 1, 5, 1, 2) != feats)) for s in range(20)
    )
    assert changed >= 15


def test_augment_features_probability():
    feats = _features()
    config = aug.AugmentConfig(spec_augment_probability=0.0)
    np.testing.assert_array_equal(aug.augment_features(feats, config, _rng(0), -7), feats)
    config = aug.AugmentConfig(spec_augment_probability=1.0, max_time_mask_frames=20)
    outs = [aug.augment_features(feats, config, _rng(s), -7) for s in range(5)]
    assert any(np.any(o != feats) for o in outs)


# ------------------------------------------------------------------------------ config


def test_augment_config_is_frozen_keyword_only_and_documented():
    config = aug.AugmentConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.noise_probability = 0.5  # type: ignore[misc]
    with pytest.raises(TypeError):
        aug.AugmentConfig(16000)  # type: ignore[misc]
    assert config.snr_db_range == (0.0, 20.0)
    # every field has a default and an attribute docstring right after it
    tree = ast.parse(inspect.getsource(aug.AugmentConfig))
    body = tree.body[0].body
    documented = set()
    for node, following in zip(body, body[1:]):
        if isinstance(node, ast.AnnAssign) and isinstance(following, ast.Expr) \
                and isinstance(following.value, ast.Constant) and isinstance(following.value.value, str):
            documented.add(node.target.id)
    fields = dataclasses.fields(aug.AugmentConfig)
    assert {f.name for f in fields} == documented
    assert all(f.default is not dataclasses.MISSING for f in fields)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(noise_probability=1.5),
        dict(snr_db_range=(20.0, 0.0)),
        dict(speed_range=(0.0, 1.1)),
        dict(rt60_s_range=(-0.1, 0.5)),
        dict(absorption_range=(0.2, 1.2)),
        dict(max_peak=1.5),
        dict(time_shift_ms=-5.0),
        dict(n_time_masks=-1),
        dict(room_dims_m_range=((3.0, 3.0), (5.0, 5.0))),
    ],
)
def test_augment_config_validation(kwargs):
    with pytest.raises(ConfigError, match=next(iter(kwargs))):
        aug.AugmentConfig(**kwargs)


# ------------------------------------------------------------------------------ the chain


def _noise_sampler(n_samples: int, rng: np.random.Generator) -> np.ndarray:
    return (0.3 * rng.standard_normal(n_samples)).astype(np.float32)


EVERYTHING = aug.AugmentConfig(
    speed_probability=1.0,
    pitch_probability=1.0,
    reverb_probability=1.0,
    image_source_fraction=0.5,
    band_limit_probability=1.0,
    noise_probability=1.0,
    gain_probability=1.0,
    gain_db_range=(0.0, 20.0),
)


def test_augment_waveform_output_contract():
    speech = _word_in_window(amplitude=0.9)
    for seed in range(8):
        out = aug.augment_waveform(speech, EVERYTHING, _rng(seed), _noise_sampler)
        assert out.dtype == np.float32 and out.shape == speech.shape
        assert np.all(np.isfinite(out))
        assert np.max(np.abs(out)) <= EVERYTHING.max_peak
        assert np.any(out)
    np.testing.assert_array_equal(speech, _word_in_window(amplitude=0.9))  # input untouched


def test_augment_waveform_is_deterministic_under_a_seed():
    speech = _word_in_window()
    a = aug.augment_waveform(speech, EVERYTHING, _rng(11), _noise_sampler)
    b = aug.augment_waveform(speech, EVERYTHING, _rng(11), _noise_sampler)
    c = aug.augment_waveform(speech, EVERYTHING, _rng(12), _noise_sampler)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_augment_waveform_with_nothing_enabled_is_identity():
    speech = _word_in_window()
    off = aug.AugmentConfig(speed_probability=0.0, pitch_probability=0.0, reverb_probability=0.0,
                            band_limit_probability=0.0, noise_probability=0.0, gain_probability=0.0,
                            time_shift_ms=0.0)
    np.testing.assert_array_equal(aug.augment_waveform(speech, off, _rng(0), _noise_sampler), speech)


def test_augment_waveform_noise_only_hits_snr_range():
    speech = _word_in_window(amplitude=0.05)
    only_noise = aug.AugmentConfig(speed_probability=0.0, pitch_probability=0.0, reverb_probability=0.0,
                                   band_limit_probability=0.0, noise_probability=1.0, gain_probability=0.0,
                                   time_shift_ms=0.0, snr_db_range=(5.0, 15.0))
    for seed in range(5):
        out = aug.augment_waveform(speech, only_noise, _rng(seed), _noise_sampler)
        snr = aug.measure_snr_db(speech, out.astype(np.float64) - speech)
        assert 5.0 - 0.5 <= snr <= 15.0 + 0.5


def test_augment_waveform_handles_silence_and_bad_noise():
    silent = np.zeros(SR, np.float32)
    out = aug.augment_waveform(silent, EVERYTHING, _rng(0), _noise_sampler)
    assert out.shape == silent.shape and np.all(np.isfinite(out))
    with pytest.raises(AudioError, match="noise_sampler"):
        aug.augment_waveform(_word_in_window(), EVERYTHING, _rng(0), lambda n, rng: np.zeros(n - 1, np.float32))
    with pytest.raises(AudioError, match="shape"):
        aug.augment_waveform(np.zeros((10, 2), np.float32), EVERYTHING, _rng(0))


def test_random_rir_kinds_are_deterministic():
    config = aug.AugmentConfig(image_source_fraction=0.5)
    kinds = set()
    for seed in range(6):
        a = aug.random_rir(config, _rng(seed))
        np.testing.assert_array_equal(a, aug.random_rir(config, _rng(seed)))
        assert a.dtype == np.float32 and np.all(np.isfinite(a)) and np.any(a)
        kinds.add(bool(a[0] == 1.0))  # exponential RIRs start with the unit direct path
    assert kinds == {True, False}


def _word(n: int = 16000) -> np.ndarray:
    t = np.arange(n) / 16000
    return (0.3 * np.sin(2 * np.pi * 440 * t) * (np.abs(t - 0.5) < 0.25)).astype(np.float32)


def test_babble_replaces_the_noise_for_its_share_and_changes_nothing_when_off():
    config = aug.AugmentConfig(noise_probability=1.0, speed_probability=0, pitch_probability=0, reverb_probability=0,
                               band_limit_probability=0, gain_probability=0, time_shift_ms=0)
    used = []

    def sampler(name):
        def sample(n, rng):
            used.append(name)
            return rng.standard_normal(n).astype(np.float32) * 0.1
        return sample

    word = _word()
    with_babble = aug.augment_waveform(word, dataclasses.replace(config, babble_probability=1.0),
                                       np.random.default_rng(1), noise_sampler=sampler("noise"),
                                       babble_sampler=sampler("babble"))
    assert used == ["babble"] and not np.allclose(with_babble, word)
    used.clear()
    # off: the babble sampler is never asked and the random sequence is the one of a recipe without babble
    off = aug.augment_waveform(word, config, np.random.default_rng(1), noise_sampler=sampler("noise"),
                               babble_sampler=sampler("babble"))
    before = aug.augment_waveform(word, config, np.random.default_rng(1), noise_sampler=sampler("noise"))
    assert used == ["noise", "noise"]
    np.testing.assert_array_equal(off, before)
    with pytest.raises(ConfigError, match="babble_probability"):
        aug.AugmentConfig(babble_probability=1.5)


def test_babble_off_keeps_the_feature_cache_keys():
    from kws.training.features import augment_hash

    config = aug.AugmentConfig()
    key = augment_hash(config, ["background_noise/pink.wav"])
    assert augment_hash(config, ["background_noise/pink.wav"], ["/data/SPEAKER1"]) == key
    on = dataclasses.replace(config, babble_probability=0.4)
    assert augment_hash(on, ["background_noise/pink.wav"]) == key  # no speakers: nothing changes
    assert augment_hash(on, ["background_noise/pink.wav"], ["/data/SPEAKER1"]) != key
    assert augment_hash(on, ["background_noise/pink.wav"], ["/elsewhere/SPEAKER1"]) == \
        augment_hash(on, ["background_noise/pink.wav"], ["/data/SPEAKER1"])  # speaker ids, not paths
