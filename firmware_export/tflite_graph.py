"""Read a full-integer ``.tflite`` flatbuffer into a small typed graph for the C exporter.

Only what the C kernels implement is accepted; anything else raises
:class:`~kws.firmware_export.errors.ExportError` naming the layer (the
operator's output tensor), the operator and the unsupported option. The
flatbuffer is read with ``tflite_micro``'s generated schema (no TensorFlow).

Supported operators (int8 activations, per-tensor quantized; int8 weights with
zero point 0, per-channel or per-tensor; int32 biases):

* ``CONV_2D`` (SAME/VALID, any stride and dilation, fused NONE/RELU/RELU6/RELU_N1_TO_1)
* ``DEPTHWISE_CONV_2D`` (same, any depth multiplier)
* ``FULLY_CONNECTED`` (default weights format, ``keep_num_dims`` false)
* ``AVERAGE_POOL_2D``, ``MAX_POOL_2D`` (input and output quantization equal)
* ``ADD`` (inputs of the output's shape, or one of them broadcast over one run of adjacent axes)
* ``RESHAPE`` (a view: no data moves)
* ``SOFTMAX`` (output scale 1/256, zero point -128)
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from kws.firmware_export.errors import ExportError

SUPPORTED_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "MAX_POOL_2D",
                 "ADD", "RESHAPE", "SOFTMAX")
#: Fused activations the kernels clamp for (TFLite ActivationFunctionType names).
ACTIVATIONS = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH", 5: "SIGN_BIT"}
SUPPORTED_ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")
PADDINGS = {0: "SAME", 1: "VALID"}

_DTYPES = {0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 5: "string", 6: "bool", 7: "int16",
           8: "complex64", 9: "int8", 10: "float64", 17: "int4"}
_NUMPY = {"float32": np.float32, "int32": np.int32, "uint8": np.uint8, "int64": np.int64, "int16": np.int16,
          "int8": np.int8, "float64": np.float64, "bool": np.bool_, "float16": np.float16}


@dataclasses.dataclass(frozen=True, eq=False)
class Tensor:
    """One tensor of the graph."""

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    """numpy dtype name (``"int8"``, ``"int32"``, ``"float32"``, ...)."""
    scales: tuple[float, ...]
    """Quantization scales as stored (float32 values, exact as Python floats); empty if not quantized."""
    zero_points: tuple[int, ...]
    quantized_dimension: int
    data: np.ndarray | None
    """Constant contents (read-only numpy array of ``shape``), ``None`` for activations."""

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.size * np.dtype(_NUMPY.get(self.dtype, np.uint8)).itemsize

    @property
    def per_channel(self) -> bool:
        return len(self.scales) > 1

    @property
    def scale(self) -> float:
        """The per-tensor scale (the first one of a per-channel tensor)."""
        return self.scales[0]

    @property
    def zero_point(self) -> int:
        return self.zero_points[0] if self.zero_points else 0


@dataclasses.dataclass(frozen=True, eq=False)
class Operator:
    """One operator, in execution order."""

    index: int
    op: str
    """Builtin name (``"CONV_2D"``, ...)."""
    inputs: tuple[int, ...]
    """Tensor indices; -1 marks an absent optional input (e.g. no bias)."""
    outputs: tuple[int, ...]
    options: dict[str, Any]
    """Decoded options: ``padding`` ("SAME"/"VALID"), ``stride_h``, ``stride_w``, ``dilation_h``,
    ``dilation_w``, ``depth_multiplier``, ``filter_h``, ``filter_w``, ``activation`` (name), ``beta``."""
    layer: str
    """Name of the first output tensor: how messages name the layer."""


@dataclasses.dataclass(frozen=True, eq=False)
class Graph:
    """A single-subgraph int8 model: tensors, operators in execution order, graph input/output."""

    tensors: tuple[Tensor, ...]
    operators: tuple[Operator, ...]
    input: int
    output: int
    source: str = "model"

    def tensor(self, index: int) -> Tensor:
        return self.tensors[index]

    @property
    def input_tensor(self) -> Tensor:
        return self.tensors[self.input]

    @property
    def output_tensor(self) -> Tensor:
        return self.tensors[self.output]

    @property
    def weight_bytes(self) -> int:
        """Bytes of constant tensor data used by the operators (each buffer counted once)."""
        used = {i for op in self.operators for i in op.inputs if i >= 0 and self.tensors[i].is_constant}
        return sum(self.tensors[i].nbytes for i in used)


def _schema():
    from tflite_micro.python.tflite_micro.runtime import schema_fb

    return schema_fb


def _text(value) -> str:
    if value is None:
        return ""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class _Checker:
    """Raises ExportError with a uniform message naming source, layer, op and the problem."""

    def __init__(self, source: str, op: str, layer: str):
        self.prefix = f"{source}: layer {layer!r} ({op})"

    def fail(self, what: str) -> None:
        raise ExportError(f"{self.prefix}: {what} is not supported by the C kernels")

    def require(self, condition: bool, what: str) -> None:
        if not condition:
            self.fail(what)


def _read_tensor(model, graph, index: int, source: str) -> Tensor:
    raw = graph.tensors[index]
    name = _text(raw.name)
    dtype = _DTYPES.get(int(raw.type), f"type{int(raw.type)}")
    shape = tuple(int(d) for d in (raw.shape if raw.shape is not None else ()))
    quant = raw.quantization
    scales = tuple(float(s) for s in (quant.scale if quant is not None and quant.scale is not None else ()))
    zero_points = tuple(int(z) for z in (quant.zeroPoint if quant is not None and quant.zeroPoint is not None else ()))
    qdim = int(quant.quantizedDimension) if quant is not None else 0
    data = None
    buffers = model.buffers if model.buffers is not None else []
    if not 0 <= raw.buffer < len(buffers):
        raise ExportError(f"{source}: tensor {name!r} refers to missing buffer {raw.buffer}")
    buffer = buffers[raw.buffer]
    blob = None
    if buffer.data is not None and len(buffer.data):
        blob = bytes(np.asarray(buffer.data, dtype=np.uint8))
    elif getattr(buffer, "offset", 0) and buffer.offset > 1 and buffer.size:
        raise ExportError(f"{source}: tensor {name!r} keeps its data outside the flatbuffer (offset buffers)")
    if blob is not None:
        if dtype not in _NUMPY:
            raise ExportError(f"{source}: constant tensor {name!r} has type {dtype}, which the exporter cannot read")
        array = np.frombuffer(blob, dtype=np.dtype(_NUMPY[dtype]).newbyteorder("<"))
        expected = int(np.prod(shape, dtype=np.int64))
        if array.size != expected:
            raise ExportError(f"{source}: constant tensor {name!r} holds {array.size} values for shape {list(shape)}")
        data = array.astype(_NUMPY[dtype]).reshape(shape)
        data.setflags(write=False)
    if raw.sparsity is not None:
        raise ExportError(f"{source}: tensor {name!r} is sparse; sparse tensors are not supported")
    return Tensor(index=index, name=name, shape=shape, dtype=dtype, scales=scales, zero_points=zero_points,
                  quantized_dimension=qdim, data=data)


def _activation(options, check: _Checker) -> str:
    code = int(getattr(options, "fusedActivationFunction", 0))
    name = ACTIVATIONS.get(code, f"activation {code}")
    check.require(name in SUPPORTED_ACTIVATIONS, f"fused activation {name}")
    return name


def _decode_options(op: str, options, check: _Checker) -> dict[str, Any]:
    if op in ("CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D"):
        check.require(options is not None, "missing options")
        padding = PADDINGS.get(int(options.padding))
        check.require(padding is not None, f"padding {int(options.padding)}")
        out = {"padding": padding, "stride_h": int(options.strideH), "stride_w": int(options.strideW),
               "activation": _activation(options, check)}
        check.require(out["stride_h"] >= 1 and out["stride_w"] >= 1, f"stride {out['stride_h']}x{out['stride_w']}")
        if op in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            out["dilation_h"] = int(options.dilationHFactor)
            out["dilation_w"] = int(options.dilationWFactor)
            check.require(out["dilation_h"] >= 1 and out["dilation_w"] >= 1,
                          f"dilation {out['dilation_h']}x{out['dilation_w']}")
        if op == "DEPTHWISE_CONV_2D":
            out["depth_multiplier"] = int(options.depthMultiplier)
        if op.endswith("POOL_2D"):
            out["filter_h"] = int(options.filterHeight)
            out["filter_w"] = int(options.filterWidth)
            check.require(out["filter_h"] >= 1 and out["filter_w"] >= 1,
                          f"filter {out['filter_h']}x{out['filter_w']}")
        return out
    if op == "FULLY_CONNECTED":
        out = {"activation": _activation(options, check)}
        if options is not None:
            check.require(int(options.weightsFormat) == 0, f"weights format {int(options.weightsFormat)} (shuffled)")
            check.require(not options.keepNumDims, "option keep_num_dims=True")
            check.require(not options.asymmetricQuantizeInputs, "option asymmetric_quantize_inputs=True (hybrid)")
        return out
    if op == "ADD":
        return {"activation": _activation(options, check)}
    if op == "SOFTMAX":
        check.require(options is not None, "missing options")
        return {"beta": float(options.beta)}
    return {}


def add_broadcast_layout(shape1, shape2, out_shape) -> tuple[int, int, int, int] | None:
    """``(outer, repeat, inner, broadcast_input)`` of an ADD as the C kernel walks it, or None if it cannot.

    The output is seen as ``[outer][repeat][inner]``. An input of the output's
    shape is read the same way; at most one input (``broadcast_input`` 1 or 2,
    0 = none) may have size-1 axes where the output has more, and they must be
    adjacent: that input is ``[outer][inner]``, read again for every ``repeat``
    (e.g. ``[1, T, 1, C] + [1, T, F, C]``: outer T, repeat F, inner C).
    """
    rank = max(len(shape1), len(shape2), len(out_shape))

    def pad(shape) -> tuple[int, ...]:  # leading ones, as TFLite broadcasting aligns trailing axes
        return (1,) * (rank - len(shape)) + tuple(int(d) for d in shape)

    s1, s2, out = pad(shape1), pad(shape2), pad(out_shape)
    if s1 == out and s2 == out:
        return 1, 1, int(np.prod(out)), 0
    if s1 != out and s2 != out:
        return None
    which, small = (1, s1) if s1 != out else (2, s2)
    if any(d != o and d != 1 for d, o in zip(small, out)):
        return None
    axes = [a for a, (d, o) in enumerate(zip(small, out)) if d == 1 and o != 1]
    first, last = axes[0], axes[-1] + 1
    if any(small[a] != 1 for a in range(first, last)):  # a gap: two separate runs of broadcast axes
        return None
    return int(np.prod(out[:first])), int(np.prod(out[first:last])), int(np.prod(out[last:])), which


def _check_activation_tensor(t: Tensor, role: str, check: _Checker) -> None:
    check.require(t.dtype == "int8", f"{role} tensor {t.name!r} of type {t.dtype} (only int8 activations)")
    check.require(not t.is_constant, f"constant {role} tensor {t.name!r}")
    check.require(len(t.scales) == 1 and len(t.zero_points) == 1,
                  f"{role} tensor {t.name!r} without per-tensor quantization")
    check.require(t.scales[0] > 0, f"{role} tensor {t.name!r} with scale {t.scales[0]}")


def _check_weights(t: Tensor, channels: int, channel_axis: int, check: _Checker) -> None:
    check.require(t.is_constant, f"non-constant weights {t.name!r}")
    check.require(t.dtype == "int8", f"weights {t.name!r} of type {t.dtype} (only int8 weights)")
    check.require(len(t.scales) in (1, channels), f"weights {t.name!r} with {len(t.scales)} scales")
    check.require(all(s > 0 for s in t.scales), f"weights {t.name!r} with a non-positive scale")
    check.require(all(z == 0 for z in t.zero_points), f"weights {t.name!r} with a non-zero zero point")
    if len(t.scales) > 1:
        check.require(t.quantized_dimension == channel_axis,
                      f"weights {t.name!r} quantized along axis {t.quantized_dimension}")


def _check_bias(t: Tensor | None, channels: int, check: _Checker) -> None:
    if t is None:
        return
    check.require(t.is_constant, f"non-constant bias {t.name!r}")
    check.require(t.dtype == "int32", f"bias {t.name!r} of type {t.dtype} (only int32 biases)")
    check.require(t.size == channels, f"bias {t.name!r} of {t.size} values for {channels} channels")


def _validate(op: str, ins: list[Tensor | None], outs: list[Tensor], options: dict, check: _Checker) -> None:
    """Check tensor types, shapes and quantization against what the kernels implement."""
    check.require(len(outs) == 1, f"{len(outs)} outputs")
    out = outs[0]
    _check_activation_tensor(out, "output", check)
    data = ins[0] if ins else None
    check.require(data is not None, "missing input")
    if op != "RESHAPE":
        _check_activation_tensor(data, "input", check)
    if op in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        check.require(len(ins) >= 2 and ins[1] is not None, "missing filter")
        flt = ins[1]
        check.require(len(data.shape) == 4 and len(out.shape) == 4 and len(flt.shape) == 4,
                      f"shapes {list(data.shape)} / {list(flt.shape)} (expected 4-D NHWC)")
        check.require(data.shape[0] == 1, f"batch {data.shape[0]}")
        if op == "CONV_2D":
            check.require(flt.shape[3] == data.shape[3],
                          f"grouped convolution (filter depth {flt.shape[3]}, input depth {data.shape[3]})")
            _check_weights(flt, flt.shape[0], 0, check)
            check.require(out.shape[3] == flt.shape[0], "output depth != number of filters")
        else:
            check.require(flt.shape[0] == 1, f"depthwise filter shape {list(flt.shape)}")
            check.require(flt.shape[3] == data.shape[3] * options["depth_multiplier"],
                          f"depth multiplier {options['depth_multiplier']} with filter {list(flt.shape)}")
            _check_weights(flt, flt.shape[3], 3, check)
            check.require(out.shape[3] == flt.shape[3], "output depth != filter depth")
        _check_bias(ins[2] if len(ins) > 2 else None, out.shape[3], check)
    elif op == "FULLY_CONNECTED":
        check.require(len(ins) >= 2 and ins[1] is not None, "missing weights")
        flt = ins[1]
        check.require(len(flt.shape) == 2, f"weights shape {list(flt.shape)}")
        units, depth = flt.shape
        check.require(data.size % depth == 0, f"input of {data.size} values for weights {list(flt.shape)}")
        check.require(out.size == (data.size // depth) * units, f"output shape {list(out.shape)}")
        _check_weights(flt, units, 0, check)
        _check_bias(ins[2] if len(ins) > 2 else None, units, check)
    elif op in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        check.require(len(data.shape) == 4 and len(out.shape) == 4, f"shape {list(data.shape)} (expected NHWC)")
        check.require(abs(data.scale - out.scale) <= 1e-6 and data.zero_point == out.zero_point,
                      "different input and output quantization")
    elif op == "ADD":
        check.require(len(ins) == 2 and ins[1] is not None, "missing second input")
        other = ins[1]
        _check_activation_tensor(other, "second input", check)
        check.require(add_broadcast_layout(data.shape, other.shape, out.shape) is not None,
                      f"broadcasting ({list(data.shape)} + {list(other.shape)} -> {list(out.shape)}): only one "
                      "input may be broadcast, over one run of adjacent axes")
    elif op == "RESHAPE":
        check.require(data.dtype == "int8" and not data.is_constant, f"input of type {data.dtype}")
        check.require(data.size == out.size, "size change")
        check.require(data.scales == out.scales and data.zero_points == out.zero_points,
                      "a quantization change")
    elif op == "SOFTMAX":
        check.require(out.zero_point == -128 and out.scale == 1.0 / 256, f"output scale {out.scale} zero point "
                      f"{out.zero_point} (expected 1/256, -128)")
        check.require(out.shape == data.shape, "a shape change")


def parse_tflite(data: bytes, *, source: str = "model") -> Graph:
    """Parse a ``.tflite`` flatbuffer into a :class:`Graph`, refusing what the C kernels cannot run.

    Parameters
    ----------
    data : bytes
        Flatbuffer contents.
    source : str
        Name used in messages (the file).

    Raises
    ------
    ExportError
        not a single-subgraph single-input single-output model, an operator
        outside :data:`SUPPORTED_OPS`, or an option / tensor type / quantization
        that the kernels do not implement; the message names the layer.
    """
    data = bytes(data)
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise ExportError(f"{source}: not a TFLite flatbuffer")
    schema = _schema()
    try:
        model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(data, 0))
    except Exception as exc:  # noqa: BLE001 - foreign bytes
        raise ExportError(f"{source}: corrupt TFLite flatbuffer ({type(exc).__name__}: {exc})") from None
    if not model.subgraphs or len(model.subgraphs) != 1:
        raise ExportError(f"{source}: expected one subgraph, found {len(model.subgraphs or [])}")
    graph = model.subgraphs[0]
    n_tensors = len(graph.tensors or [])
    tensors = tuple(_read_tensor(model, graph, i, source) for i in range(n_tensors))
    inputs = [int(i) for i in (graph.inputs if graph.inputs is not None else [])]
    outputs = [int(i) for i in (graph.outputs if graph.outputs is not None else [])]
    if len(inputs) != 1 or len(outputs) != 1:
        raise ExportError(f"{source}: expected one input and one output, found {len(inputs)} and {len(outputs)}")

    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_") and isinstance(v, int)}
    codes = model.operatorCodes or []
    operators = []
    for index, raw in enumerate(graph.operators or []):
        code = codes[raw.opcodeIndex]
        builtin = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
        op = names.get(builtin, f"BUILTIN_{builtin}")
        if op == "CUSTOM":
            op = f"CUSTOM:{_text(code.customCode)}"
        ins = tuple(int(i) for i in (raw.inputs if raw.inputs is not None else []))
        outs = tuple(int(i) for i in (raw.outputs if raw.outputs is not None else []))
        layer = tensors[outs[0]].name if outs else f"operator {index}"
        check = _Checker(source, op, layer)
        if op not in SUPPORTED_OPS:
            raise ExportError(f"{source}: layer {layer!r}: operator {op} is not supported by the C kernels "
                              f"(supported: {', '.join(SUPPORTED_OPS)})")
        options = _decode_options(op, raw.builtinOptions, check)
        if op == "RESHAPE":
            ins = ins[:1]  # the optional shape tensor is constant; the output tensor's shape says it all
        _validate(op, [tensors[i] if i >= 0 else None for i in ins], [tensors[i] for i in outs], options, check)
        operators.append(Operator(index=index, op=op, inputs=ins, outputs=outs, options=options, layer=layer))
    if not operators:
        raise ExportError(f"{source}: the graph has no operators")
    for role, index in (("input", inputs[0]), ("output", outputs[0])):
        t = tensors[index]
        if t.dtype != "int8" or len(t.scales) != 1:
            raise ExportError(f"{source}: graph {role} {t.name!r} is {t.dtype}"
                              f"{'' if t.scales else ' (not quantized)'}; only int8 per-tensor graph inputs/outputs")
    return Graph(tensors=tensors, operators=tuple(operators), input=inputs[0], output=outputs[0], source=source)


__all__ = ["ACTIVATIONS", "Graph", "Operator", "SUPPORTED_OPS", "Tensor", "add_broadcast_layout", "parse_tflite"]
