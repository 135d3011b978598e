"""The model exported as plain C equals the TFLite Micro reference kernels bit for bit.

Every generated model is compiled three ways: gcc -O2 (plain C kernels), with
ASan + UBSan, and with the Cortex-M4 DSP code path emulated on the host
(``-DKWS_TEST_EMULATE_DSP``); all three must give TFLM's int8 scores exactly.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from kws.firmware_export.arena import plan_arena
from kws.firmware_export.cgen import define_block
from kws.firmware_export.errors import ExportError
from kws.firmware_export.hostbuild import C_DIR, compile_host, find_cc, run_program
from kws.firmware_export.model_c import emit_model, model_constants
from kws.firmware_export.tflite_graph import parse_tflite
from kws.errors import KwsError
from kws.model import SHIPPED_MODELS_DIR, KwsModel

SHIPPED = SHIPPED_MODELS_DIR / "commands" / "model_int8.tflite"
needs_gcc = pytest.mark.skipif(find_cc() is None, reason="gcc not installed")

VARIANTS = {
    "plain": {},
    "sanitize": {"sanitize": True, "optimize": "-O1"},
    "dsp_emulated": {"defines": ("KWS_TEST_EMULATE_DSP",)},
}


# --------------------------------------------------------------------------- #
# helpers
# --------------------------------------------------------------------------- #


def generate(tflite: bytes, folder: Path, source: str):
    """Write kws_model.h/.c and a kws_config.h made with cgen.define_block, as the integrator does."""
    folder.mkdir(parents=True, exist_ok=True)
    emit = emit_model(tflite, source=source)
    for name, body in emit.files.items():
        (folder / name).write_text(body)
    config = define_block("model", model_constants(parse_tflite(tflite, source=source)))
    (folder / "kws_config.h").write_text(f"#ifndef KWS_CONFIG_H\n#define KWS_CONFIG_H\n{config}#endif\n")
    return emit


def build_all(folder: Path, variants=VARIANTS) -> dict[str, Path]:
    sources = [folder / "kws_model.c", C_DIR / "kws_kernels.c", C_DIR / "test_model_main.c"]
    return {name: compile_host(sources, folder / f"model_{name}", include_dirs=[folder, C_DIR], **kw)
            for name, kw in variants.items()}


def run_c(exe: Path, features: np.ndarray, n_out: int) -> np.ndarray:
    folder = exe.parent
    (folder / "in.bin").write_bytes(np.ascontiguousarray(features, dtype=np.int8).tobytes())
    count = run_program(exe, folder / "in.bin", folder / "out.bin")
    assert int(count) == len(features)
    return np.frombuffer((folder / "out.bin").read_bytes(), dtype=np.int8).reshape(len(features), n_out)


def assert_same_scores(got: np.ndarray, expected: np.ndarray, what: str) -> None:
    bad = np.argwhere(got != expected)
    if bad.size:
        i, c = bad[0]
        raise AssertionError(f"{what}: {len(bad)} score(s) differ; first at input {i}, class {c}: "
                             f"C {int(got[i, c])} != TFLite Micro {int(expected[i, c])}")


def tflm_scores(tflite: bytes, inputs: np.ndarray) -> np.ndarray:
    from tflite_micro import runtime

    interpreter = runtime.Interpreter.from_bytes(tflite, arena_size=1 << 20)
    out = []
    for x in inputs:
        interpreter.set_input(x, 0)
        interpreter.invoke()
        out.append(np.array(interpreter.get_output(0), dtype=np.int8).reshape(-1))
    return np.stack(out)


# --------------------------------------------------------------------------- #
# the shipped model
# --------------------------------------------------------------------------- #


@pytest.fixture(scope="module")
def shipped_builds(tmp_path_factory):
    if find_cc() is None:
        pytest.skip("gcc not installed")
    folder = tmp_path_factory.mktemp("shipped")
    emit = generate(SHIPPED.read_bytes(), folder, "commands")
    return emit, build_all(folder)


@pytest.fixture(scope="module")
def commands_model():
    return KwsModel.load("commands")


def _random_features(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    features = rng.integers(-128, 128, size=(n, 49, 10)).astype(np.int8)
    features[0] = -128
    features[1] = 127
    features[2] = 64  # the input zero point: all-zero real features
    narrow = rng.integers(20, 100, size=(n // 2, 49, 10)).astype(np.int8)  # a typical feature range
    features[3 : 3 + len(narrow)] = narrow
    extremes = rng.choice(np.array([-128, 127], np.int8), size=(10, 49, 10))
    features[-10:] = extremes
    return features


@needs_gcc
def test_shipped_model_random_features_bit_exact(shipped_builds, commands_model):
    _, exes = shipped_builds
    features = _random_features(200, seed=7)
    expected = commands_model.scores_batch(features)
    for name, exe in exes.items():
        assert_same_scores(run_c(exe, features, commands_model.n_classes), expected, f"shipped model, {name} build")


@needs_gcc
def test_shipped_model_real_features_bit_exact(shipped_builds, commands_model, speech_commands_dir):
    from kws.audio import read_audio
    from kws.frontend import compute_features

    paths = sorted(speech_commands_dir.glob("*/*.wav"))
    assert paths, f"no clips under {speech_commands_dir}"
    paths = paths[:: max(1, len(paths) // 120)][:120]
    features = np.stack([compute_features(read_audio(p)) for p in paths])
    expected = commands_model.scores_batch(features)
    _, exes = shipped_builds
    for name, exe in exes.items():
        assert_same_scores(run_c(exe, features, commands_model.n_classes), expected,
                           f"shipped model on {len(paths)} clips, {name} build")


def test_shipped_model_constants_and_plan():
    tflite = SHIPPED.read_bytes()
    graph = parse_tflite(tflite, source="commands")
    constants = model_constants(graph)
    assert constants["KWS_N_CLASSES"] == 12
    assert (constants["KWS_MODEL_INPUT_FRAMES"], constants["KWS_MODEL_INPUT_FEATURES"]) == (49, 10)
    assert constants["KWS_MODEL_INPUT_ZERO_POINT"] == 64
    assert 150_000 < constants["KWS_MODEL_MACS"] < 400_000
    emit = emit_model(tflite, source="commands")
    assert emit.ops == tuple(op.op for op in graph.operators) and emit.ops[-1] == "SOFTMAX"
    assert emit.macs_per_inference == sum(layer.macs for layer in emit.layers) == constants["KWS_MODEL_MACS"]
    assert emit.arena_bytes == constants["KWS_MODEL_ARENA_BYTES"] == emit.plan.size
    assert emit.weight_bytes >= graph.weight_bytes - 64  # all weights and biases, plus multipliers and shifts
    assert "float" not in emit.files["kws_model.c"] and "double" not in emit.files["kws_model.c"]
    assert "kws_model_invoke(const int8_t *features, int8_t *scores)" in emit.files["kws_model.h"]


def _check_plan(graph, plan):
    live = plan.buffers
    for i, a in enumerate(live):
        assert a.offset % plan.align == 0
        assert a.offset + a.size <= plan.size
        for b in live[i + 1 :]:
            if a.overlaps_in_time(b):
                assert not a.overlaps_in_space(b), f"tensors {a.root} and {b.root} are live together and overlap"
    assert plan.size <= -(-plan.naive_size // plan.align) * plan.align + plan.align * len(live)
    # every non-constant tensor an operator touches has a home: arena, caller's array or a view
    for op in graph.operators:
        for t in [*op.inputs, *op.outputs]:
            if t >= 0 and not graph.tensors[t].is_constant:
                root = plan.aliases.get(t, t)
                assert t in plan.offsets or root in plan.external


def test_arena_plan_reuses_memory_without_overlap():
    graph = parse_tflite(SHIPPED.read_bytes(), source="commands")
    plan = plan_arena(graph)
    _check_plan(graph, plan)
    assert plan.size < plan.naive_size  # buffers are reused
    assert graph.input in plan.external and graph.output in plan.external
    reshape = graph.operators[0]
    assert reshape.op == "RESHAPE" and plan.aliases[reshape.outputs[0]] == graph.input  # a view, no copy
    report = plan.report(graph)
    assert report.startswith(f"arena {plan.size} bytes") and len(report.splitlines()) == len(plan.buffers) + 1
    plan8 = plan_arena(graph, align=8)
    _check_plan(graph, plan8)


# --------------------------------------------------------------------------- #
# the Cortex-M4 build
# --------------------------------------------------------------------------- #


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed")
def test_cortex_m4_build_has_no_float_and_uses_dsp(shipped_builds, tmp_path):
    emit, exes = shipped_builds
    folder = next(iter(exes.values())).parent
    objects = []
    for src in (folder / "kws_model.c", C_DIR / "kws_kernels.c"):
        obj = tmp_path / (src.stem + ".o")
        subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16",
                        "-Os", "-std=c99", "-Wall", "-Wextra", "-Werror", f"-I{folder}", f"-I{C_DIR}", "-c", str(src),
                        "-o", str(obj)], check=True, capture_output=True, text=True)
        objects.append(obj)
    dump = subprocess.run(["arm-none-eabi-objdump", "-d", *map(str, objects)], check=True, capture_output=True,
                          text=True).stdout
    assert not re.search(r"__aeabi_[fd]", dump)
    assert not re.search(r"\tv[a-z0-9]+(\.[a-z0-9]+)*\s", dump), "VFP instruction in the device code"
    for instruction in ("smlad", "sxtab16", "sxtb16"):
        assert instruction in dump


# --------------------------------------------------------------------------- #
# small models built with TensorFlow
# --------------------------------------------------------------------------- #


@pytest.fixture(scope="module")
def tf():
    return pytest.importorskip("tensorflow")


def _convert(tf, model, input_shape, *, seed=0, per_tensor_dense=False, quantize=True):
    rng = np.random.default_rng(seed)

    def representative():
        for _ in range(40):
            yield [rng.normal(0.0, 1.0, size=input_shape).astype(np.float32)]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if quantize:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
        if per_tensor_dense:
            converter._experimental_disable_per_channel_quantization_for_dense_layers = True
    return converter.convert()


def _check_small_model(tflite: bytes, folder: Path, n: int = 60, seed: int = 0, variants=VARIANTS):
    graph = parse_tflite(tflite, source=folder.name)
    _check_plan(graph, plan_arena(graph))
    generate(tflite, folder, folder.name)
    shape = graph.input_tensor.shape
    rng = np.random.default_rng(seed)
    inputs = rng.integers(-128, 128, size=(n, *shape)).astype(np.int8)
    inputs[0] = -128
    inputs[1] = 127
    expected = tflm_scores(tflite, inputs)
    for name, exe in build_all(folder, variants).items():
        assert_same_scores(run_c(exe, inputs, expected.shape[1]), expected, f"{folder.name}, {name} build")
    return graph


@needs_gcc
def test_conv_valid_stride2_relu6_maxpool_same_fc_per_tensor(tf, tmp_path):
    keras = tf.keras
    inp = keras.Input(batch_shape=(1, 12, 9, 3))
    x = keras.layers.Conv2D(8, (3, 2), strides=2, padding="valid")(inp)
    x = keras.layers.ReLU(6.0)(x)
    x = keras.layers.MaxPooling2D((2, 2), strides=1, padding="same")(x)
    x = keras.layers.Conv2D(6, (2, 3), strides=(1, 2), padding="same", activation="relu")(x)
    x = keras.layers.MaxPooling2D((2, 1), strides=(2, 1), padding="valid")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(5)(x)
    out = keras.layers.Softmax()(x)
    tflite = _convert(tf, keras.Model(inp, out), (1, 12, 9, 3), per_tensor_dense=True)
    graph = _check_small_model(tflite, tmp_path / "conv_valid")
    ops = [op.op for op in graph.operators]
    assert {"CONV_2D", "MAX_POOL_2D", "FULLY_CONNECTED", "SOFTMAX"} <= set(ops)
    conv = [op for op in graph.operators if op.op == "CONV_2D"]
    assert conv[0].options["padding"] == "VALID" and conv[0].options["activation"] == "RELU6"
    fc = next(op for op in graph.operators if op.op == "FULLY_CONNECTED")
    assert not graph.tensors[fc.inputs[1]].per_channel


@needs_gcc
def test_depthwise_dilation_avgpool_add_fc_per_channel(tf, tmp_path):
    keras = tf.keras
    inp = keras.Input(batch_shape=(1, 10, 7, 4))
    a = keras.layers.DepthwiseConv2D((3, 3), strides=2, padding="same", depth_multiplier=2)(inp)
    b = keras.layers.Conv2D(8, 1, strides=2, padding="same")(inp)
    b = keras.layers.Conv2D(8, (2, 1), padding="same")(b)
    x = keras.layers.Add()([a, b])
    x = keras.layers.ReLU()(x)
    x = keras.layers.AveragePooling2D((2, 3), strides=(2, 2), padding="same")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(7, activation="relu")(x)
    x = keras.layers.Dense(4)(x)
    out = keras.layers.Softmax()(x)
    tflite = _convert(tf, keras.Model(inp, out), (1, 10, 7, 4), seed=1)
    graph = _check_small_model(tflite, tmp_path / "depthwise_add")
    ops = {op.op for op in graph.operators}
    assert {"DEPTHWISE_CONV_2D", "ADD", "AVERAGE_POOL_2D", "FULLY_CONNECTED"} <= ops
    add = next(op for op in graph.operators if op.op == "ADD")
    assert graph.tensors[add.inputs[0]].scale != graph.tensors[add.inputs[1]].scale
    dw = next(op for op in graph.operators if op.op == "DEPTHWISE_CONV_2D")
    assert dw.options["depth_multiplier"] == 2


@needs_gcc
def test_broadcast_add_over_one_axis_either_operand(tf, tmp_path):
    """BC-ResNet's residual: [T, 1, C] added to every row of [T, F, C], as the first or the second input."""
    keras = tf.keras
    inp = keras.Input(batch_shape=(1, 9, 5, 6))
    full = keras.layers.DepthwiseConv2D((1, 3), padding="same")(inp)
    row = keras.layers.AveragePooling2D((1, 5))(full)
    row = keras.layers.Conv2D(6, 1, activation="relu")(row)
    x = keras.layers.Add()([row, full])
    x = keras.layers.ReLU()(keras.layers.Add()([x, keras.layers.Conv2D(6, (3, 1), padding="same")(row)]))
    x = keras.layers.Flatten()(x)
    out = keras.layers.Softmax()(keras.layers.Dense(4)(x))
    tflite = _convert(tf, keras.Model(inp, out), (1, 9, 5, 6), seed=5)
    graph = _check_small_model(tflite, tmp_path / "broadcast_add")
    assert (tmp_path / "broadcast_add" / "kws_model.c").read_text().count("kws_add_broadcast_s8(") == 2
    shapes = [[graph.tensors[i].shape for i in op.inputs[:2]] for op in graph.operators if op.op == "ADD"]
    assert {tuple(map(tuple, pair)) for pair in shapes} >= {((1, 9, 1, 6), (1, 9, 5, 6)),
                                                            ((1, 9, 5, 6), (1, 9, 1, 6))}, shapes


