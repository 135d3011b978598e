"""``tc_resnet``: temporal-convolution ResNet (Choi et al., Interspeech 2019, TC-ResNet8/14).

The MFCC coefficients are treated as channels and every convolution runs along
time only, which suits 10 decorrelated MFCCs better than 2-D kernels::

    features [49, 10] -> reshape [49, 1, 10]
        -> conv2d (c0, kernel first_kernel x 1, same, no BN)
        -> residual blocks, one per entry of channels[1:]:
               conv (k x 1, stride 2) + BN + ReLU -> conv (k x 1) + BN
             + shortcut conv (1 x 1, stride 2) + BN + ReLU
             -> add -> ReLU
        -> average pool over the remaining frames -> flatten
        -> fully connected (n_classes) -> softmax

Blocks with ``blocks_per_stage=2`` (TC-ResNet14) add an identity block after
each strided one. BN folds into the convolutions at conversion, so the int8
model uses only RESHAPE, CONV_2D, ADD, AVERAGE_POOL_2D, FULLY_CONNECTED and
SOFTMAX (ReLU is fused into CONV_2D / ADD).

Parameter counts (49x10 input, 12 classes, after BatchNorm folding) and int8
weight bytes (int8 kernels + int32 biases):

==================================  ==========  =================
setting                             parameters  int8 weight bytes
==================================  ==========  =================
width_multiplier=1.0 (TC-ResNet8)   63,412      64,432
width_multiplier=0.5                16,208      16,736
blocks_per_stage=2 (TC-ResNet14)    133,892     135,536
separable=True                      --          13,984
separable=True, channels=(20, 32, 40, 56)  --  19,876
==================================  ==========  =================
"""

from __future__ import annotations

from typing import Sequence

import keras

#: Channels of TC-ResNet8 at width multiplier 1: first conv, then one entry per stage.
TC_RESNET8_CHANNELS = (16, 24, 32, 48)


def _conv(x, channels: int, kernel: int, stride: int, name: str, *, use_bias: bool = False):
    return keras.layers.Conv2D(channels, (kernel, 1), strides=(stride, 1), padding="same", use_bias=use_bias,
                               name=name)(x)


def _temporal_conv(x, channels: int, kernel: int, stride: int, name: str, *, separable: bool):
    """A k x 1 convolution along time; separable = depthwise k x 1 then pointwise 1 x 1 (~k times fewer weights)."""
    if not separable:
        return _conv(x, channels, kernel, stride, name)
    # TensorFlow's depthwise kernel needs equal strides in both axes, so the time stride moves
    # to the pointwise conv: subsampling after a 1 x 1 conv equals a strided depthwise conv.
    x = keras.layers.DepthwiseConv2D((kernel, 1), padding="same", use_bias=False, name=f"{name}_dw")(x)
    return _conv(x, channels, 1, stride, f"{name}_pw")


def _block(x, channels: int, kernel: int, stride: int, name: str, separable: bool = False):
    y = _temporal_conv(x, channels, kernel, stride, f"{name}_conv1", separable=separable)
    y = keras.layers.BatchNormalization(name=f"{name}_bn1")(y)
    y = keras.layers.ReLU()(y)
    y = _temporal_conv(y, channels, kernel, 1, f"{name}_conv2", separable=separable)
    y = keras.layers.BatchNormalization(name=f"{name}_bn2")(y)
    if stride != 1 or x.shape[-1] != channels:
        x = _conv(x, channels, 1, stride, f"{name}_short")
        x = keras.layers.BatchNormalization(name=f"{name}_short_bn")(x)
        x = keras.layers.ReLU()(x)
    y = keras.layers.Add(name=f"{name}_add")([x, y])
    return keras.layers.ReLU()(y)


def build(
    input_shape: Sequence[int] = (49, 10),
    n_classes: int = 12,
    *,
    width_multiplier: float = 1.0,
    channels: Sequence[int] = TC_RESNET8_CHANNELS,
    kernel: int = 9,
    first_kernel: int = 3,
    blocks_per_stage: int = 1,
    dropout: float = 0.0,
    separable: bool = False,
) -> keras.Model:
    """Build a TC-ResNet keyword classifier.

    Parameters
    ----------
    input_shape : (frames, n_mfcc)
        Shape of one example of dequantized features (float, real MFCC units).
    n_classes : int
        Number of output classes.
    width_multiplier : float
        Scales every channel count (paper's ``k``); channels are rounded, at least 4.
    channels : sequence of int
        Channels of the first convolution, then of each stage (default TC-ResNet8: 16, 24, 32, 48).
    kernel : int
        Temporal kernel length of the residual convolutions (paper: 9).
    first_kernel : int
        Temporal kernel length of the first convolution (paper: 3).
    blocks_per_stage : int
        1 = TC-ResNet8, 2 = TC-ResNet14 (an identity block after each strided block).
    dropout : float
        Dropout rate before the classifier (removed at conversion).
    separable : bool
        Depthwise-separable temporal convolutions (depthwise k x 1 + pointwise 1 x 1) in the
        residual blocks: about ``kernel`` times fewer weights, so wider channels fit a small budget.

    Returns
    -------
    keras.Model
        Input ``[batch, frames, n_mfcc]`` float32, output ``[batch, n_classes]``
        softmax probabilities.
    """
    frames, n_mfcc = (int(d) for d in input_shape)
    widths = [max(4, int(round(c * width_multiplier))) for c in channels]
    inputs = keras.Input(shape=(frames, n_mfcc), name="features")
    x = keras.layers.Reshape((frames, 1, n_mfcc))(inputs)
    x = _conv(x, widths[0], first_kernel, 1, "conv0", use_bias=True)
    for stage, width in enumerate(widths[1:], start=1):
        x = _block(x, width, kernel, 2, f"block{stage}a", separable)
        for extra in range(1, blocks_per_stage):
            x = _block(x, width, kernel, 1, f"block{stage}{chr(ord('a') + extra)}", separable)
    if dropout > 0:
        x = keras.layers.Dropout(dropout)(x)
    x = keras.layers.AveragePooling2D(pool_size=tuple(x.shape[1:3]), name="pool")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(n_classes, name="logits")(x)
    outputs = keras.layers.Softmax(name="scores")(x)
    return keras.Model(inputs, outputs, name="tc_resnet")
