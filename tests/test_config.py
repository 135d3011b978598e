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