def test_add_broadcast_layout():
    from kws.firmware_export.tflite_graph import add_broadcast_layout

    assert add_broadcast_layout((1, 4, 3), (1, 4, 3), (1, 4, 3)) == (1, 1, 12, 0)
    assert add_broadcast_layout((1, 7, 1, 6), (1, 7, 5, 6), (1, 7, 5, 6)) == (7, 5, 6, 1)
    assert add_broadcast_layout((1, 7, 5, 6), (1, 1, 1, 6), (1, 7, 5, 6)) == (1, 35, 6, 2)
    assert add_broadcast_layout((1, 7, 5, 6), (6,), (1, 7, 5, 6)) == (1, 35, 6, 2)  # ranks align at the end
    assert add_broadcast_layout((1, 7, 5, 6), (1, 1, 5, 1), (1, 7, 5, 6)) is None  # two separate runs
    assert add_broadcast_layout((1, 7, 1, 6), (1, 1, 5, 6), (1, 7, 5, 6)) is None  # both inputs broadcast
    assert add_broadcast_layout((1, 7, 2, 6), (1, 7, 5, 6), (1, 7, 5, 6)) is None  # not a size-1 axis


@needs_gcc
def test_dilated_depthwise_valid(tf, tmp_path):
    keras = tf.keras
    inp = keras.Input(batch_shape=(1, 9, 8, 5))
    x = keras.layers.DepthwiseConv2D((2, 3), padding="valid", dilation_rate=2, activation="relu")(inp)
    x = keras.layers.Flatten()(x)
    out = keras.layers.Dense(6)(x)
    tflite = _convert(tf, keras.Model(inp, out), (1, 9, 8, 5), seed=2)
    graph = _check_small_model(tflite, tmp_path / "dilated", variants={"plain": {}, "dsp_emulated":
                                                                        VARIANTS["dsp_emulated"]})
    dw = next(op for op in graph.operators if op.op == "DEPTHWISE_CONV_2D")
    assert dw.options["dilation_h"] == 2


