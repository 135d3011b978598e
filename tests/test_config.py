import dataclasses
import json

import pytest

from kws.config import FrontendConfig, check_frontend_match, config_hash, frontend_from_dict
from kws.errors import ConfigError, ModelError


def test_defaults_are_the_mlperf_tiny_features():
    c = FrontendConfig()
    assert (c.sample_rate_hz, c.window_samples, c.hop_samples, c.fft_size) == (16000, 480, 320, 512)
    assert (c.n_mel, c.lower_hz, c.upper_hz, c.n_mfcc) == (40, 20.0, 4000.0, 10)
    assert c.frames_per_clip == 49


def test_frozen_and_keyword_only():
    c = FrontendConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.n_mel = 20  # type: ignore[misc]
    with pytest.raises(TypeError):
        FrontendConfig(16000)  # type: ignore[misc]


def test_every_field_has_a_docstring():
    import inspect

    import kws.config as module

    source = inspect.getsource(module.FrontendConfig)
    for field in dataclasses.fields(FrontendConfig):
        line = next(l for l in source.splitlines() if l.strip().startswith(f"{field.name}:"))
        after = source.split(line, 1)[1].lstrip()
        assert after.startswith('"""'), f"{field.name} has no docstring"


def test_hash_is_stable_and_sensitive():
    c = FrontendConfig()
    assert config_hash(c) == config_hash(FrontendConfig())
    assert config_hash(c) != config_hash(FrontendConfig(n_mfcc=13))
    round_trip = frontend_from_dict(json.loads(json.dumps(c.to_dict())))
    assert round_trip == c and config_hash(round_trip) == config_hash(c)


def test_unknown_key_and_wrong_type_are_named():
    with pytest.raises(ConfigError, match="'n_mells'"):
        frontend_from_dict({"n_mells": 40})
    with pytest.raises(ConfigError, match="'n_mel' must be int"):
        frontend_from_dict({"n_mel": "40"})
    with pytest.raises(ConfigError, match="fft_size"):
        FrontendConfig(fft_size=500)
    with pytest.raises(ConfigError, match="window"):
        FrontendConfig(window_ms=40)  # 640 samples > 512-point FFT


def test_mismatch_names_the_differing_settings():
    with pytest.raises(ModelError, match=r"n_mfcc: 13 != 10"):
        check_frontend_match(FrontendConfig(n_mfcc=13), FrontendConfig(), model_name="m.tflite")
    check_frontend_match(FrontendConfig(), FrontendConfig(), model_name="m.tflite")


# --- integer-width edges of validate_frontend --------------------------------------------------------

SMALL_FFT = dict(sample_rate_hz=8000, window_ms=1, hop_ms=1, fft_size=8, n_mel=2, n_mfcc=2)
BIG_FFT = dict(fft_size=4096)
LOW_RATE = dict(sample_rate_hz=1000, fft_size=32, upper_hz=500.0, n_mel=4, n_mfcc=4)
HIGH_RATE = dict(sample_rate_hz=192000, window_ms=20, hop_ms=10, fft_size=4096)

