"""Compile and run small C programs on the host (tests and verification of generated C)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterable, Sequence

#: Warnings every kws C source must compile cleanly with.
STRICT_FLAGS = ("-std=c99", "-Wall", "-Wextra", "-Werror")
SANITIZE_FLAGS = ("-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer")
C_DIR = Path(__file__).resolve().parent / "c"


def find_cc(name: str = "gcc") -> str | None:
    """Path of a C compiler on PATH (``None`` when missing)."""
    return shutil.which(os.environ.get("CC", name) if name == "gcc" else name)


def compile_host(sources: Iterable[str | os.PathLike], out: str | os.PathLike, *, sanitize: bool = False,
                 defines: Sequence[str] = (), include_dirs: Sequence[str | os.PathLike] = (), opt: str = "-O2",
                 cc: str | None = None, extra_flags: Sequence[str] = ()) -> Path:
    """Build an executable with strict warnings; raise ``RuntimeError`` with the compiler output on failure.

    ``defines`` are ``NAME`` or ``NAME=VALUE`` strings; ``sanitize`` adds ASan + UBSan (no recovery).
    """
    compiler = cc or find_cc()
    if compiler is None:
        raise RuntimeError("no C compiler (gcc) on PATH")
    out = Path(out)
    cmd = [compiler, *STRICT_FLAGS, opt, *(SANITIZE_FLAGS if sanitize else ()), *extra_flags,
           *(f"-D{d}" for d in defines), *(f"-I{d}" for d in include_dirs),
           *(str(s) for s in sources), "-o", str(out)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"compile failed: {' '.join(cmd)}\n{result.stdout}{result.stderr}")
    return out


def run_program(exe: str | os.PathLike, *args: str | os.PathLike, timeout: float = 120.0) -> str:
    """Run a built program; return stdout or raise ``RuntimeError`` with its output and exit code."""
    result = subprocess.run([str(exe), *(str(a) for a in args)], capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"{exe} exited with {result.returncode}\n{result.stdout}{result.stderr}")
    return result.stdout


__all__ = ["C_DIR", "SANITIZE_FLAGS", "STRICT_FLAGS", "compile_host", "find_cc", "run_program"]
