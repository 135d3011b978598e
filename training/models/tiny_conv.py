"""``tiny_conv``: the micro_speech model shape — one convolution and one fully connected layer.

    features [49, 10] -> reshape [49, 10, 1]
        -> conv2d (filters, kernel 10x8, stride 2x2, same) + ReLU -> dropout (training only)
        -> flatten -> fully connected (n_classes) -> softmax

TFLite int8 ops: RESHAPE, CONV_2D, FULLY_CONNECTED, SOFTMAX.

Parameter count with the defaults (49x10 input, 12 classes): 12,660
(conv 10x8x8 + 8, dense 1000x12 + 12); int8 weights 12,720 bytes (int8 kernels + int32 biases).
"""

from __future__ import annotations

from typing import Sequence

import keras


def build(
    input_shape: Sequence[int] = (49, 10),
    n_classes: int = 12,
    *,
    filters: int = 8,
    kernel_size: tuple[int, int] = (10, 8),
    strides: tuple[int, int] = (2, 2),
    dropout: float = 0.5,
) -> keras.Model:
    """Build the micro_speech ``tiny_conv`` classifier.

    Parameters
    ----------
    input_shape : (frames, n_mfcc)
        Shape of one example of dequantized features (float, real MFCC units).
    n_classes : int
        Number of output classes.
    filters : int
        Channels of the single convolution (micro_speech: 8).
    kernel_size : (time, frequency)
        Convolution kernel, clipped to the input size.
    strides : (time, frequency)
        Convolution strides.
    dropout : float
        Dropout rate after the convolution (removed at conversion).

    Returns
    -------
    keras.Model
        Input ``[batch, frames, n_mfcc]`` float32, output ``[batch, n_classes]``
        softmax probabilities.
    """
    frames, n_mfcc = (int(d) for d in input_shape)
    kernel = (min(kernel_size[0], frames), min(kernel_size[1], n_mfcc))
    inputs = keras.Input(shape=(frames, n_mfcc), name="features")
    x = keras.layers.Reshape((frames, n_mfcc, 1))(inputs)
    x = keras.layers.Conv2D(filters, kernel, strides=strides, padding="same", activation="relu", name="conv")(x)
    x = keras.layers.Dropout(dropout)(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(n_classes, name="logits")(x)
    outputs = keras.layers.Softmax(name="scores")(x)
    return keras.Model(inputs, outputs, name="tiny_conv")
