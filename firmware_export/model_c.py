"""Emit the int8 model as plain C: constant tables, a static arena and a straight-line invoke.

``kws_model.c`` holds every weight (``const int8_t``), bias (``const int32_t``)
and per-channel ``(multiplier, shift)`` pair, one ``const`` parameter struct per
layer, one static arena planned by :mod:`kws.firmware_export.arena`, and
``kws_model_invoke`` calling the kernels of ``c/kws_kernels.c`` in graph order.
Every multiplier is computed here, in Python, the way TFLite Micro computes it
when it prepares the model (float64 products of the float32 scales, TFLite's
``QuantizeMultiplier``), so the device needs no floating point and the scores
equal the TFLite Micro reference kernels bit for bit.

TensorFlow is not imported.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from kws.firmware_export.arena import ArenaPlan, plan_arena
from kws.firmware_export.cgen import c_array
from kws.firmware_export.errors import ExportError
from kws.firmware_export.tflite_graph import Graph, Operator, add_broadcast_layout, parse_tflite
from kws.fixedpoint import quantize_multiplier

#: Left shift TFLite applies to int8 ADD inputs before rescaling them.
ADD_LEFT_SHIFT = 20
#: Integer bits of the scaled input differences of the int8 softmax (TFLite kScaledDiffIntegerBits).
SOFTMAX_INPUT_INTEGER_BITS = 5
#: Alignment of the arena buffers and of the constant arrays.
ALIGN = 4


@dataclasses.dataclass(frozen=True)
class LayerInfo:
    """One operator as emitted."""

    op: str
    layer: str
    macs: int
    """Multiply-accumulates (conv, depthwise, fully connected; 0 for the others)."""


@dataclasses.dataclass(frozen=True)
class ModelEmit:
    """What :func:`emit_model` produces."""

    files: dict[str, str]
    """``{"kws_model.h": body, "kws_model.c": body}`` (bodies without the generator stamp)."""
    arena_bytes: int
    macs_per_inference: int
    weight_bytes: int
    """Bytes of the constant arrays in kws_model.c (weights, biases, multipliers, shifts)."""
    ops: tuple[str, ...]
    """Operator names in execution order."""
    layers: tuple[LayerInfo, ...]
    plan: ArenaPlan
    constants: dict[str, int]
    """The :func:`model_constants` of this model (for kws_config.h)."""


# --------------------------------------------------------------------------- #
# Export-time arithmetic (TFLite Micro's Prepare, reproduced exactly)
# --------------------------------------------------------------------------- #


def _round_half_away(x: float) -> int:
    """TfLiteRound (std::round): halves away from zero."""
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def activation_range(activation: str, scale: float, zero_point: int) -> tuple[int, int]:
    """TFLite ``CalculateActivationRangeQuantized`` for an int8 output (float32 ``f / scale``)."""

    def quantize(f: float) -> int:
        return zero_point + _round_half_away(float(np.float32(f) / np.float32(scale)))

    lo, hi = -128, 127
    if activation == "RELU":
        return max(lo, quantize(0.0)), hi
    if activation == "RELU6":
        return max(lo, quantize(0.0)), min(hi, quantize(6.0))
    if activation == "RELU_N1_TO_1":
        return max(lo, quantize(-1.0)), min(hi, quantize(1.0))
    return lo, hi


def channel_multipliers(input_scale: float, filter_scales: tuple[float, ...], output_scale: float,
                        channels: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel ``(q31, shift)``: ``input_scale * filter_scale / output_scale`` in float64, as TFLite Micro."""
    scales = filter_scales if len(filter_scales) > 1 else filter_scales * channels
    pairs = [quantize_multiplier(float(input_scale) * float(s) / float(output_scale)) for s in scales]
    return (np.array([q for q, _ in pairs], dtype=np.int32), np.array([s for _, s in pairs], dtype=np.int32))


