"""The int8 keyword model at run time: load, check against the front end, score.

A model is a full-integer TFLite flatbuffer plus a ``config.json`` that says
what it was trained on::

    {"labels": ["_silence_", "_unknown_", "yes", ...],
     "frontend": FrontendConfig.to_dict(),
     "frontend_hash": "<12 hex digits>",
     "architecture": "ds_cnn",
     ...any further keys (params, training figures) are kept as ``extra``}

Loading refuses, with a :class:`~kws.errors.ModelError` naming the file, a
model whose front end differs from the running one (the differing settings
are listed), whose int8 input quantization is not the front end's feature
format (scale ``feature_scale``, zero point ``feature_zero_point``), or whose
input is not ``[1, frames_per_clip, n_mfcc]`` int8.

Scores are computed by the TFLite Micro interpreter (``tflite_micro``, the
reference int8 kernels), i.e. exactly the arithmetic the device's C code
implements; TensorFlow is never imported here.

Where a model comes from (:meth:`KwsModel.load`):

* a run folder holding ``model_int8.tflite`` and ``config.json``;
* a ``.tflite`` file, with ``config.json`` beside it or an explicit ``labels`` list;
* the name of a shipped model, a folder under ``kws/models/<name>/``.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from kws.config import FrontendConfig, check_frontend_match, config_hash, frontend_from_dict
from kws.decision import decide, keyword_mask, probability_to_score_int8
from kws.errors import ConfigError, ModelError
from kws.fileio import write_json_atomic

#: File names inside a run folder or shipped model folder.
TFLITE_FILE = "model_int8.tflite"
CONFIG_FILE = "config.json"
#: Folder of the models shipped with kws.
SHIPPED_MODELS_DIR = Path(__file__).resolve().parent / "models"
#: Relative tolerance on the model's input scale against ``FrontendConfig.feature_scale``.
INPUT_SCALE_TOLERANCE = 1e-6

_TFLITE_IDENTIFIER = b"TFL3"
#: Optional ``config.json`` key: the clip decision rule's minimum keyword probability (:mod:`kws.decision`).
MIN_KEYWORD_PROBABILITY_KEY = "min_keyword_probability"
_REQUIRED_CONFIG_KEYS = ("labels", "frontend", "frontend_hash", "architecture")


# --------------------------------------------------------------------------- #
# config.json
# --------------------------------------------------------------------------- #


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """The contents of a model's ``config.json``."""

    labels: tuple[str, ...]
    """Class names, in the order of the model's output scores."""
    frontend: FrontendConfig
    """Front-end settings the model was trained with."""
    architecture: str
    """Registry name of the architecture (``"ds_cnn"``, ...), or ``"unknown"``."""
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)
    """Every other key of the file (parameters, training figures), kept as read."""

    @property
    def frontend_hash(self) -> str:
        return config_hash(self.frontend)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.extra,
            "labels": list(self.labels),
            "frontend": self.frontend.to_dict(),
            "frontend_hash": self.frontend_hash,
            "architecture": self.architecture,
        }


def _check_labels(labels: Iterable[Any], where: str) -> tuple[str, ...]:
    if isinstance(labels, (str, bytes)):
        raise ModelError(f"{where}: labels must be a list of strings, got {labels!r}")
    labels = tuple(labels)
    if not labels:
        raise ModelError(f"{where}: labels list is empty")
    bad = [label for label in labels if not isinstance(label, str) or not label]
    if bad:
        raise ModelError(f"{where}: labels must be non-empty strings, got {bad[0]!r}")
    duplicates = sorted({label for label in labels if labels.count(label) > 1})
    if duplicates:
        raise ModelError(f"{where}: duplicate labels {duplicates}")
    return labels


def write_model_config(
    folder: str | os.PathLike,
    *,
    labels: Sequence[str],
    frontend: FrontendConfig,
    architecture: str,
    **extra: Any,
) -> Path:
    """Write ``<folder>/config.json`` atomically and return its path.

    Parameters
    ----------
    folder : path
        Run folder or model folder (created if missing).
    labels : sequence of str
        Class names in output order.
    frontend : FrontendConfig
        Front end the model was trained on; its hash is stored beside it.
    architecture : str
        Registry name of the architecture.
    **extra
        Further JSON-serialisable keys (``params``, ``metrics``, ...).
    """
    path = Path(folder) / CONFIG_FILE
    clashes = sorted(set(extra) & set(_REQUIRED_CONFIG_KEYS))
    if clashes:
        raise ConfigError(f"{path}: extra keys {clashes} clash with the fixed config.json keys")
    config = ModelConfig(labels=_check_labels(labels, str(path)), frontend=frontend,
                         architecture=str(architecture), extra=dict(extra))
    write_json_atomic(path, config.to_dict())
    return path


