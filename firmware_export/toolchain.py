"""The tools an export needs — make, gcc, arm-none-eabi-gcc/size/objdump, qemu-system-arm — found
on PATH, with the Debian package to install named when one is missing, and the way to run them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Sequence

from kws.firmware_export.errors import ExportError

#: Tool -> the Debian/Ubuntu package that provides it.
APT_PACKAGES = {
    "make": "make",
    "gcc": "gcc",
    "arm-none-eabi-gcc": "gcc-arm-none-eabi (and libnewlib-arm-none-eabi for its C library)",
    "arm-none-eabi-size": "binutils-arm-none-eabi (comes with gcc-arm-none-eabi)",
    "arm-none-eabi-objdump": "binutils-arm-none-eabi (comes with gcc-arm-none-eabi)",
    "qemu-system-arm": "qemu-system-arm",
}

HOST_TOOLS = ("make", "gcc")
CORTEX_M4_TOOLS = ("make", "arm-none-eabi-gcc", "arm-none-eabi-size", "arm-none-eabi-objdump")
QEMU_TOOLS = ("qemu-system-arm",)

QEMU_COMMAND = ("qemu-system-arm", "-machine", "mps2-an386", "-cpu", "cortex-m4", "-nographic", "-monitor", "none",
                "-serial", "none", "-semihosting-config", "enable=on,target=native", "-icount", "shift=0")


def missing_tools(tools: Sequence[str]) -> list[str]:
    """The tools of ``tools`` that are not on PATH."""
    return [tool for tool in tools if shutil.which(tool) is None]


def require_tools(tools: Sequence[str], purpose: str) -> None:
    """Raise :class:`ExportError` naming each missing tool and its apt package."""
    missing = missing_tools(tools)
    if missing:
        hints = "; ".join(f"{tool}: apt-get install {APT_PACKAGES.get(tool, tool)}" for tool in missing)
        raise ExportError(f"{purpose} needs {', '.join(missing)} ({hints})")


def run(command: Sequence[str], *, cwd: Path, what: str, timeout_s: float = 1800,
        stdout_path: Path | None = None) -> str:
    """Run a command; return its stdout, or raise :class:`ExportError` with the end of its output."""
    try:
        if stdout_path is not None:
            with open(stdout_path, "wb") as out:
                done = subprocess.run(list(command), cwd=cwd, stdout=out, stderr=subprocess.PIPE, timeout=timeout_s)
            stdout = ""
        else:
            done = subprocess.run(list(command), cwd=cwd, capture_output=True, timeout=timeout_s)
            stdout = done.stdout.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        raise ExportError(f"{what}: no result after {timeout_s:.0f} s ({' '.join(command)})") from None
    if done.returncode != 0:
        tail = (done.stderr.decode("utf-8", "replace") + ("" if stdout_path else stdout))[-4000:]
        raise ExportError(f"{what} failed (exit {done.returncode}): {' '.join(command)}\n{tail}")
    return stdout


def make(target: str, *, cwd: Path) -> None:
    """``make -C cwd target`` (the export's own Makefile: one place for the compiler flags)."""
    run(["make", "--no-print-directory", "-s", target], cwd=cwd, what=f"make {target}")


def qemu_command(elf: Path, arguments: Sequence[str]) -> list[str]:
    """The QEMU command line that runs a harness image with semihosting arguments."""
    return [*QEMU_COMMAND, "-kernel", str(elf), "-append", " ".join(arguments)]