# (last valid settings, first invalid settings, what the error must say)
EDGES = [
    (dict(log_floor_log2=-4), dict(log_floor_log2=-3), "too large: on digital silence"),
    (dict(log_floor_log2=-36), dict(log_floor_log2=-37), "too small"),
    ({**BIG_FFT, "log_floor_log2": -1}, {**BIG_FFT, "log_floor_log2": 0}, "too large"),
    ({**BIG_FFT, "log_floor_log2": -33}, {**BIG_FFT, "log_floor_log2": -34}, "too small"),
    ({**SMALL_FFT, "log_floor_log2": -10}, {**SMALL_FFT, "log_floor_log2": -9}, "too large"),
    ({**SMALL_FFT, "log_floor_log2": -40}, {**SMALL_FFT, "log_floor_log2": -41}, "log_floor_log2 must be in"),
    (SMALL_FFT, {**SMALL_FFT, "fft_size": 4}, "power of two >= 8"),
    ({**BIG_FFT, "log_floor_log2": -20}, {**BIG_FFT, "fft_size": 8192}, "fft_size must be <= 4096"),
    (HIGH_RATE, {**HIGH_RATE, "sample_rate_hz": 192001}, "sample_rate_hz must be in"),
    (LOW_RATE, {**LOW_RATE, "sample_rate_hz": 999}, "sample_rate_hz must be in"),
    (dict(mfcc_frac_bits=8), dict(mfcc_frac_bits=9), "mfcc_frac_bits"),
    (dict(mfcc_frac_bits=0), dict(mfcc_frac_bits=-1), "mfcc_frac_bits"),
    (dict(feature_shift_bits=15), dict(feature_shift_bits=16), "feature_shift_bits"),
    (dict(feature_shift_bits=0), dict(feature_shift_bits=-1), "feature_shift_bits"),
    (dict(feature_zero_point=127), dict(feature_zero_point=128), "int8"),
    (dict(feature_zero_point=-128), dict(feature_zero_point=-129), "int8"),
    (dict(n_mel=1, n_mfcc=1), dict(n_mel=0, n_mfcc=1), "n_mel"),
    ({**BIG_FFT, "n_mel": 128, "upper_hz": 8000.0}, {**BIG_FFT, "n_mel": 129, "upper_hz": 8000.0}, "n_mel"),
    (dict(clip_duration_ms=2**31 // 16 - 1), dict(clip_duration_ms=2**31 // 16), "fit int32"),
]


@pytest.mark.parametrize("valid, invalid, reason", EDGES, ids=[str(e[1]) for e in EDGES])
def test_validation_edges(valid, invalid, reason):
    FrontendConfig(**valid)
    with pytest.raises(ConfigError, match=reason):
        FrontendConfig(**invalid)


def test_issue_log_floor_near_zero_is_rejected_with_the_reason():
    for value in (-3, -2, -1, 0):
        with pytest.raises(ConfigError, match=r"log_floor_log2 .* too large.*use log_floor_log2 <= -4"):
            FrontendConfig(log_floor_log2=value)


def test_worst_cases_fit_for_every_fft_size_and_floor():
    from kws.config import frontend_worst_cases

    for fft in (8, 16, 64, 512, 1024, 4096):
        for floor in range(-40, 1):
            try:
                config = FrontendConfig(sample_rate_hz=8000, window_ms=1, hop_ms=1, fft_size=fft, n_mel=2,
                                        n_mfcc=2, log_floor_log2=floor)
            except ConfigError:
                continue
            w = frontend_worst_cases(config)
            assert 0 <= w["floor_shift_min"] <= w["floor_shift_max"] <= 62
            assert w["fft_data"] < 2**30 and w["spectrum"] < 2**31 and w["log_floor_plus_mel"] < 2**63


def edge_inputs(config: FrontendConfig) -> dict[str, "np.ndarray"]:
    import numpy as np

    n = 3 * config.window_samples + 2 * config.hop_samples + 5
    t = np.arange(n)
    return {
        "silence": np.zeros(n, np.int16),
        "square_period_2": np.where(t % 2 == 0, 32767, -32768).astype(np.int16),
        "square_period_16": np.where((t // 8) % 2 == 0, 32767, -32768).astype(np.int16),
        "dc_minus_32768": np.full(n, -32768, np.int16),
        "noise": np.random.default_rng(0).integers(-32768, 32768, n, dtype=np.int16),
    }


def test_every_valid_edge_runs_in_python_and_c(tmp_path):
    """Each last-valid config gives the same MFCC in Python and in C (ASan + UBSan) on extreme input."""
    import shutil

    import numpy as np

    from kws.frontend import compute_mfcc, quantize_features

    if shutil.which("gcc") is None:
        pytest.skip("gcc not installed")
    from kws.firmware_export.hostbuild import C_DIR, compile_host, run_host, write_frontend_sources

    seen = set()
    for index, (valid, _, _) in enumerate(EDGES):
        config = FrontendConfig(**valid)
        if config in seen:
            continue
        seen.add(config)
        folder = tmp_path / f"edge{index}"
        sources = [p for p in write_frontend_sources(config, folder) if p.suffix == ".c"]
        driver = compile_host(sources + [C_DIR / "test_frontend_main.c"], folder / "driver", sanitize=True,
                              optimize="-O1")
        for name, pcm in edge_inputs(config).items():
            mfcc = compute_mfcc(pcm, config)
            pcm.tofile(folder / "in.raw")
            for mode, want, dtype in (("mfcc", mfcc, np.int16),
                                      ("features", quantize_features(mfcc, config), np.int8)):
                run_host(driver, [mode, folder / "in.raw", folder / "out.raw", "rand:3:700"])
                got = np.fromfile(folder / "out.raw", dtype).reshape(-1, config.n_mfcc)
                assert np.array_equal(got, want), f"{valid} on {name} ({mode}): C != Python at " \
                                                  f"{np.argwhere(got != want)[:3].tolist()}"
