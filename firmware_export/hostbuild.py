"""Build and run generated C on the host with gcc: the helpers the parity tests and the native
front end share.

``compile_host`` compiles with the project's warning flags (C99, ``-Wall -Wextra -Werror``),
optionally with AddressSanitizer + UBSan (aborting on the first report) or as a shared library.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterable, Sequence

from kws.config import FrontendConfig
from kws.errors import BuildError

C_DIR = Path(__file__).resolve().parent / "c"
WARNINGS = ("-std=c99", "-Wall", "-Wextra", "-Werror")
SANITIZE = ("-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer", "-g")


def find_compiler(name: str = "gcc") -> str:
    """Path of the C compiler ``name`` (``$CC`` overrides gcc); :class:`BuildError` if missing."""
    wanted = os.environ.get("CC", name) if name == "gcc" else name
    path = shutil.which(wanted)
    if path is None:
        raise BuildError(f"C compiler '{wanted}' not found on PATH: install it "
                         f"(Debian/Ubuntu: sudo apt-get install gcc) or set CC")
    return path


def compile_host(sources: Iterable[str | Path], out: str | Path, *, sanitize: bool = False, shared: bool = False,
                 include_dirs: Sequence[str | Path] = (), optimize: str = "-O2", defines: Sequence[str] = (),
                 extra_flags: Sequence[str] = ()) -> Path:
    """Compile C ``sources`` into the executable (or ``shared`` library) ``out``; returns ``out``.

    The folders of the sources and :data:`C_DIR` are on the include path; ``defines`` are
    ``NAME`` or ``NAME=VALUE``. Raises :class:`BuildError` with the compiler's output when the
    build fails.
    """
    sources = [Path(s) for s in sources]
    out = Path(out)
    includes = list(dict.fromkeys([*(Path(d) for d in include_dirs), *(s.parent for s in sources), C_DIR]))
    command = [find_compiler(), *WARNINGS, optimize]
    if sanitize:
        command += SANITIZE
    if shared:
        command += ["-shared", "-fPIC"]
    command += [f"-D{d}" for d in defines] + [f"-I{d}" for d in includes] + list(extra_flags) + [str(s) for s in sources] + ["-o", str(out)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise BuildError(f"{out.name}: C build failed:\n{' '.join(command)}\n{result.stdout}{result.stderr}")
    return out


def run_host(binary: str | Path, args: Sequence[str | Path] = (), *, timeout_s: float = 120.0,
             check: bool = True) -> subprocess.CompletedProcess:
    """Run a host binary; with ``check``, raise :class:`BuildError` with its stderr if it fails."""
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0:abort_on_error=0",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    result = subprocess.run([str(binary), *map(str, args)], capture_output=True, text=True, timeout=timeout_s,
                            env=env)
    if check and result.returncode != 0:
        raise BuildError(f"{Path(binary).name} {' '.join(map(str, args))}: exit {result.returncode}\n"
                         f"{result.stdout[-4000:]}{result.stderr[-4000:]}")
    return result


def config_header(config: FrontendConfig, extra: dict[str, int] | None = None) -> str:
    """A ``kws_config.h`` body as the integrator writes it: ``define_block`` of the constants."""
    from kws.firmware_export.cgen import define_block
    from kws.firmware_export.frontend_c import frontend_constants

    body = define_block(f"front end {config.config_hash()}", frontend_constants(config))
    if extra:
        body += define_block("model", extra)
    return f"#ifndef KWS_CONFIG_H\n#define KWS_CONFIG_H\n{body}#endif /* KWS_CONFIG_H */\n"


def write_frontend_sources(config: FrontendConfig, folder: str | Path) -> list[Path]:
    """Write kws_config.h, kws_frontend.{h,c}, kws_fixedpoint.h and kws_status.h into ``folder``."""
    from kws.firmware_export.frontend_c import emit_frontend

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = {"kws_config.h": config_header(config), **emit_frontend(config)}
    for name in ("kws_fixedpoint.h", "kws_status.h"):
        files[name] = (C_DIR / name).read_text()
    paths = []
    for name, body in files.items():
        path = folder / name
        path.write_text(body)
        paths.append(path)
    return paths


def find_cc(name: str = "gcc") -> str | None:
    """Like :func:`find_compiler`, but ``None`` when the compiler is missing (for test skips)."""
    try:
        return find_compiler(name)
    except BuildError:
        return None


def run_program(binary: str | Path, *args: str | Path, timeout: float = 120.0) -> str:
    """Run a host binary and return its stdout (:class:`BuildError` if it fails)."""
    return run_host(binary, args, timeout_s=timeout).stdout
