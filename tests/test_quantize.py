"""int8 conversion: allowed operators only, input quantization fixed by the front end, int8 output."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

keras = pytest.importorskip("keras")
pytest.importorskip("tensorflow")

from kws.config import FrontendConfig  # noqa: E402
from kws.errors import ModelError  # noqa: E402
from kws.model import check_input_format, inspect_tflite  # noqa: E402
from kws.training.models import build_model, ds_cnn  # noqa: E402
from kws.training.quantize import (ALLOWED_OPS, calibration_set, convert_to_int8, input_output_quantization,  # noqa: E402
                               ops_used, tflite_weight_bytes)

FRONTEND = FrontendConfig()

#: Small settings of each architecture (ds_cnn at the width that fits 20 KB).
SMALL = {"tiny_conv": ("tiny_conv", {}), "ds_cnn": ("ds_cnn", {"width": ds_cnn.SMALL_WIDTH}),
         "tc_resnet": ("tc_resnet", {"width_multiplier": 0.5}),
         "tc_resnet_separable": ("tc_resnet", {"separable": True})}


def narrow_features(n: int = 24, seed: int = 0) -> np.ndarray:
    """Typical-looking int8 features that never reach the ends of the int8 range."""
    rng = np.random.default_rng(seed)
    return rng.integers(-40, 50, size=(n, 49, 10)).astype(np.int8)


@pytest.fixture(scope="module")
def converted() -> dict[str, bytes]:
    return {key: convert_to_int8(build_model(name, n_classes=5, **params), narrow_features(), FRONTEND)
            for key, (name, params) in SMALL.items()}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_only_allowed_ops(converted, name):
    used = ops_used(converted[name])
    assert used <= ALLOWED_OPS, used - ALLOWED_OPS
    assert {"CONV_2D", "FULLY_CONNECTED", "SOFTMAX"} <= used
    assert not {"QUANTIZE", "DEQUANTIZE"} & used


@pytest.mark.parametrize("name", sorted(SMALL))
def test_input_is_front_end_format_output_is_int8(converted, name):
    tensor_in, tensor_out = input_output_quantization(converted[name])
    assert tensor_in.dtype == "int8" and tensor_in.shape == (1, 49, 10)
    assert abs(tensor_in.scale - FRONTEND.feature_scale) <= 1e-6 * FRONTEND.feature_scale
    assert tensor_in.zero_point == FRONTEND.feature_zero_point == 64
    assert tensor_out.dtype == "int8" and tensor_out.shape == (1, 5)
    assert tensor_out.scale == pytest.approx(1.0 / 256.0) and tensor_out.zero_point == -128


def test_small_ds_cnn_int8_weights_within_20_kb(converted):
    assert tflite_weight_bytes(converted["ds_cnn"]) <= 20_000
    assert tflite_weight_bytes(converted["tc_resnet_separable"]) <= 20_000


def test_architecture_specific_ops(converted):
    assert "DEPTHWISE_CONV_2D" in ops_used(converted["ds_cnn"])
    assert "ADD" in ops_used(converted["tc_resnet"])
    assert "AVERAGE_POOL_2D" in ops_used(converted["tc_resnet"])
    assert {"DEPTHWISE_CONV_2D", "ADD"} <= ops_used(converted["tc_resnet_separable"])


def test_calibration_set_spans_int8_range():
    features = narrow_features(4)
    calibration = calibration_set(features, FRONTEND)
    assert calibration.shape == (5, 49, 10) and calibration.dtype == np.int8
    np.testing.assert_array_equal(calibration[:4], features)
    assert calibration.min() == -128 and calibration.max() == 127
    assert np.count_nonzero(calibration[4] != features[0]) == 2  # only two values changed


def test_constant_representative_data_still_gives_front_end_scale():
    flat = np.full((3, 49, 10), 64, dtype=np.int8)  # every value is MFCC 0.0
    tflite = convert_to_int8(build_model("tiny_conv", n_classes=3), flat, FRONTEND)
    tensor_in, _ = input_output_quantization(tflite)
    assert (tensor_in.scale, tensor_in.zero_point) == (0.5, 64)


def test_bad_representative_features_refused():
    model = build_model("tiny_conv", n_classes=3)
    with pytest.raises(ModelError, match="int8"):
        convert_to_int8(model, narrow_features(2).astype(np.float32), FRONTEND)
    with pytest.raises(ModelError, match="49, 10"):
        convert_to_int8(model, narrow_features(2)[:, :40], FRONTEND)


def test_disallowed_op_refused():
    inputs = keras.Input(shape=(49, 10))
    x = keras.layers.Reshape((49, 10, 1))(inputs)
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)  # becomes MEAN, which the C kernels do not implement
    outputs = keras.layers.Softmax()(keras.layers.Dense(3)(x))
    with pytest.raises(ModelError, match="MEAN"):
        convert_to_int8(keras.Model(inputs, outputs, name="uses_mean"), narrow_features(8), FRONTEND)


def test_input_format_mismatch_refused(converted):
    info = inspect_tflite(converted["tiny_conv"])
    check_input_format(info, FRONTEND)
    with pytest.raises(ModelError, match="zero point"):
        check_input_format(info, FrontendConfig(feature_zero_point=60))
    with pytest.raises(ModelError, match="scale"):
        check_input_format(info, FrontendConfig(feature_shift_bits=5))
    with pytest.raises(ModelError, match="shape"):
        check_input_format(info, FrontendConfig(n_mfcc=13))
    wrong = dataclasses.replace(info, input=dataclasses.replace(info.input, scale=0.5 * (1 + 1e-5)))
    with pytest.raises(ModelError, match="differs from the front end"):
        check_input_format(wrong, FRONTEND)
