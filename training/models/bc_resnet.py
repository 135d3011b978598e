"""``bc_resnet``: broadcast-residual network (Kim et al., Interspeech 2021, BC-ResNet), adapted to MFCC input.

BC-ResNet splits a block into a 2-D part along frequency and a 1-D part along
time: a frequency-wise depthwise convolution keeps the [time, frequency] map,
its average over frequency feeds a temporal depthwise convolution and a 1 x 1
convolution, and that 1-D result is added back to every frequency row
(the "broadcast" residual)::

    features [49, 10] -> reshape [49, 10, 1]  (time, MFCC coefficient, channel)
        -> conv (3 x 3, stride 2 in time) + BN + ReLU
        -> blocks, per stage; a block that changes the shape is a transition:
               x = conv 1 x 1 (new channels, stride in time and coefficients) + BN + ReLU
               f2 = depthwise (1 x 3 along coefficients) + BN
               f1 = average over coefficients -> depthwise (3 x 1 along time) + BN + ReLU
                    -> conv 1 x 1 -> dropout
               out = ReLU(f2 + f1 broadcast over coefficients [+ x in normal blocks])
        -> depthwise (1 x coefficients, valid) -> conv 1 x 1 (head) + BN + ReLU
        -> average over time -> fully connected -> softmax

Changes from the paper, each for the int8 C kernels and the budgets: ReLU
instead of swish, BatchNorm instead of SubSpectral Norm (both fold into the
convolutions), time subsampling in the first conv and the transitions (the
paper keeps 101 frames of 40 log-mel bands; here 49 frames of 10 MFCCs), and
frequency strides in the 1 x 1 transition
conv (TensorFlow's depthwise kernel needs equal strides in both axes). The
int8 model uses RESHAPE, CONV_2D, DEPTHWISE_CONV_2D, AVERAGE_POOL_2D, ADD
(one operand broadcast over the coefficient axis), FULLY_CONNECTED and SOFTMAX.

MFCCs are a cosine transform of the mel bands, so neighbouring coefficients are
not neighbouring frequencies: the frequency-wise kernels see cepstral, not
spectral, neighbourhoods; cross-validated it scored 7 points below the shipped
separable TC-ResNet8 (``training/configs/RESULTS.md``).

At the defaults (49 x 10 input, 12 classes): 15,572 parameters after BatchNorm
folding, 18,068 bytes of int8 weights, 222,604 multiply-accumulates per
inference (the shipped separable TC-ResNet8: 19,876 B, 231,172). Exported, it
takes 5.2 M Cortex-M4 instructions per inference against 1.3 M: its 2-D
depthwise layers run in the general kernels, not the time-only fast ones.
"""

from __future__ import annotations

from typing import Sequence

import keras

#: Channels of the first conv, then of each stage.
BC_RESNET_CHANNELS = (16, 16, 24, 36, 44)
#: Blocks per stage (the first of each is the transition).
BC_RESNET_BLOCKS = (1, 1, 2, 2)
#: (time, coefficient) strides of each stage's transition.
BC_RESNET_STRIDES = ((1, 1), (2, 2), (2, 2), (1, 1))


def _bn(x, name: str):
    return keras.layers.BatchNormalization(name=name)(x)


def _block(x, channels: int, stride: tuple[int, int], name: str, *, transition: bool, dropout: float):
    if transition:
        x = keras.layers.Conv2D(channels, 1, strides=stride, use_bias=False, name=f"{name}_pw_in")(x)
        x = keras.layers.ReLU()(_bn(x, f"{name}_pw_in_bn"))
    f2 = keras.layers.DepthwiseConv2D((1, 3), padding="same", use_bias=False, name=f"{name}_freq_dw")(x)
    f2 = _bn(f2, f"{name}_freq_bn")
    coefficients = int(f2.shape[2])
    f1 = keras.layers.AveragePooling2D((1, coefficients), name=f"{name}_freq_mean")(f2)
    f1 = keras.layers.DepthwiseConv2D((3, 1), padding="same", use_bias=False, name=f"{name}_time_dw")(f1)
    f1 = keras.layers.ReLU()(_bn(f1, f"{name}_time_bn"))
    f1 = keras.layers.Conv2D(channels, 1, name=f"{name}_time_pw")(f1)
    if dropout > 0:
        f1 = keras.layers.Dropout(dropout)(f1)
    # Add broadcasts f1 [T, 1, C] over the coefficient axis of f2 [T, F, C].
    branches = [f2, f1] if transition else [x, f2, f1]
    return keras.layers.ReLU()(keras.layers.Add(name=f"{name}_add")(branches))


def build(
    input_shape: Sequence[int] = (49, 10),
    n_classes: int = 12,
    *,
    channels: Sequence[int] = BC_RESNET_CHANNELS,
    blocks: Sequence[int] = BC_RESNET_BLOCKS,
    strides: Sequence[Sequence[int]] = BC_RESNET_STRIDES,
    first_kernel: int = 3,
    head_channels: int = 56,
    dropout: float = 0.1,
) -> keras.Model:
    """Build a BC-ResNet keyword classifier on MFCC features.

    Parameters
    ----------
    input_shape : (frames, n_mfcc)
        Shape of one example of dequantized features (float, real MFCC units).
    n_classes : int
        Number of output classes.
    channels : sequence of int
        Channels of the first conv, then one entry per stage.
    blocks : sequence of int
        Blocks per stage (at least one: the transition).
    strides : sequence of (time, coefficient) pairs
        Stride of each stage's transition conv.
    first_kernel : int
        Square kernel of the first conv (the paper's 5 costs ~3x the MACs of 3 here).
    head_channels : int
        Channels of the 1 x 1 conv before the time average.
    dropout : float
        Dropout of every block's temporal branch (removed at conversion).
    """
    frames, n_mfcc = (int(d) for d in input_shape)
    if not len(channels) - 1 == len(blocks) == len(strides):
        raise TypeError(f"channels needs one entry more than blocks and strides, got {list(channels)}, "
                        f"{list(blocks)}, {[list(s) for s in strides]}")
    if any(int(n) < 1 for n in blocks):
        raise TypeError(f"every stage needs at least one block, got {list(blocks)}")
    inputs = keras.Input(shape=(frames, n_mfcc), name="features")
    x = keras.layers.Reshape((frames, n_mfcc, 1))(inputs)
    x = keras.layers.Conv2D(int(channels[0]), int(first_kernel), strides=(2, 1), padding="same", use_bias=False, name="conv0")(x)
    x = keras.layers.ReLU()(_bn(x, "conv0_bn"))
    for stage, (width, n_blocks, stride) in enumerate(zip(channels[1:], blocks, strides), start=1):
        for index in range(int(n_blocks)):
            step = tuple(int(s) for s in stride) if index == 0 else (1, 1)
            # A transition only where the shape changes: else the identity residual stays.
            transition = step != (1, 1) or int(x.shape[-1]) != int(width)
            x = _block(x, int(width), step, f"stage{stage}_{index}", transition=transition, dropout=dropout)
    x = keras.layers.DepthwiseConv2D((1, int(x.shape[2])), use_bias=False, name="head_freq_dw")(x)
    x = keras.layers.Conv2D(int(head_channels), 1, use_bias=False, name="head_pw")(_bn(x, "head_freq_bn"))
    x = keras.layers.ReLU()(_bn(x, "head_pw_bn"))
    x = keras.layers.AveragePooling2D(pool_size=tuple(x.shape[1:3]), name="pool")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(n_classes, name="logits")(x)
    outputs = keras.layers.Softmax(name="scores")(x)
    return keras.Model(inputs, outputs, name="bc_resnet")