def read_model_config(path: str | os.PathLike) -> ModelConfig:
    """Read and validate a ``config.json`` (or the one inside a folder).

    Raises
    ------
    ModelError
        missing or malformed file, missing keys, bad labels, bad front-end
        settings, or a ``frontend_hash`` that does not match the stored
        ``frontend`` settings (the file was edited by hand); the message names the file.
    """
    path = Path(path)
    if path.is_dir():
        path = path / CONFIG_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{path}: model config not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: not a readable JSON model config ({exc})") from None
    if not isinstance(data, dict):
        raise ModelError(f"{path}: expected a JSON object, got {type(data).__name__}")
    missing = [key for key in _REQUIRED_CONFIG_KEYS if key not in data]
    if missing:
        raise ModelError(f"{path}: missing key(s) {missing}")
    try:
        frontend = frontend_from_dict(data["frontend"], where=f"{path}: frontend")
    except ConfigError as exc:
        raise ModelError(str(exc)) from None
    stored_hash = data["frontend_hash"]
    if stored_hash != config_hash(frontend):
        raise ModelError(f"{path}: frontend_hash {stored_hash!r} does not match the stored frontend settings "
                         f"(hash {config_hash(frontend)}); the file was edited or is corrupt")
    extra = {k: v for k, v in data.items() if k not in _REQUIRED_CONFIG_KEYS}
    return ModelConfig(labels=_check_labels(data["labels"], str(path)), frontend=frontend,
                       architecture=str(data["architecture"]), extra=extra)