def same_padding(in_size: int, k: int, stride: int, dilation: int, padding: str) -> tuple[int, int]:
    """``(out_size, pad_before)`` as TFLite's ComputeOutSize / ComputePadding."""
    effective = (k - 1) * dilation + 1
    if padding == "SAME":
        out = (in_size + stride - 1) // stride
    else:
        out = (in_size + stride - effective) // stride
    total = max(0, (out - 1) * stride + effective - in_size)
    return out, total // 2


#: Scratch of kws_depthwise_time_s8 (kws_kernels.h: KWS_DW_COLUMN, KWS_DW_TAP_PAIRS).
DW_COLUMN = 128
DW_TAP_PAIRS = 8


def depthwise_time_fits(out_h: int, stride: int, k_h: int) -> bool:
    """Whether a time-only depthwise layer fits kws_depthwise_time_s8's scratch (KWS_DW_TIME_FITS)."""
    return k_h <= 2 * DW_TAP_PAIRS and (out_h + (out_h & 1) - 1) * stride + k_h + 1 <= DW_COLUMN


#: Scratch of kws_conv_time_s8 (kws_kernels.h: KWS_CONV_ROW).
CONV_ROW = 96


def conv_time_fits(k_h: int, in_c: int) -> bool:
    """Whether a time-only convolution fits kws_conv_time_s8's scratch (KWS_CONV_TIME_FITS)."""
    return (k_h * in_c + 3) // 4 * 4 <= CONV_ROW


def softmax_parameters(beta: float, input_scale: float) -> tuple[int, int, int]:
    """``(input_multiplier, input_left_shift, diff_min)`` as TFLite's PreprocessSoftmaxScaling / CalculateInputRadius."""
    bits = SOFTMAX_INPUT_INTEGER_BITS
    real = min(float(beta) * float(input_scale) * float(1 << (31 - bits)), float((1 << 31) - 1))
    q, shift = quantize_multiplier(real)
    if shift < 0:
        raise ExportError(f"softmax input scale {input_scale} x beta {beta} is too small (negative shift {shift})")
    radius = math.floor(1.0 * ((1 << bits) - 1) * float(1 << (31 - bits)) / float(1 << shift))
    return q, shift, -radius


def add_parameters(s1: float, s2: float, so: float) -> dict[str, int]:
    """ADD multipliers as TFLite's int8 Prepare (left shift 20, twice the larger input scale)."""
    twice_max = 2.0 * float(max(np.float32(s1), np.float32(s2)))
    out = {}
    for name, real in (("input1", float(s1) / twice_max), ("input2", float(s2) / twice_max),
                       ("output", twice_max / (float(1 << ADD_LEFT_SHIFT) * float(so)))):
        q, shift = quantize_multiplier(real)
        if shift > 0:
            raise ExportError(f"ADD {name} multiplier {real} is not smaller than one (TFLite refuses it too)")
        out[f"{name}_multiplier"], out[f"{name}_shift"] = q, shift
    return out


# --------------------------------------------------------------------------- #
# Emission
# --------------------------------------------------------------------------- #


def _hw(shape: tuple[int, ...]) -> tuple[int, int, int]:
    """(height, width, channels) of an NHWC tensor with batch 1."""
    return int(shape[1]), int(shape[2]), int(shape[3])


def _struct(ctype: str, name: str, fields: list[tuple[str, object]]) -> str:
    body = ",\n".join(f"    .{key} = {value}" for key, value in fields)
    return f"static const {ctype} {name} = {{\n{body}\n}};\n"