@needs_gcc
def test_time_only_layers_strides_even_taps_valid_padding(tf, tmp_path):
    """The time-only kernels (kws_conv_time_s8, kws_depthwise_time_s8): stride 2, even and odd tap
    counts, SAME and VALID padding, channel counts that are not multiples of 4, an odd output length."""
    keras = tf.keras
    inp = keras.Input(batch_shape=(1, 23, 1, 6))
    x = keras.layers.Conv2D(7, (3, 1), padding="same")(inp)
    x = keras.layers.DepthwiseConv2D((4, 1), strides=(2, 1), padding="same", activation="relu")(x)
    x = keras.layers.Conv2D(9, 1, strides=(2, 1), padding="valid", activation="relu")(x)
    x = keras.layers.DepthwiseConv2D((5, 1), padding="valid")(x)
    x = keras.layers.Flatten()(x)
    out = keras.layers.Dense(5)(x)
    tflite = _convert(tf, keras.Model(inp, out), (1, 23, 1, 6), seed=4)
    graph = _check_small_model(tflite, tmp_path / "time_only")
    emitted = (tmp_path / "time_only" / "kws_model.c").read_text()
    assert emitted.count("kws_depthwise_time_s8(") == 2 and "kws_conv_time_s8(" in emitted
    assert [op.op for op in graph.operators].count("DEPTHWISE_CONV_2D") == 2