def _min_keyword_probability(config: ModelConfig, source: str) -> float:
    value = config.extra.get(MIN_KEYWORD_PROBABILITY_KEY, 0.0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ModelError(f"{source}: {MIN_KEYWORD_PROBABILITY_KEY} must be a number in [0, 1), got {value!r}")
    return float(value)


# --------------------------------------------------------------------------- #
# Reading the flatbuffer (no TensorFlow)
# --------------------------------------------------------------------------- #


@dataclasses.dataclass(frozen=True)
class TensorInfo:
    """Shape, type and per-tensor quantization of a graph input or output."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    """numpy dtype name: ``"int8"``, ``"float32"``, ..."""
    scale: float | None
    """Per-tensor scale, ``None`` when not quantized."""
    zero_point: int | None


@dataclasses.dataclass(frozen=True)
class TfliteInfo:
    """What :func:`inspect_tflite` reads from a flatbuffer."""

    input: TensorInfo
    output: TensorInfo
    ops: tuple[str, ...]
    """Builtin operator names in execution order (``"CONV_2D"``, ...; custom ops as ``"CUSTOM:<name>"``)."""
    weight_bytes: int
    """Bytes of constant tensor data (weights, biases, shape constants)."""

    @property
    def op_set(self) -> frozenset[str]:
        return frozenset(self.ops)


_DTYPE_NAMES = {0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 6: "bool", 7: "int16",
                9: "int8", 10: "float64", 15: "uint32", 16: "uint16"}
_DTYPE_SIZES = {"float32": 4, "float16": 2, "int32": 4, "uint8": 1, "int64": 8, "bool": 1, "int16": 2,
                "int8": 1, "float64": 8, "uint32": 4, "uint16": 2}


def _schema():
    from tflite_micro.python.tflite_micro.runtime import schema_fb

    return schema_fb


def _builtin_names() -> dict[int, str]:
    operators = _schema().BuiltinOperator
    return {value: name for name, value in vars(operators).items()
            if not name.startswith("_") and isinstance(value, int)}


def _tensor_info(tensor, source: str) -> TensorInfo:
    dtype = _DTYPE_NAMES.get(int(tensor.type), f"type{int(tensor.type)}")
    quant = tensor.quantization
    scales = [] if quant is None or quant.scale is None else [float(s) for s in quant.scale]
    zero_points = [] if quant is None or quant.zeroPoint is None else [int(z) for z in quant.zeroPoint]
    if len(scales) > 1 or len(zero_points) > 1:
        raise ModelError(f"{source}: graph input/output {tensor.name!r} has per-axis quantization; "
                         f"expected one scale and zero point")
    name = tensor.name.decode("utf-8", "replace") if isinstance(tensor.name, bytes) else str(tensor.name or "")
    shape = tuple(int(d) for d in (tensor.shape if tensor.shape is not None else ()))
    return TensorInfo(name=name, shape=shape, dtype=dtype, scale=scales[0] if scales else None,
                      zero_point=zero_points[0] if zero_points else None)


def inspect_tflite(data: bytes, *, source: str = "model") -> TfliteInfo:
    """Read the input/output format, operator list and weight size of a TFLite flatbuffer.

    Also checks the file's structure (identifier, one subgraph with one input
    and one output, buffer references and sizes) so that a truncated or
    foreign file is refused here instead of reaching the C++ interpreter.

    Parameters
    ----------
    data : bytes
        The ``.tflite`` file contents.
    source : str
        Name used in error messages (the file path).

    Raises
    ------
    ModelError
        not a TFLite flatbuffer, truncated, or not a single-input single-output graph.
    """
    data = bytes(data)
    if len(data) < 8 or data[4:8] != _TFLITE_IDENTIFIER:
        raise ModelError(f"{source}: not a TFLite flatbuffer (no 'TFL3' identifier; {len(data)} bytes)")
    schema = _schema()
    try:
        model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(data, 0))
    except Exception as exc:  # noqa: BLE001 - any parse failure of foreign bytes means a broken file
        raise ModelError(f"{source}: corrupt or truncated TFLite flatbuffer ({type(exc).__name__}: {exc})") from None
    if not model.subgraphs or len(model.subgraphs) != 1:
        raise ModelError(f"{source}: expected one subgraph, found {len(model.subgraphs or [])}")
    graph = model.subgraphs[0]
    tensors = graph.tensors if graph.tensors is not None else []
    buffers = model.buffers if model.buffers is not None else []
    inputs = list(graph.inputs if graph.inputs is not None else [])
    outputs = list(graph.outputs if graph.outputs is not None else [])
    if len(inputs) != 1 or len(outputs) != 1:
        raise ModelError(f"{source}: expected one input and one output tensor, found {len(inputs)} and {len(outputs)}")
    for index in inputs + outputs:
        if not 0 <= index < len(tensors):
            raise ModelError(f"{source}: graph refers to tensor {index}, but only {len(tensors)} exist")

    weight_bytes = 0
    for tensor in tensors:
        if not 0 <= tensor.buffer < len(buffers):
            raise ModelError(f"{source}: tensor {tensor.name!r} refers to missing buffer {tensor.buffer}")
        buffer = buffers[tensor.buffer]
        if buffer.data is None or len(buffer.data) == 0:
            continue
        dtype = _DTYPE_NAMES.get(int(tensor.type))
        shape = tensor.shape if tensor.shape is not None else ()
        if dtype in _DTYPE_SIZES and len(buffer.data) != int(np.prod(shape, dtype=np.int64)) * _DTYPE_SIZES[dtype]:
            raise ModelError(f"{source}: constant tensor {tensor.name!r} has {len(buffer.data)} bytes of data for "
                             f"shape {list(shape)} {dtype}; the file is corrupt")
        weight_bytes += len(buffer.data)

    names = _builtin_names()
    codes = model.operatorCodes if model.operatorCodes is not None else []
    ops = []
    for op in graph.operators if graph.operators is not None else []:
        if not 0 <= op.opcodeIndex < len(codes):
            raise ModelError(f"{source}: operator refers to missing opcode {op.opcodeIndex}")
        code = codes[op.opcodeIndex]
        builtin = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
        name = names.get(builtin, f"BUILTIN_{builtin}")
        if name == "CUSTOM":
            custom = code.customCode.decode("utf-8", "replace") if code.customCode else "?"
            name = f"CUSTOM:{custom}"
        ops.append(name)
    return TfliteInfo(input=_tensor_info(tensors[inputs[0]], source), output=_tensor_info(tensors[outputs[0]], source),
                      ops=tuple(ops), weight_bytes=weight_bytes)


def check_input_format(info: TfliteInfo, frontend: FrontendConfig, *, source: str = "model") -> None:
    """Require an int8 ``[1, frames_per_clip, n_mfcc]`` input quantized exactly like the front end's features.

    Raises
    ------
    ModelError
        wrong input type, shape, scale (relative tolerance :data:`INPUT_SCALE_TOLERANCE`) or zero point.
    """
    tensor = info.input
    expected_shape = (1, frontend.frames_per_clip, frontend.n_mfcc)
    if tensor.dtype != "int8":
        raise ModelError(f"{source}: model input is {tensor.dtype}; expected int8 features")
    if tensor.shape != expected_shape:
        raise ModelError(f"{source}: model input shape {list(tensor.shape)} != {list(expected_shape)} "
                         f"(1 x frames_per_clip x n_mfcc of the front end)")
    scale, zero_point = frontend.feature_scale, frontend.feature_zero_point
    if tensor.scale is None or tensor.zero_point is None:
        raise ModelError(f"{source}: model input is not quantized; expected scale {scale} zero point {zero_point}")
    if abs(tensor.scale - scale) > INPUT_SCALE_TOLERANCE * scale or tensor.zero_point != zero_point:
        raise ModelError(f"{source}: model input quantization (scale {tensor.scale!r}, zero point {tensor.zero_point}) "
                         f"differs from the front end's int8 features (scale {scale}, zero point {zero_point})")


# --------------------------------------------------------------------------- #
# The model
# --------------------------------------------------------------------------- #


class KwsModel:
    """An int8 keyword classifier run by the TFLite Micro reference kernels.

    Parameters
    ----------
    tflite : bytes
        Full-integer TFLite flatbuffer with int8 input ``[1, frames, n_mfcc]``
        and int8 output ``[1, n_classes]``.
    config : ModelConfig
        Labels, training front end and architecture of the model.
    running_frontend : FrontendConfig, optional
        The front end that will produce the features (default: ``FrontendConfig()``).
        Must be identical to ``config.frontend``.
    source : str
        Name used in messages (the file or folder the model came from).

    Raises
    ------
    ModelError
        front-end mismatch (the differing settings are named), bad input
        format, label count different from the output size, or a flatbuffer
        the interpreter refuses.
    """

    def __init__(self, tflite: bytes, config: ModelConfig, *, running_frontend: FrontendConfig | None = None,
                 source: str = "model"):
        self.source = str(source)
        self.config = config
        self.frontend = running_frontend if running_frontend is not None else FrontendConfig()
        check_frontend_match(config.frontend, self.frontend, model_name=self.source)
        self.tflite = bytes(tflite)
        self.info = inspect_tflite(self.tflite, source=self.source)
        check_input_format(self.info, self.frontend, source=self.source)
        out = self.info.output
        if out.dtype != "int8" or out.scale is None:
            raise ModelError(f"{self.source}: model output is {out.dtype}"
                             f"{'' if out.scale is not None else ' (not quantized)'}; expected int8 scores")
        if out.shape != (1, len(config.labels)):
            raise ModelError(f"{self.source}: model output shape {list(out.shape)} does not match the "
                             f"{len(config.labels)} labels {list(config.labels)}")
        self.min_keyword_probability = _min_keyword_probability(config, self.source)
        """Clips whose top keyword is less likely than this are decided as a non-keyword label
        (:mod:`kws.decision`); 0 = plain argmax. From ``config.json``; may be changed."""
        self._interpreter = self._make_interpreter()

    def _make_interpreter(self):
        from tflite_micro import runtime

        arena_size = max(10 * len(self.tflite), 1 << 18)
        try:
            return runtime.Interpreter.from_bytes(self.tflite, arena_size=arena_size)
        except (RuntimeError, ValueError) as exc:
            raise ModelError(f"{self.source}: TFLite Micro cannot run this model ({exc})") from None

    # -- loading -------------------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        source: str | os.PathLike,
        *,
        labels: Sequence[str] | None = None,
        frontend: FrontendConfig | None = None,
        running_frontend: FrontendConfig | None = None,
    ) -> "KwsModel":
        """Load a model from a run folder, a ``.tflite`` file or a shipped model name.

        Parameters
        ----------
        source : path or str
            Folder with ``model_int8.tflite`` + ``config.json``; a ``.tflite``
            file (``config.json`` beside it is used when present); or the name
            of a folder under ``kws/models/``.
        labels : sequence of str, optional
            Class names for a ``.tflite`` without ``config.json``. With a
            config they must equal its labels.
        frontend : FrontendConfig, optional
            Front end the model was trained on, for a ``.tflite`` without
            ``config.json`` (default: the running front end).
        running_frontend : FrontendConfig, optional
            Front end that will compute the features (default ``FrontendConfig()``).

        Raises
        ------
        ModelError
            nothing found at ``source``, unreadable or corrupt files, or any
            check of :class:`KwsModel` failing; the message names the file.
        """
        tflite_path, config_path = resolve_model_files(source)
        if config_path is not None:
            config = read_model_config(config_path)
            if labels is not None and tuple(labels) != config.labels:
                raise ModelError(f"{config_path}: labels {list(config.labels)} differ from the given {list(labels)}")
            if frontend is not None and config_hash(frontend) != config.frontend_hash:
                check_frontend_match(config.frontend, frontend, model_name=str(config_path))
        else:
            if labels is None:
                raise ModelError(f"{tflite_path}: no {CONFIG_FILE} beside the model; pass the labels explicitly")
            running = running_frontend if running_frontend is not None else FrontendConfig()
            config = ModelConfig(labels=_check_labels(labels, str(tflite_path)),
                                 frontend=frontend if frontend is not None else running, architecture="unknown")
        try:
            data = tflite_path.read_bytes()
        except OSError as exc:
            raise ModelError(f"{tflite_path}: cannot read model ({exc})") from None
        if running_frontend is None and config.frontend != FrontendConfig() \
                and config.frontend == dataclasses.replace(FrontendConfig(), clip_duration_ms=config.frontend.clip_duration_ms):
            # the window length is the model's input length, not a front-end setting: the frames are the same
            running_frontend = config.frontend
        return cls(data, config, running_frontend=running_frontend, source=str(tflite_path))

    # -- properties ----------------------------------------------------------------------------

    @property
    def labels(self) -> tuple[str, ...]:
        return self.config.labels

    @property
    def n_classes(self) -> int:
        return len(self.config.labels)

    @property
    def architecture(self) -> str:
        return self.config.architecture

    @property
    def output_scale(self) -> float:
        return float(self.info.output.scale)

    @property
    def output_zero_point(self) -> int:
        return int(self.info.output.zero_point)

    def __repr__(self) -> str:
        return (f"KwsModel({self.source!r}, architecture={self.architecture!r}, labels={list(self.labels)}, "
                f"weights={self.info.weight_bytes} B)")

    # -- scoring -------------------------------------------------------------------------------

    def _check_features(self, features: np.ndarray, batched: bool) -> np.ndarray:
        features = np.asarray(features)
        frame_shape = (self.frontend.frames_per_clip, self.frontend.n_mfcc)
        expected = "[n, %d, %d]" % frame_shape if batched else "[%d, %d]" % frame_shape
        ok_shape = features.ndim == (3 if batched else 2) and features.shape[-2:] == frame_shape
        if features.dtype != np.int8 or not ok_shape:
            raise ModelError(f"{self.source}: features must be int8 {expected}, "
                             f"got {features.dtype} {list(features.shape)}")
        return np.ascontiguousarray(features)

    def _invoke(self, features: np.ndarray) -> np.ndarray:
        interpreter = self._interpreter
        interpreter.set_input(features[None], 0)
        interpreter.invoke()
        return np.array(interpreter.get_output(0), dtype=np.int8).reshape(self.n_classes)

    def scores(self, features: np.ndarray) -> np.ndarray:
        """int8 class scores of one clip.

        Parameters
        ----------
        features : np.ndarray [shape=(frames_per_clip, n_mfcc), int8]

        Returns
        -------
        np.ndarray [shape=(n_classes,), int8]
            Quantized softmax output: probability = ``output_scale * (q - output_zero_point)``.
        """
        return self._invoke(self._check_features(features, batched=False))

    def scores_batch(self, features: np.ndarray) -> np.ndarray:
        """int8 class scores of many clips (one interpreter call each, as on the device).

        Parameters
        ----------
        features : np.ndarray [shape=(n, frames_per_clip, n_mfcc), int8]

        Returns
        -------
        np.ndarray [shape=(n, n_classes), int8]
        """
        features = self._check_features(features, batched=True)
        out = np.empty((len(features), self.n_classes), dtype=np.int8)
        for i, clip in enumerate(features):
            out[i] = self._invoke(clip)
        return out

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        """Dequantize int8 scores to float32 probabilities (for display only)."""
        return (self.output_scale * (np.asarray(scores, np.float32) - self.output_zero_point)).astype(np.float32)

    @property
    def min_keyword_score_int8(self) -> int | None:
        """``min_keyword_probability`` as an int8 score threshold (``None`` when it is 0)."""
        if self.min_keyword_probability <= 0.0:
            return None
        return probability_to_score_int8(self.min_keyword_probability, self.output_scale, self.output_zero_point)

    def decide(self, scores: np.ndarray) -> np.ndarray:
        """Decided class index per row of int8 ``scores`` ``[n, n_classes]`` (:func:`kws.decision.decide`)."""
        return decide(scores, keyword_mask(self.labels), self.min_keyword_score_int8)

    def predict_indices(self, features: np.ndarray) -> np.ndarray:
        """Decided class per clip, ``[shape=(n,), int64]``: the top class (first index on ties),
        unless it is a keyword below ``min_keyword_probability`` (then the best non-keyword class)."""
        return self.decide(self.scores_batch(features))

    def predict_labels(self, features: np.ndarray) -> list[str]:
        """Top label per clip of int8 features ``[shape=(n, frames, n_mfcc)]``."""
        return [self.labels[i] for i in self.predict_indices(features)]


# --------------------------------------------------------------------------- #
# Finding model files
# --------------------------------------------------------------------------- #


def shipped_models() -> list[str]:
    """Names of the models shipped under ``kws/models/``."""
    if not SHIPPED_MODELS_DIR.is_dir():
        return []
    return sorted(p.name for p in SHIPPED_MODELS_DIR.iterdir()
                  if p.is_dir() and not p.name.startswith((".", "_")) and (p / CONFIG_FILE).is_file())


def _tflite_in_folder(folder: Path) -> Path:
    preferred = folder / TFLITE_FILE
    if preferred.is_file():
        return preferred
    candidates = sorted(folder.glob("*.tflite"))
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise ModelError(f"{folder}: no {TFLITE_FILE} in this folder")
    raise ModelError(f"{folder}: no {TFLITE_FILE} and several .tflite files "
                     f"({', '.join(p.name for p in candidates)}); name one")


def resolve_model_files(source: str | os.PathLike) -> tuple[Path, Path | None]:
    """``(tflite_path, config_path or None)`` for a run folder, a ``.tflite`` file or a shipped name.

    Raises
    ------
    ModelError
        nothing usable at ``source``; the message lists the shipped models.
    """
    path = Path(source)
    if path.is_dir():
        tflite = _tflite_in_folder(path)
        config = path / CONFIG_FILE
        if not config.is_file():
            raise ModelError(f"{path}: model folder has no {CONFIG_FILE}")
        return tflite, config
    if path.is_file():
        config = path.parent / CONFIG_FILE
        return path, config if config.is_file() else None
    name = str(source)
    if name in shipped_models():
        folder = SHIPPED_MODELS_DIR / name
        return _tflite_in_folder(folder), folder / CONFIG_FILE
    shipped = shipped_models()
    hint = f"shipped models: {', '.join(shipped)}" if shipped else "no models are shipped yet"
    raise ModelError(f"{source}: no such model folder, .tflite file or shipped model ({hint})")


def load_model(source: str | os.PathLike, **kwargs: Any) -> KwsModel:
    """Shorthand for :meth:`KwsModel.load`."""
    return KwsModel.load(source, **kwargs)


__all__ = [
    "CONFIG_FILE", "TFLITE_FILE", "KwsModel", "ModelConfig", "TensorInfo", "TfliteInfo",
    "check_input_format", "inspect_tflite", "load_model", "read_model_config", "resolve_model_files",
    "shipped_models", "write_model_config",
]
