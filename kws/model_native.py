"""Native fast path for the model: the exported C (``kws_model.c`` + ``kws_kernels.c``), built with
gcc as a shared library and called through ctypes.

Its int8 scores equal the TFLite Micro reference kernels bit for bit: it is the code that
``kws export --verify`` proves equal on the host and on a Cortex-M4, and the tests compare it
again. Streaming commands use it for speed (the TFLM interpreter is ~3/4 of ``kws detect``'s time);
``kws eval`` keeps the reference interpreter. The library is cached per model (SHA-256) and
emitted sources, written to a temporary name and renamed.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np

from kws.errors import BuildError, ModelError
from kws.frontend.native import NATIVE_FLAGS, NATIVE_OPTIMIZE, default_cache_dir
from kws.model import KwsModel


def _model_sources(model: KwsModel, folder: Path) -> list[Path]:
    """Write kws_model.{c,h} and a kws_config.h of the model's constants; return the C files to build."""
    from kws.firmware_export.cgen import define_block
    from kws.firmware_export.hostbuild import C_DIR
    from kws.firmware_export.model_c import emit_model

    emitted = emit_model(model.tflite, source=model.source)
    for name, body in emitted.files.items():
        (folder / name).write_text(body)
    (folder / "kws_config.h").write_text("#ifndef KWS_CONFIG_H\n#define KWS_CONFIG_H\n"
                                         + define_block("model", emitted.constants) + "#endif\n")
    return [folder / "kws_model.c", C_DIR / "kws_kernels.c"]


def _build_tag(model: KwsModel) -> str:
    from kws.firmware_export.hostbuild import C_DIR

    digest = hashlib.sha256(model.tflite)
    for name in ("kws_kernels.c", "kws_kernels.h", "kws_fixedpoint.h", "kws_status.h"):
        digest.update((C_DIR / name).read_bytes())
    digest.update(Path(__file__).with_name("model_native.py").read_bytes())  # the emitter's caller
    from kws.firmware_export import model_c

    digest.update(Path(model_c.__file__).read_bytes())
    digest.update(" ".join((NATIVE_OPTIMIZE, *NATIVE_FLAGS)).encode())
    return digest.hexdigest()[:16]


def build_model_library(model: KwsModel, cache_dir: str | Path | None = None) -> Path:
    """Path of the cached shared library of ``model``'s C, compiling it first if needed."""
    from kws.firmware_export.hostbuild import C_DIR, compile_host

    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = folder / f"kws_model-{_build_tag(model)}.so"
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".build-") as work:
        sources = _model_sources(model, Path(work))
        built = compile_host(sources, Path(work) / target.name, shared=True, optimize=NATIVE_OPTIMIZE,
                             include_dirs=[work, C_DIR], extra_flags=NATIVE_FLAGS)
        os.replace(built, target)
    return target


class NativeModel:
    """A :class:`KwsModel` whose scores come from its generated C instead of the TFLM interpreter.

    Every attribute other than the scoring methods is the wrapped model's (labels, front end,
    output quantization, source...), so it drops in wherever a KwsModel is scored.

    Raises
    ------
    BuildError
        gcc missing or the build failed (the message names the apt package / the error).
    """

    def __init__(self, model: KwsModel, *, cache_dir: str | Path | None = None):
        self.model = model
        self.path = build_model_library(model, cache_dir)
        try:
            self._lib = ctypes.CDLL(str(self.path))
        except OSError as exc:
            raise BuildError(f"{self.path}: cannot load the native model: {exc}") from exc
        invoke = self._lib.kws_model_invoke
        invoke.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        invoke.restype = ctypes.c_int
        self._invoke = invoke
        self._frame_shape = (model.frontend.frames_per_clip, model.frontend.n_mfcc)

    def __getattr__(self, name: str):
        return getattr(self.model, name)

    def scores(self, features: np.ndarray) -> np.ndarray:
        """int8 scores of one clip's features ``[frames_per_clip, n_mfcc]`` (as :meth:`KwsModel.scores`)."""
        features = np.ascontiguousarray(features, dtype=np.int8)
        if features.shape != self._frame_shape:
            raise ModelError(f"{self.model.source}: features must be int8 {list(self._frame_shape)}, "
                             f"got {list(features.shape)}")
        out = np.empty(self.model.n_classes, np.int8)
        status = self._invoke(features.ctypes.data, out.ctypes.data)
        if status != 0:
            raise ModelError(f"{self.path}: kws_model_invoke returned {status}")
        return out

    def scores_batch(self, features: np.ndarray) -> np.ndarray:
        """int8 scores of many clips ``[n, frames_per_clip, n_mfcc]``."""
        return np.stack([self.scores(f) for f in features]) if len(features) else \
            np.zeros((0, self.model.n_classes), np.int8)


def fastest_model(model: KwsModel, *, native: bool = True):
    """``(model to score with, note)``: the native C model if it builds, else the TFLM interpreter."""
    if native:
        try:
            return NativeModel(model), "native C model (the exported kernels, bit-exact with TFLite Micro)"
        except (BuildError, OSError) as exc:
            return model, f"TFLite Micro interpreter (native C model unavailable: {exc})"
    return model, "TFLite Micro reference interpreter"
