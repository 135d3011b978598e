"""Model registry: one module per architecture, each with ``build(input_shape, n_classes, **params)``.

Every builder takes dequantized float features ``[batch, frames, n_mfcc]``
(real MFCC units, see :func:`kws.frontend.dequantize_features`) and ends in a
softmax, so the int8 model outputs int8 class scores with the TFLite softmax
quantization (scale 1/256, zero point -128). Train with
``SparseCategoricalCrossentropy(from_logits=False)``.

Only layers that become TFLite int8 builtins a hand-written C kernel set can
implement are used: CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED,
AVERAGE_POOL_2D / MAX_POOL_2D, ADD (one input may broadcast over adjacent axes), RELU / RELU6, RESHAPE, SOFTMAX
(BatchNorm folds into convolutions, dropout vanishes at conversion).

=============  ===========================================  ==============================
name           architecture                                 int8 weight bytes (defaults)
=============  ===========================================  ==============================
``tiny_conv``  micro_speech: one conv + one dense           12,720
``ds_cnn``     DS-CNN (MLPerf Tiny), ``width`` 64 / 48      24,368 / 15,216 (width=48)
``tc_resnet``  TC-ResNet8 (temporal convs, residual adds)   64,432 / 16,736 (0.5x width)
``bc_resnet``  BC-ResNet (broadcast residual, on MFCCs)     18,068
=============  ===========================================  ==============================
"""

from __future__ import annotations

from typing import Any, Callable

import keras
import numpy as np

from kws.errors import ConfigError
from kws.training.models import bc_resnet, ds_cnn, tc_resnet, tiny_conv

#: Architecture name -> builder ``build(input_shape=(49, 10), n_classes=12, **params) -> keras.Model``.
MODELS: dict[str, Callable[..., keras.Model]] = {
    "tiny_conv": tiny_conv.build,
    "ds_cnn": ds_cnn.build,
    "tc_resnet": tc_resnet.build,
    "bc_resnet": bc_resnet.build,
}

_WEIGHT_LAYERS = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.Dense)


def build_model(name: str, input_shape=(49, 10), n_classes: int = 12, **params: Any) -> keras.Model:
    """Build a registered architecture by name.

    Raises
    ------
    ConfigError
        unknown ``name``, or a parameter the builder does not take (the message names it).
    """
    if name not in MODELS:
        raise ConfigError(f"unknown model architecture {name!r}; choose from {sorted(MODELS)}")
    try:
        return MODELS[name](input_shape, n_classes, **params)
    except TypeError as exc:
        raise ConfigError(f"model {name!r}: bad parameters {sorted(params)} ({exc})") from exc


def _weight_layers(model: keras.Model):
    for layer in model._flatten_layers(include_self=False):  # nested models included
        if isinstance(layer, _WEIGHT_LAYERS):
            yield layer


def _layer_sizes(layer) -> tuple[int, int]:
    """(kernel elements, output channels) of a conv / depthwise / dense layer."""
    shape = [int(d) for d in layer.kernel.shape]
    n_out = shape[-1] * (shape[-2] if isinstance(layer, keras.layers.DepthwiseConv2D) else 1)
    return int(np.prod(shape)), n_out


def folded_parameter_count(model: keras.Model) -> int:
    """Parameters after BatchNorm folding: every kernel element plus one bias per output channel."""
    return sum(k + n for k, n in (_layer_sizes(layer) for layer in _weight_layers(model)))


def count_int8_weight_bytes(model: keras.Model) -> int:
    """Bytes of constant weights in the int8 model: 1 byte per kernel element, 4 per (int32) bias.

    Every convolution / dense layer gets a bias in the int8 model (its own, or
    the folded BatchNorm shift). Quantization parameters and the flatbuffer
    overhead are not included; :func:`kws.training.quantize.tflite_weight_bytes`
    measures a converted model.
    """
    return sum(k + 4 * n for k, n in (_layer_sizes(layer) for layer in _weight_layers(model)))


__all__ = ["MODELS", "build_model", "count_int8_weight_bytes", "folded_parameter_count"]