@needs_gcc
@pytest.mark.parametrize("gain", [0.05, 3.0, 60.0])
def test_softmax_with_different_input_scales(tf, tmp_path, gain):
    keras = tf.keras
    inp = keras.Input(batch_shape=(1, 16))
    dense = keras.layers.Dense(10, kernel_initializer=keras.initializers.RandomNormal(stddev=gain, seed=3))
    out = keras.layers.Softmax()(dense(inp))
    tflite = _convert(tf, keras.Model(inp, out), (1, 16), seed=3)
    graph = _check_small_model(tflite, tmp_path / f"softmax_{gain}", n=80,
                               variants={"plain": {}, "sanitize": VARIANTS["sanitize"]})
    assert graph.operators[-1].op == "SOFTMAX"


# --------------------------------------------------------------------------- #
# refusals
# --------------------------------------------------------------------------- #


def _dense_model(tf, activation):
    keras = tf.keras
    inp = keras.Input(batch_shape=(1, 8))
    return keras.Model(inp, keras.layers.Dense(3, activation=activation, name="head")(inp))


def test_unsupported_op_is_refused_with_op_and_layer(tf):
    tflite = _convert(tf, _dense_model(tf, "sigmoid"), (1, 8))
    with pytest.raises(ExportError, match=r"LOGISTIC") as info:
        emit_model(tflite, source="sigmoid.tflite")
    assert isinstance(info.value, KwsError)
    assert "sigmoid.tflite" in str(info.value) and "layer '" in str(info.value)

    keras = tf.keras
    inp = keras.Input(batch_shape=(1, 8))
    out = keras.layers.Concatenate()([keras.layers.Dense(3)(inp), keras.layers.Dense(2)(inp)])
    with pytest.raises(ExportError, match=r"CONCATENATION"):
        emit_model(_convert(tf, keras.Model(inp, out), (1, 8)), source="concat.tflite")


