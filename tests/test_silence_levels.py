"""Generated _silence_ examples: the Speech Commands gain rule, or RMS levels drawn from a dBFS range."""

import numpy as np
import pytest

pytest.importorskip("scipy")

from kws.errors import ConfigError  # noqa: E402


def bank():
    from kws.datasets.noise import Noise, NoiseBank

    rng = np.random.default_rng(0)
    quiet = (0.001 * rng.standard_normal(16000 * 5)).astype(np.float32)  # -60 dBFS recording
    return NoiseBank([Noise("quiet", quiet, 16000, "generated")])


def rms_dbfs(x):
    return 20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def test_level_range_reaches_loud_levels_the_gain_rule_never_makes():
    from kws.training.data import silence
    from kws.training.config import TrainConfig
    from kws.training.features import silence_audio

    config = TrainConfig(silence_examples=40, silence_rms_dbfs=(-50.0, -20.0))
    paths = [r.path for r in silence(config)]
    assert paths[0] == "silence:0:0@-50,-20" and len(set(paths)) == 40
    levels = [rms_dbfs(silence_audio(p, bank(), np.random.default_rng(i), 16000, 16000)) for i, p in enumerate(paths)]
    assert -50.01 <= min(levels) and max(levels) <= -19.99 and max(levels) - min(levels) > 15
    # the Speech Commands rule: a gain of 0..1 on the recording's own (here -60 dBFS) level
    plain = [rms_dbfs(silence_audio(f"silence:0:{i}", bank(), np.random.default_rng(i), 16000, 16000)) for i in range(40)]
    assert max(plain) <= -59.9


@pytest.mark.parametrize("value", [(-20.0,), (-20.0, -50.0), (-30.0, 3.0)])
def test_bad_level_ranges_are_refused(value):
    from kws.training.config import TrainConfig

    with pytest.raises(ConfigError, match="silence_rms_dbfs"):
        TrainConfig(silence_rms_dbfs=value)
