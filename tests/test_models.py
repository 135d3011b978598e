"""Model registry: every architecture builds, has the documented size, and stays within its budgets."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from kws.errors import ConfigError  # noqa: E402
from kws.training.models import MODELS, build_model, count_int8_weight_bytes, folded_parameter_count  # noqa: E402
from kws.training.models import ds_cnn  # noqa: E402

#: Parameter counts after BatchNorm folding at the default settings, as documented in each module.
DOCUMENTED_PARAMETERS = {"tiny_conv": 12_660, "ds_cnn": 22_604, "tc_resnet": 63_412, "bc_resnet": 15_572}


def test_registry_names():
    assert set(MODELS) == {"tiny_conv", "ds_cnn", "tc_resnet", "bc_resnet"}
    for name, builder in MODELS.items():
        assert builder.__doc__, f"{name} builder has no docstring"
        assert "Parameters" in builder.__doc__


@pytest.mark.parametrize("name", sorted(MODELS))
def test_builds_with_defaults_and_outputs_probabilities(name):
    model = MODELS[name]()
    assert tuple(model.input_shape) == (None, 49, 10)
    assert tuple(model.output_shape) == (None, 12)
    x = np.random.default_rng(0).normal(-20.0, 10.0, size=(3, 49, 10)).astype(np.float32)
    y = np.asarray(model(x, training=False))
    assert y.shape == (3, 12)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, atol=1e-5)  # softmax at the end
    assert folded_parameter_count(model) == DOCUMENTED_PARAMETERS[name]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_other_shapes_and_class_counts(name):
    model = build_model(name, input_shape=(49, 10), n_classes=3)
    assert tuple(model.output_shape) == (None, 3)


def test_no_layers_without_plain_int8_kernels():
    banned = ("GlobalAveragePooling", "GlobalMaxPooling", "LayerNormalization", "GroupNormalization",
              "Multiply", "Concatenate", "Lambda")
    for name in MODELS:
        model = build_model(name)
        used = {type(layer).__name__ for layer in model.layers}
        assert not [b for b in banned if any(u.startswith(b) for u in used)], (name, used)


def test_int8_weight_bytes_counts_kernels_and_int32_biases():
    model = build_model("tiny_conv", n_classes=12)
    conv = 10 * 8 * 1 * 8 + 4 * 8
    dense = 25 * 5 * 8 * 12 + 4 * 12
    assert count_int8_weight_bytes(model) == conv + dense


def test_ds_cnn_small_width_fits_20_kb():
    small = build_model("ds_cnn", width=ds_cnn.SMALL_WIDTH)
    assert count_int8_weight_bytes(small) <= 20_000
    assert count_int8_weight_bytes(build_model("ds_cnn", width=ds_cnn.SMALL_WIDTH + 16)) > 20_000
    assert count_int8_weight_bytes(build_model("ds_cnn", width=32)) < count_int8_weight_bytes(small)


def test_tc_resnet_width_multiplier_shrinks():
    full = count_int8_weight_bytes(build_model("tc_resnet"))
    half = count_int8_weight_bytes(build_model("tc_resnet", width_multiplier=0.5))
    assert half < full / 3


def test_unknown_architecture_and_parameter_are_named():
    with pytest.raises(ConfigError, match="resnet50"):
        build_model("resnet50")
    with pytest.raises(ConfigError, match="widht"):
        build_model("ds_cnn", widht=32)


def test_bc_resnet_fits_20_kb_and_checks_its_stages():
    assert count_int8_weight_bytes(build_model("bc_resnet")) <= 20_000
    with pytest.raises(ConfigError, match="one entry more"):
        build_model("bc_resnet", channels=[16, 24], blocks=[1, 1], strides=[[1, 1], [2, 2]])
    with pytest.raises(ConfigError, match="at least one block"):
        build_model("bc_resnet", channels=[8, 8], blocks=[0], strides=[[1, 1]])
