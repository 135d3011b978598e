"""Native fast path: the generated C front end, built with gcc as a shared library, via ctypes.

``NativeFrontend(config).features(pcm)`` gives exactly :func:`kws.frontend.compute_features`
(the same generated C that runs on the device, compiled for the host). The library is built
once per front end and emitter version into a cache folder (``$KWS_CACHE/native`` or
``.cache/kws/native`` in the repository), or loaded from a given ``.so`` path (for instance the
one ``kws export --target host`` writes).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np

from kws.config import FrontendConfig, n_frames
from kws.errors import BuildError
from kws.frontend.pipeline import DEFAULT_CONFIG, check_pcm
from kws.frontend.tables import tables

_REPO = Path(__file__).resolve().parents[2]

# The cached library only ever runs on the machine that built it, so it may use that machine's
# whole instruction set (the exported Makefile keeps portable flags).
NATIVE_OPTIMIZE = "-O3"
NATIVE_FLAGS = ("-march=native",)


def default_cache_dir() -> Path:
    """``$KWS_CACHE/native``, else ``<repo>/.cache/kws/native`` (``~/.cache/kws/native`` if installed)."""
    env = os.environ.get("KWS_CACHE")
    if env:
        return Path(env) / "native"
    root = _REPO if (_REPO / "pyproject.toml").is_file() else Path.home()
    return root / ".cache" / "kws" / "native"


def build_library(config: FrontendConfig = DEFAULT_CONFIG, cache_dir: str | Path | None = None) -> Path:
    """Path of the cached shared library for ``config``, compiling it first if needed.

    The file name holds the front-end hash and a hash of the emitted sources, so a changed
    emitter or header never reuses a stale build. Written to a temporary name, then renamed
    (safe when several processes build at once). Raises :class:`BuildError` without gcc.
    """
    from kws.firmware_export.frontend_c import emitter_hash
    from kws.firmware_export.hostbuild import compile_host, write_frontend_sources

    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    flags_tag = hashlib.sha256(" ".join((NATIVE_OPTIMIZE, *NATIVE_FLAGS)).encode()).hexdigest()[:6]
    target = folder / f"kws_frontend-{config.config_hash()}-{emitter_hash(config)}-{flags_tag}.so"
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".build-") as work:
        sources = [p for p in write_frontend_sources(config, work) if p.suffix == ".c"]
        built = compile_host(sources, Path(work) / target.name, shared=True, optimize=NATIVE_OPTIMIZE,
                             extra_flags=NATIVE_FLAGS)
        os.replace(built, target)
    return target


class NativeFrontend:
    """The generated C front end on the host.

    Parameters
    ----------
    config : FrontendConfig
    library : path of a built front-end ``.so`` to load instead of building one; it must have
        been generated for ``config`` (checked through its ``kws_frontend_config_hash``).
    cache_dir : where built libraries are kept (default :func:`default_cache_dir`).
    """

    def __init__(self, config: FrontendConfig = DEFAULT_CONFIG, *, library: str | Path | None = None,
                 cache_dir: str | Path | None = None):
        tables(config)
        self.config = config
        self.path = Path(library) if library is not None else build_library(config, cache_dir)
        try:
            self._lib = ctypes.CDLL(str(self.path))
            symbol = ctypes.c_char.in_dll(self._lib, "kws_frontend_config_hash")  # a char array
        except (OSError, ValueError) as exc:
            raise BuildError(f"{self.path}: cannot load the native front end: {exc}") from exc
        built_for = ctypes.string_at(ctypes.addressof(symbol)).decode(errors="replace")
        if built_for != config.config_hash():
            raise BuildError(f"{self.path}: built for front end {built_for}, not {config.config_hash()}")
        batch = self._lib.kws_frontend_features_batch
        batch.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.c_void_p, ctypes.c_int32]
        batch.restype = ctypes.c_int32
        self._batch = batch

    def features(self, pcm: np.ndarray) -> np.ndarray:
        """int8 features of a whole clip, as :func:`kws.frontend.compute_features`.

        Parameters
        ----------
        pcm : np.ndarray [shape=(n,), int16]

        Returns
        -------
        np.ndarray [shape=(frames, n_mfcc), int8]
        """
        pcm = np.ascontiguousarray(check_pcm(pcm))
        if pcm.size >= 2**31:
            raise BuildError(f"clip of {pcm.size} samples is too long for the native front end (int32 lengths)")
        frames = n_frames(self.config, pcm.size)
        out = np.empty((frames, self.config.n_mfcc), np.int8)
        got = self._batch(pcm.ctypes.data if pcm.size else None, pcm.size,
                          out.ctypes.data if frames else None, frames)
        if got != frames:
            raise BuildError(f"{self.path}: kws_frontend_features_batch returned {got}, expected {frames}")
        return out

    def features_many(self, clips: list[np.ndarray]) -> list[np.ndarray]:
        """int8 features of each clip: a list of [shape=(frames_i, n_mfcc), int8] arrays."""
        return [self.features(check_pcm(pcm, f"clip {i}")) for i, pcm in enumerate(clips)]


class NativeStreamingFrontend:
    """Streaming wrapper of :class:`NativeFrontend` with the interface of :class:`kws.frontend.Frontend`.

    ``process`` returns exactly the frames the integer reference ``Frontend.process`` returns for
    the same chunks (the native batch function computes the same frames; the samples of an
    incomplete frame are kept for the next chunk).
    """

    def __init__(self, config: FrontendConfig = DEFAULT_CONFIG, **kwargs):
        self.native = NativeFrontend(config, **kwargs)
        self.config = config
        self.reset()

    def reset(self) -> None:
        self._pending = np.zeros(0, dtype=np.int16)

    def process(self, pcm_chunk: np.ndarray) -> np.ndarray:
        chunk = check_pcm(pcm_chunk, "audio chunk")
        buffer = np.concatenate([self._pending, chunk]) if self._pending.size else chunk
        features = self.native.features(buffer)
        self._pending = buffer[len(features) * self.config.hop_samples:].copy()
        return features


def streaming_frontend(config: FrontendConfig = DEFAULT_CONFIG, *, native: bool = True):
    """The fastest bit-exact streaming front end available: native C if it builds, else the reference.

    Returns ``(frontend, note)`` where ``note`` says which one and, if native failed, why.
    """
    from kws.frontend.pipeline import Frontend

    if native:
        try:
            return NativeStreamingFrontend(config), "native C front end"
        except (BuildError, OSError) as exc:
            return Frontend(config), f"integer reference front end (native C unavailable: {exc})"
    return Frontend(config), "integer reference front end"
