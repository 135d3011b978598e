"""The committed golden vectors still describe what the front end computes."""

from pathlib import Path

import numpy as np
import pytest

from kws.frontend import compute_mfcc, quantize_features
from kws.frontend.golden import DEFAULT_DIR, golden_inputs, read_golden

GOLDEN = sorted(Path(DEFAULT_DIR).glob("*.json"))


def test_golden_set_is_complete():
    from kws.config import FrontendConfig

    assert {p.stem for p in GOLDEN} == set(golden_inputs(FrontendConfig()))


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_golden_vector(path):
    config, pcm, mfcc, features = read_golden(path)
    np.testing.assert_array_equal(compute_mfcc(pcm, config), mfcc)
    np.testing.assert_array_equal(quantize_features(mfcc, config), features)
    assert len(features) == (len(pcm) - config.window_samples) // config.hop_samples + 1