class _Emitter:
    def __init__(self, graph: Graph, plan: ArenaPlan):
        self.graph = graph
        self.plan = plan
        self.defs: list[str] = []
        self.calls: list[str] = []
        self.layers: list[LayerInfo] = []
        self.const_bytes = 0

    def ptr(self, index: int, *, const: bool) -> str:
        root = self.plan.aliases.get(index, index)
        kind = self.plan.external.get(root)
        if kind == "input":
            return "features"
        if kind == "output":
            return "scores"
        offset = self.plan.offsets[index]
        return f"&kws_arena[{offset}]" if offset else "kws_arena"

    def array(self, name: str, values: np.ndarray, ctype: str) -> str:
        # int32 tables and filters (read a word at a time) aligned; small int8 / int16 tables packed
        align = ALIGN if ctype == "int32_t" or name.endswith(("_filter", "_weights")) else None
        self.defs.append(c_array(name, values, ctype, align=align))
        self.const_bytes += int(np.asarray(values).size) * {"int8_t": 1, "int16_t": 2, "int32_t": 4}[ctype]
        return name

    def bias_fields(self, tag: str, bias) -> list[tuple[str, str]]:
        """``bias`` (int32) and ``bias16`` fields: int16 when every value fits, NULL when all are zero."""
        if bias is None or not np.any(bias.data):
            return [("bias", "NULL"), ("bias16", "NULL")]
        values = np.asarray(bias.data).astype(np.int64)
        if values.min() >= -32768 and values.max() <= 32767:
            return [("bias", "NULL"), ("bias16", self.array(f"{tag}_bias", values.astype(np.int16), "int16_t"))]
        return [("bias", self.array(f"{tag}_bias", values.astype(np.int32), "int32_t")), ("bias16", "NULL")]

    def time_struct(self, tag: str, op: Operator, *, in_h: int, in_c: int, out_h: int, out_c: int, k_h: int,
                    stride: int, pad: int, input_offset: int, output_offset: int, act: tuple[int, int],
                    filter_values: np.ndarray, bias, mult: np.ndarray, shift: np.ndarray, conv: bool) -> None:
        """A ``kws_time_params_t`` (time-only conv / depthwise / fully connected as a 1 x 1 conv).

        A convolution filter whose rows are not whole groups of 4 ends in 3 zero bytes: kws_conv_time_s8
        reads whole groups of 4 weights from the start of the valid run (the values they meet past the
        run are 0), at most 3 past the last row."""
        fields = [("in_h", in_h), ("in_c", in_c), ("out_h", out_h), ("out_c", out_c), ("k_h", k_h),
                  ("stride", stride), ("pad", pad), ("input_offset", input_offset)]
        self.int16_fields(op, fields)
        small = [("output_offset", output_offset), ("act_min", act[0]), ("act_max", act[1])]
        for key, value in small:
            self.check(op, -128 <= int(value) <= 127, f"{key} = {value} does not fit the int8 field")
        flat = np.asarray(filter_values).reshape(-1).astype(np.int8)
        if conv and in_c % 4:
            flat = np.concatenate([flat, np.zeros(3, dtype=np.int8)])
        bias_fields = self.bias_fields(tag, bias)
        wide = bias_fields[0][1] != "NULL"
        fields += small + [("bias32", int(wide)), ("filter", self.array(f"{tag}_filter", flat, "int8_t")),
                           ("bias", bias_fields[0][1] if wide else bias_fields[1][1]),
                           ("multiplier", self.array(f"{tag}_multiplier", mult, "int32_t")),
                           ("shift", self.shift_array(tag, op, shift))]
        self.defs.append(_struct("kws_time_params_t", tag, fields))

    def shift_array(self, tag: str, op: Operator, shift: np.ndarray) -> str:
        self.check(op, bool(np.all((shift >= -31) & (shift <= 31))), f"shift out of range: {shift}")
        return self.array(f"{tag}_shift", shift.astype(np.int8), "int8_t")

    def int16_fields(self, op: Operator, fields: list[tuple[str, object]]) -> None:
        for key, value in fields:
            if isinstance(value, (int, np.integer)):
                self.check(op, -32768 <= int(value) <= 32767, f"{key} = {value} does not fit the int16 field")

    def check(self, op: Operator, condition: bool, what: str) -> None:
        if not condition:
            raise ExportError(f"{self.graph.source}: layer {op.layer!r} ({op.op}): {what}")

    def emit(self, n: int, op: Operator) -> None:
        t = self.graph.tensors
        out = t[op.outputs[0]]
        data = t[op.inputs[0]]
        tag = f"kws_l{n:02d}"
        comment = f"    /* {n:2d} {op.op} {op.layer} */"
        macs = 0
        if op.op in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            flt = t[op.inputs[1]]
            bias = t[op.inputs[2]] if len(op.inputs) > 2 and op.inputs[2] >= 0 else None
            o = op.options
            in_h, in_w, in_c = _hw(data.shape)
            out_h, out_w, out_c = _hw(out.shape)
            if op.op == "CONV_2D":
                k_h, k_w = int(flt.shape[1]), int(flt.shape[2])
                dm = 1
            else:
                k_h, k_w = int(flt.shape[1]), int(flt.shape[2])
                dm = o["depth_multiplier"]
            oh, pad_h = same_padding(in_h, k_h, o["stride_h"], o["dilation_h"], o["padding"])
            ow, pad_w = same_padding(in_w, k_w, o["stride_w"], o["dilation_w"], o["padding"])
            self.check(op, (oh, ow) == (out_h, out_w), f"output {out_h}x{out_w} != computed {oh}x{ow}")
            mult, shift = channel_multipliers(data.scale, flt.scales, out.scale, out_c)
            act_min, act_max = activation_range(o["activation"], out.scale, out.zero_point)
            fields = [("in_h", in_h), ("in_w", in_w), ("in_c", in_c), ("out_h", out_h), ("out_w", out_w),
                      ("out_c", out_c), ("k_h", k_h), ("k_w", k_w), ("stride_h", o["stride_h"]),
                      ("stride_w", o["stride_w"]), ("dilation_h", o["dilation_h"]), ("dilation_w", o["dilation_w"]),
                      ("pad_h", pad_h), ("pad_w", pad_w), ("depth_multiplier", dm),
                      ("input_offset", -data.zero_point), ("output_offset", out.zero_point),
                      ("act_min", act_min), ("act_max", act_max)]
            self.int16_fields(op, fields)
            fn = "kws_conv2d_s8" if op.op == "CONV_2D" else "kws_depthwise_conv2d_s8"
            if (in_w, out_w, k_w, o["dilation_h"]) == (1, 1, 1, 1) and dm == 1:  # over time only
                if op.op == "CONV_2D" and conv_time_fits(k_h, in_c):
                    fn = "kws_conv_time_s8"
                elif op.op == "DEPTHWISE_CONV_2D" and depthwise_time_fits(out_h, o["stride_h"], k_h):
                    fn = "kws_depthwise_time_s8"
            if fn.endswith("_time_s8"):
                self.time_struct(tag, op, in_h=in_h, in_c=in_c, out_h=out_h, out_c=out_c, k_h=k_h,
                                 stride=o["stride_h"], pad=pad_h, input_offset=-data.zero_point,
                                 output_offset=out.zero_point, act=(act_min, act_max), filter_values=flt.data,
                                 bias=bias, mult=mult, shift=shift, conv=op.op == "CONV_2D")
            else:
                fields += [("filter", self.array(f"{tag}_filter", flt.data, "int8_t")), *self.bias_fields(tag, bias),
                           ("multiplier", self.array(f"{tag}_multiplier", mult, "int32_t")),
                           ("shift", self.shift_array(tag, op, shift))]
                self.defs.append(_struct("kws_conv_params_t", tag, fields))
            self.calls.append(f"{comment}\n    {fn}(&{tag}, {self.ptr(data.index, const=True)}, "
                              f"{self.ptr(out.index, const=False)});")
            macs = out_h * out_w * out_c * k_h * k_w * (in_c if op.op == "CONV_2D" else 1)
        elif op.op == "FULLY_CONNECTED":
            flt = t[op.inputs[1]]
            bias = t[op.inputs[2]] if len(op.inputs) > 2 and op.inputs[2] >= 0 else None
            units, depth = int(flt.shape[0]), int(flt.shape[1])
            batches = data.size // depth
            mult, shift = channel_multipliers(data.scale, flt.scales, out.scale, units)
            act_min, act_max = activation_range(op.options["activation"], out.scale, out.zero_point)
            # a fully-connected layer is a 1 x 1 convolution over `batches` rows of `depth` channels, with
            # the same arithmetic: it runs on kws_conv_time_s8 (no separate kernel linked), or on the
            # general kws_conv2d_s8 when its rows are longer than kws_conv_time_s8's scratch
            if conv_time_fits(1, depth):
                self.time_struct(tag, op, in_h=batches, in_c=depth, out_h=batches, out_c=units, k_h=1, stride=1,
                                 pad=0, input_offset=-data.zero_point, output_offset=out.zero_point,
                                 act=(act_min, act_max), filter_values=flt.data, bias=bias, mult=mult, shift=shift,
                                 conv=True)
                fn = "kws_conv_time_s8"
            else:
                fn = "kws_conv2d_s8"
            fields = [("in_h", batches), ("in_w", 1), ("in_c", depth), ("out_h", batches), ("out_w", 1),
                      ("out_c", units), ("k_h", 1), ("k_w", 1), ("stride_h", 1), ("stride_w", 1),
                      ("dilation_h", 1), ("dilation_w", 1), ("pad_h", 0), ("pad_w", 0), ("depth_multiplier", 1),
                      ("input_offset", -data.zero_point), ("output_offset", out.zero_point),
                      ("act_min", act_min), ("act_max", act_max)]
            if fn == "kws_conv2d_s8":
                self.int16_fields(op, fields)
                fields += [("filter", self.array(f"{tag}_weights", flt.data, "int8_t")),
                           *self.bias_fields(tag, bias),
                           ("multiplier", self.array(f"{tag}_multiplier", mult, "int32_t")),
                           ("shift", self.shift_array(tag, op, shift))]
                self.defs.append(_struct("kws_conv_params_t", tag, fields))
            self.calls.append(f"{comment}\n    {fn}(&{tag}, {self.ptr(data.index, const=True)}, "
                              f"{self.ptr(out.index, const=False)});")
            macs = batches * units * depth
        elif op.op in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
            o = op.options
            in_h, in_w, ch = _hw(data.shape)
            out_h, out_w, _ = _hw(out.shape)
            oh, pad_h = same_padding(in_h, o["filter_h"], o["stride_h"], 1, o["padding"])
            ow, pad_w = same_padding(in_w, o["filter_w"], o["stride_w"], 1, o["padding"])
            self.check(op, (oh, ow) == (out_h, out_w), f"output {out_h}x{out_w} != computed {oh}x{ow}")
            self.check(op, oh > 0 and ow > 0, "empty output")
            act_min, act_max = activation_range(o["activation"], out.scale, out.zero_point)
            fields = [("in_h", in_h), ("in_w", in_w), ("channels", ch), ("out_h", out_h), ("out_w", out_w),
                      ("k_h", o["filter_h"]), ("k_w", o["filter_w"]), ("stride_h", o["stride_h"]),
                      ("stride_w", o["stride_w"]), ("pad_h", pad_h), ("pad_w", pad_w),
                      ("act_min", act_min), ("act_max", act_max)]
            self.defs.append(_struct("kws_pool_params_t", tag, fields))
            fn = "kws_avg_pool2d_s8" if op.op == "AVERAGE_POOL_2D" else "kws_max_pool2d_s8"
            self.calls.append(f"{comment}\n    {fn}(&{tag}, {self.ptr(data.index, const=True)}, "
                              f"{self.ptr(out.index, const=False)});")
        elif op.op == "ADD":
            other = t[op.inputs[1]]
            params = add_parameters(data.scale, other.scale, out.scale)
            act_min, act_max = activation_range(op.options["activation"], out.scale, out.zero_point)
            outer, repeat, inner, broadcast_input = add_broadcast_layout(data.shape, other.shape, out.shape)
            fields = [("size", inner), ("input1_offset", -data.zero_point), ("input2_offset", -other.zero_point),
                      ("left_shift", ADD_LEFT_SHIFT), *params.items(), ("output_offset", out.zero_point),
                      ("act_min", act_min), ("act_max", act_max)]
            if broadcast_input:  # its own kernel, so models without one link only the plain loop
                add = "{ " + ", ".join(f".{key} = {value}" for key, value in fields) + " }"
                fields = [("add", add), ("outer", outer), ("repeat", repeat), ("broadcast_input", broadcast_input)]
            ctype, fn = ("kws_add_broadcast_params_t", "kws_add_broadcast_s8") if broadcast_input else (
                "kws_add_params_t", "kws_add_s8")
            self.defs.append(_struct(ctype, tag, fields))
            self.calls.append(f"{comment}\n    {fn}(&{tag}, {self.ptr(data.index, const=True)}, "
                              f"{self.ptr(other.index, const=True)}, {self.ptr(out.index, const=False)});")
        elif op.op == "SOFTMAX":
            q, shift, diff_min = softmax_parameters(op.options["beta"], data.scale)
            depth = int(data.shape[-1])
            fields = [("rows", data.size // depth), ("depth", depth), ("input_multiplier", q),
                      ("input_left_shift", shift), ("diff_min", diff_min)]
            self.defs.append(_struct("kws_softmax_params_t", tag, fields))
            self.calls.append(f"{comment}\n    kws_softmax_s8(&{tag}, {self.ptr(data.index, const=True)}, "
                              f"{self.ptr(out.index, const=False)});")
        elif op.op == "RESHAPE":
            if (op.inputs[0], op.outputs[0]) in self.plan.copies:
                self.calls.append(f"{comment}\n    memcpy({self.ptr(out.index, const=False)}, "
                                  f"{self.ptr(data.index, const=True)}, {out.size});")
            else:
                self.calls.append(f"{comment} /* a view: no code */")
        else:  # parse_tflite refuses everything else
            raise ExportError(f"{self.graph.source}: layer {op.layer!r}: operator {op.op} is not supported")
        self.layers.append(LayerInfo(op=op.op, layer=op.layer, macs=int(macs)))


def _io_dims(graph: Graph) -> tuple[int, int, int]:
    shape = graph.input_tensor.shape
    if len(shape) < 2 or shape[0] != 1:
        raise ExportError(f"{graph.source}: model input shape {list(shape)}; expected [1, frames, features]")
    frames = int(shape[1])
    features = int(np.prod(shape[2:], dtype=np.int64)) if len(shape) > 2 else 1
    return frames, features, graph.output_tensor.size


def _analyse(graph: Graph) -> tuple[ArenaPlan, _Emitter]:
    plan = plan_arena(graph, align=ALIGN)
    emitter = _Emitter(graph, plan)
    for n, op in enumerate(graph.operators):
        emitter.emit(n, op)
    if graph.output not in plan.external:  # the output is also read by a later operator: copy it out
        emitter.calls.append(f"    memcpy(scores, {emitter.ptr(graph.output, const=True)}, "
                             f"{graph.output_tensor.size});")
    return plan, emitter


def model_constants(graph: Graph) -> dict[str, int]:
    """``#define`` constants of the model for ``kws_config.h`` (``cgen.define_block``).

    Keys: ``KWS_N_CLASSES``, ``KWS_MODEL_INPUT_FRAMES``, ``KWS_MODEL_INPUT_FEATURES``,
    ``KWS_MODEL_INPUT_ZERO_POINT``, ``KWS_MODEL_OUTPUT_ZERO_POINT``, ``KWS_MODEL_ARENA_BYTES``,
    ``KWS_MODEL_MACS``, ``KWS_MODEL_WEIGHT_BYTES``, ``KWS_MODEL_N_OPS``.
    """
    frames, features, n_classes = _io_dims(graph)
    plan, emitter = _analyse(graph)
    return {
        "KWS_N_CLASSES": n_classes,
        "KWS_MODEL_INPUT_FRAMES": frames,
        "KWS_MODEL_INPUT_FEATURES": features,
        "KWS_MODEL_INPUT_ZERO_POINT": graph.input_tensor.zero_point,
        "KWS_MODEL_OUTPUT_ZERO_POINT": graph.output_tensor.zero_point,
        "KWS_MODEL_ARENA_BYTES": plan.size,
        "KWS_MODEL_MACS": sum(layer.macs for layer in emitter.layers),
        "KWS_MODEL_WEIGHT_BYTES": emitter.const_bytes,
        "KWS_MODEL_N_OPS": len(graph.operators),
    }


_HEADER = """\
/* The int8 keyword model as plain C (no interpreter): TFLite int8 reference arithmetic,
 * bit-exact with the TFLite Micro kernels. Model: {source}
 * Sizes and formats are in kws_config.h (KWS_MODEL_*, KWS_N_CLASSES). */
#ifndef KWS_MODEL_H
#define KWS_MODEL_H

#include <stdint.h>

#include "kws_config.h"
#include "kws_fixedpoint.h"
#include "kws_status.h"

#ifdef __cplusplus
extern "C" {{
#endif

/* features: [KWS_MODEL_INPUT_FRAMES * KWS_MODEL_INPUT_FEATURES] int8; scores: [KWS_N_CLASSES] int8.
   Returns KWS_OK or KWS_ERR_NULL. Not reentrant: the activations live in one static arena. */
int kws_model_invoke(const int8_t *features, int8_t *scores);

#ifdef __cplusplus
}}
#endif

#endif /* KWS_MODEL_H */
"""


def emit_model(tflite: bytes, *, source: str) -> ModelEmit:
    """Generate ``kws_model.h`` / ``kws_model.c`` for an int8 ``.tflite`` model.

    Parameters
    ----------
    tflite : bytes
        The flatbuffer.
    source : str
        Name of the model (file path) for messages and the file comment.

    Raises
    ------
    ExportError
        an operator, option or tensor format that the kernels do not implement.
    """
    graph = parse_tflite(tflite, source=source)
    constants = model_constants(graph)
    plan, emitter = _analyse(graph)
    checks = "\n".join(f"#if !defined({k}) || {k} != ({v})\n#error \"kws_config.h does not match this model: {k}\"\n"
                       f"#endif" for k, v in constants.items()
                       if k in ("KWS_N_CLASSES", "KWS_MODEL_INPUT_FRAMES", "KWS_MODEL_INPUT_FEATURES",
                                "KWS_MODEL_ARENA_BYTES"))
    arena_len = max(plan.size, ALIGN)
    source_c = (
        f"/* The int8 keyword model as plain C; generated from {source}.\n"
        f" * {len(graph.operators)} operators, {constants['KWS_MODEL_MACS']} MACs per inference, "
        f"{emitter.const_bytes} bytes of constants, {plan.size} bytes of arena.\n"
        f" * Arena plan:\n * " + plan.report(graph).replace("*/", "* /").replace("\n", "\n * ") + " */\n"
        "#include <stddef.h>\n#include <stdint.h>\n#include <string.h>\n\n"
        '#include "kws_model.h"\n#include "kws_kernels.h"\n\n'
        f"{checks}\n\n"
        + "\n".join(emitter.defs)
        + (f"\n/* every activation tensor, at the offsets planned at export time */\n"
           f"static int8_t kws_arena[{arena_len}] __attribute__((aligned(8)));\n\n" if plan.size else "\n")
        + "int kws_model_invoke(const int8_t *features, int8_t *scores) {\n"
        "    if (features == NULL || scores == NULL) return KWS_ERR_NULL;\n"
        + "\n".join(emitter.calls)
        + "\n    return KWS_OK;\n}\n"
    )
    header = _HEADER.format(source=source.replace("*/", "* /"))
    return ModelEmit(files={"kws_model.h": header, "kws_model.c": source_c}, arena_bytes=plan.size,
                     macs_per_inference=constants["KWS_MODEL_MACS"], weight_bytes=emitter.const_bytes,
                     ops=tuple(op.op for op in graph.operators), layers=tuple(emitter.layers), plan=plan,
                     constants=constants)


__all__ = ["LayerInfo", "ModelEmit", "activation_range", "add_parameters", "channel_multipliers", "emit_model",
           "conv_time_fits", "model_constants", "same_padding", "softmax_parameters"]
