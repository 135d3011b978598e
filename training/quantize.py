"""Full-integer post-training quantization of a Keras model to an int8 TFLite flatbuffer.

The model's int8 input must read the front end's features as they are: scale
``FrontendConfig.feature_scale`` and zero point ``feature_zero_point`` (0.5 and
64 by default, i.e. real values -96 .. +31.5). Calibration would otherwise pick
the range from the data, so :func:`convert_to_int8` adds one representative
example whose first two values are the int8 extremes -128 and +127
(dequantized: the ends of the feature range). The input's min/max then span
exactly the feature range and the converter's asymmetric int8 parameters come
out as (feature_scale, feature_zero_point). The result is read back from the
flatbuffer and any difference raises :class:`~kws.errors.ModelError`: the
input format is asserted, not trusted to calibration.

Weights are per-channel int8 (conv, depthwise, dense), activations per-tensor
int8, biases int32; input and output tensors are int8 (the softmax output has
the fixed TFLite scale 1/256, zero point -128).

TensorFlow is imported here and nowhere under ``kws``.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from typing import Iterator

import numpy as np

from kws.config import FrontendConfig
from kws.errors import ModelError
from kws.frontend import dequantize_features
from kws.model import TensorInfo, check_input_format, inspect_tflite

#: TFLite builtin operators that the int8 models may use (all have int8 TFLM reference
#: kernels and are implemented by the C exporter).
ALLOWED_OPS = frozenset({
    "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "MAX_POOL_2D",
    "ADD", "RELU", "RELU6", "RESHAPE", "SOFTMAX",
})

#: Cap on calibration examples (more gives no better ranges, only a slower conversion).
MAX_REPRESENTATIVE = 500


def calibration_set(representative_features_int8: np.ndarray, frontend: FrontendConfig) -> np.ndarray:
    """int8 calibration features with one extra example that spans the full int8 range.

    Parameters
    ----------
    representative_features_int8 : np.ndarray [shape=(n, frames, n_mfcc), int8]
        Typical features (e.g. a few hundred training clips), n >= 1.
    frontend : FrontendConfig
        Front end the features came from (for the shape check).

    Returns
    -------
    np.ndarray [shape=(min(n, MAX_REPRESENTATIVE) + 1, frames, n_mfcc), int8]
        The (evenly subsampled) examples plus a copy of the first one whose
        values [0, 0] and [0, 1] are set to -128 and +127. Only two values
        change, so the ranges calibrated for the inner layers stay typical.
    """
    features = np.asarray(representative_features_int8)
    frame_shape = (frontend.frames_per_clip, frontend.n_mfcc)
    if features.dtype != np.int8 or features.ndim != 3 or features.shape[1:] != frame_shape or len(features) == 0:
        raise ModelError(f"representative features must be int8 [n >= 1, {frame_shape[0]}, {frame_shape[1]}], "
                         f"got {features.dtype} {list(features.shape)}")
    if len(features) > MAX_REPRESENTATIVE:
        features = features[np.linspace(0, len(features) - 1, MAX_REPRESENTATIVE).round().astype(int)]
    extremes = features[:1].copy()
    extremes[0, 0, 0] = np.iinfo(np.int8).min
    extremes[0, 0, 1 % frame_shape[1]] = np.iinfo(np.int8).max
    if frame_shape[1] == 1:
        extremes[0, 1 % frame_shape[0], 0] = np.iinfo(np.int8).max
    return np.concatenate([features, extremes])


def convert_to_int8(model, representative_features_int8: np.ndarray, frontend: FrontendConfig) -> bytes:
    """Convert a float Keras model to a full-integer int8 TFLite flatbuffer.

    Parameters
    ----------
    model : keras.Model
        Takes dequantized features ``[batch, frames, n_mfcc]`` float32 (real MFCC
        units), as built by :mod:`kws.training.models`.
    representative_features_int8 : np.ndarray [shape=(n, frames, n_mfcc), int8]
        Calibration features straight from the front end.
    frontend : FrontendConfig
        Front end whose int8 feature format the model input must use.

    Returns
    -------
    bytes
        The ``.tflite`` flatbuffer: int8 input ``[1, frames, n_mfcc]`` with
        scale ``frontend.feature_scale`` and zero point ``frontend.feature_zero_point``,
        int8 output ``[1, n_classes]``.

    Raises
    ------
    ModelError
        the converted model's input quantization differs from the front end's
        format, or it uses an operator outside :data:`ALLOWED_OPS`.
    """
    import tensorflow as tf

    calibration = calibration_set(representative_features_int8, frontend)

    def representative_dataset() -> Iterator[list[np.ndarray]]:
        for features in calibration:
            yield [dequantize_features(features, frontend)[None]]

    # A fixed batch of 1: with a dynamic batch, Reshape/Flatten become SHAPE/STRIDED_SLICE/PACK ops.
    import keras

    features = keras.Input(batch_shape=(1, frontend.frames_per_clip, frontend.n_mfcc), name="features")
    fixed = keras.Model(features, model(features, training=False), name=model.name)
    converter = tf.lite.TFLiteConverter.from_keras_model(fixed)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative_dataset
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        # Keras prints the exported signature; the converter warns that no input statistics
        # were given, which is intended: the calibration set fixes the input range.
        warnings.filterwarnings("ignore", message="Statistics for quantized inputs were expected")
        tflite = bytes(converter.convert())

    info = inspect_tflite(tflite, source=f"converted {model.name}")
    check_input_format(info, frontend, source=f"converted {model.name}")
    if info.output.dtype != "int8":
        raise ModelError(f"converted {model.name}: output is {info.output.dtype}, expected int8")
    unexpected = sorted(info.op_set - ALLOWED_OPS)
    if unexpected:
        raise ModelError(f"converted {model.name}: operators {unexpected} are outside the supported set "
                         f"{sorted(ALLOWED_OPS)}")
    return tflite


def input_output_quantization(tflite: bytes) -> tuple[TensorInfo, TensorInfo]:
    """``(input, output)`` tensor descriptions (shape, dtype, scale, zero point) of a flatbuffer."""
    info = inspect_tflite(tflite)
    return info.input, info.output


def ops_used(tflite: bytes) -> set[str]:
    """Set of operator names in a flatbuffer (``"CONV_2D"``, ...; custom ops as ``"CUSTOM:<name>"``)."""
    return set(inspect_tflite(tflite).ops)


def tflite_weight_bytes(tflite: bytes) -> int:
    """Bytes of constant tensor data (int8 weights, int32 biases, shape constants) in a flatbuffer."""
    return inspect_tflite(tflite).weight_bytes


__all__ = ["ALLOWED_OPS", "calibration_set", "convert_to_int8", "input_output_quantization", "ops_used",
           "tflite_weight_bytes"]
