"""``ds_cnn``: depthwise-separable CNN (Hello Edge; the MLPerf Tiny keyword-spotting model).

    features [49, 10] -> reshape [49, 10, 1]
        -> conv2d (width, kernel 10x4, stride 2x2, same) + BN + ReLU -> dropout
        -> n_blocks x [depthwise 3x3 + BN + ReLU -> pointwise 1x1 (width) + BN + ReLU]
        -> dropout -> average pool over the whole map -> flatten
        -> fully connected (n_classes) -> softmax

BatchNorm is folded into the convolutions at conversion and dropout disappears,
so the int8 model uses only RESHAPE, CONV_2D, DEPTHWISE_CONV_2D,
AVERAGE_POOL_2D, FULLY_CONNECTED and SOFTMAX. The global pooling is an
``AveragePooling2D`` over the full map (not ``GlobalAveragePooling2D``, which
converts to MEAN).

Parameter counts (49x10 input, 12 classes, after BatchNorm folding) and int8
weight bytes (int8 kernels + int32 biases, :func:`kws.training.models.count_int8_weight_bytes`):

=====  ==========  =================  ===================================
width  parameters  int8 weight bytes  note
=====  ==========  =================  ===================================
64     22,604      24,368             DS-CNN-S, the MLPerf Tiny model
48     13,884      15,216             fits a 20 KB weight budget
32     7,212       8,112
=====  ==========  =================  ===================================
"""

from __future__ import annotations

from typing import Sequence

import keras

#: Width of the MLPerf Tiny DS-CNN (DS-CNN-S).
DEFAULT_WIDTH = 64
#: Largest multiple of 16 whose int8 weights fit in 20 KB.
SMALL_WIDTH = 48


def build(
    input_shape: Sequence[int] = (49, 10),
    n_classes: int = 12,
    *,
    width: int = DEFAULT_WIDTH,
    n_blocks: int = 4,
    first_kernel: tuple[int, int] = (10, 4),
    first_strides: tuple[int, int] = (2, 2),
    dropout: float = 0.2,
) -> keras.Model:
    """Build a DS-CNN keyword classifier.

    Parameters
    ----------
    input_shape : (frames, n_mfcc)
        Shape of one example of dequantized features (float, real MFCC units).
    n_classes : int
        Number of output classes.
    width : int
        Channels of every convolution (64 = DS-CNN-S; 48 fits int8 weights in 20 KB).
    n_blocks : int
        Number of depthwise-separable blocks (MLPerf Tiny: 4).
    first_kernel : (time, frequency)
        Kernel of the first, regular convolution.
    first_strides : (time, frequency)
        Strides of the first convolution.
    dropout : float
        Dropout rate after the first convolution and before pooling (removed at conversion).

    Returns
    -------
    keras.Model
        Input ``[batch, frames, n_mfcc]`` float32, output ``[batch, n_classes]``
        softmax probabilities.
    """
    frames, n_mfcc = (int(d) for d in input_shape)
    inputs = keras.Input(shape=(frames, n_mfcc), name="features")
    x = keras.layers.Reshape((frames, n_mfcc, 1))(inputs)
    x = keras.layers.Conv2D(width, first_kernel, strides=first_strides, padding="same", use_bias=False,
                            name="conv0")(x)
    x = keras.layers.BatchNormalization(name="conv0_bn")(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.Dropout(dropout)(x)
    for i in range(1, n_blocks + 1):
        x = keras.layers.DepthwiseConv2D((3, 3), padding="same", use_bias=False, name=f"dw{i}")(x)
        x = keras.layers.BatchNormalization(name=f"dw{i}_bn")(x)
        x = keras.layers.ReLU()(x)
        x = keras.layers.Conv2D(width, (1, 1), use_bias=False, name=f"pw{i}")(x)
        x = keras.layers.BatchNormalization(name=f"pw{i}_bn")(x)
        x = keras.layers.ReLU()(x)
    x = keras.layers.Dropout(dropout)(x)
    x = keras.layers.AveragePooling2D(pool_size=tuple(x.shape[1:3]), name="pool")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(n_classes, name="logits")(x)
    outputs = keras.layers.Softmax(name="scores")(x)
    return keras.Model(inputs, outputs, name="ds_cnn")