def test_float_model_is_refused(tf):
    tflite = _convert(tf, _dense_model(tf, None), (1, 8), quantize=False)
    with pytest.raises(ExportError, match=r"FULLY_CONNECTED.*float32") as info:
        parse_tflite(tflite, source="float.tflite")
    assert "layer '" in str(info.value)


def _edit_first_op(tflite: bytes, op_name: str, edit) -> bytes:
    import flatbuffers
    from tflite_micro.python.tflite_micro.runtime import schema_fb as schema

    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(tflite, 0))
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    for op in model.subgraphs[0].operators:
        code = model.operatorCodes[op.opcodeIndex]
        if names[max(code.builtinCode, code.deprecatedBuiltinCode)] == op_name:
            edit(op.builtinOptions)
            break
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def test_unsupported_options_are_refused_naming_option_and_layer(tf):
    tflite = _convert(tf, _dense_model(tf, None), (1, 8))
    parse_tflite(tflite)  # the unedited model is fine

    def keep_dims(options):
        options.keepNumDims = True

    def tanh(options):
        options.fusedActivationFunction = 4

    with pytest.raises(ExportError, match=r"layer '.+' \(FULLY_CONNECTED\): option keep_num_dims"):
        parse_tflite(_edit_first_op(tflite, "FULLY_CONNECTED", keep_dims))
    with pytest.raises(ExportError, match=r"layer '.+' \(FULLY_CONNECTED\): fused activation TANH"):
        parse_tflite(_edit_first_op(tflite, "FULLY_CONNECTED", tanh))


# --------------------------------------------------------------------------- #
# the one-rounding requantization of kws_kernels.c
# --------------------------------------------------------------------------- #


def _one_rounding_requant(x: int, q31: int, shift: int) -> int:
    """kws_requant of kws_kernels.c in Python integers (the formula the DSP path computes with SMLAL)."""
    if shift >= 0:
        x = ((x << shift) + (1 << 31)) % (1 << 32) - (1 << 31)  # the C code's wrapping left shift
        return (x * q31 + (1 << 30)) >> 31
    e = -shift
    return ((1 << 30) + (1 << (30 + e)) + x * q31 - (1 << 31) * (x < 0)) >> (31 + e)


def test_one_rounding_requantization_equals_tflite_double_rounding():
    from kws.fixedpoint import multiply_by_quantized_multiplier

    rng = np.random.default_rng(7)
    xs = np.concatenate([rng.integers(-(1 << 31), 1 << 31, 4000), rng.integers(-70000, 70000, 4000),
                         np.arange(-300, 300), [-(1 << 31), (1 << 31) - 1, -1, 0, 1]]).astype(np.int64)
    q31s = [0, 1 << 30, (1 << 30) + 1, (1 << 31) - 1, *map(int, rng.integers(1 << 30, 1 << 31, 6))]
    for q31 in q31s:
        for shift in (-31, -30, -17, -8, -2, -1, 0, 1, 3):
            # a left shift must keep x inside int32 (TFLite's contract; the C code would wrap)
            x = xs[(xs << max(shift, 0) >= -(1 << 31)) & (xs << max(shift, 0) < (1 << 31))]
            expected = multiply_by_quantized_multiplier(x, q31, shift)
            got = np.array([_one_rounding_requant(int(v), q31, shift) for v in x])
            bad = np.flatnonzero(got != expected)
            assert bad.size == 0, f"q31={q31} shift={shift} x={int(x[bad[0]])}"
