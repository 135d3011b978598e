"""Figures of an export measured on the Cortex-M4 build: flash, RAM, stack, instructions.

* flash / RAM: ``arm-none-eabi-size`` of a firmware image that links kws, minus the same image
  without kws (same startup and C library). Flash = text + data, RAM = data + bss.
* stack: the harness paints the stack before each kws call and scans it after (``K`` lines).
* instructions: QEMU runs with ``-icount shift=0``, so virtual time advances 1 ns per
  instruction and each SysTick tick is a fixed number of instructions; the harness times a
  loop of known length (``C`` line) to measure that factor instead of assuming it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from kws.firmware_export.errors import ExportError
from kws.firmware_export.toolchain import qemu_command, run


@dataclasses.dataclass(frozen=True)
class ImageSize:
    text: int
    data: int
    bss: int

    @property
    def flash_bytes(self) -> int:
        return self.text + self.data

    @property
    def ram_bytes(self) -> int:
        return self.data + self.bss


def image_size(elf: Path) -> ImageSize:
    """Section sizes of a linked image (Berkeley format of ``arm-none-eabi-size``)."""
    out = run(["arm-none-eabi-size", "-B", str(elf)], cwd=elf.parent, what="arm-none-eabi-size")
    fields = out.strip().splitlines()[-1].split()
    return ImageSize(text=int(fields[0]), data=int(fields[1]), bss=int(fields[2]))




@dataclasses.dataclass(frozen=True)
class CortexM4Counts:
    """Parsed ``--count`` output of one harness run."""

    ticks: int
    units: int
    stack_bytes: int
    calibration_ticks: int
    calibration_instructions: int

    @property
    def instructions_per_tick(self) -> float:
        return self.calibration_instructions / self.calibration_ticks

    @property
    def instructions(self) -> float:
        return self.ticks * self.instructions_per_tick

    @property
    def instructions_per_unit(self) -> float:
        return self.instructions / self.units if self.units else 0.0


def parse_counts(output: str, what: str) -> CortexM4Counts:
    """Read the ``C``, ``T <what>`` and ``K <what>`` lines of a harness run with ``--count``."""
    calibration = ticks = stack = None
    for line in output.splitlines():
        parts = line.split()
        if parts[:1] == ["C"] and len(parts) == 3:
            calibration = (int(parts[1]), int(parts[2]))
        elif parts[:2] == ["T", what] and len(parts) == 4:
            ticks = (int(parts[2]), int(parts[3]))
        elif parts[:2] == ["K", what] and len(parts) == 3:
            stack = int(parts[2])
    if calibration is None or ticks is None or stack is None:
        raise ExportError(f"the Cortex-M4 harness printed no instruction counts for {what}")
    if calibration[0] <= 0:
        raise ExportError("SysTick did not advance during the calibration loop: is QEMU run with -icount?")
    return CortexM4Counts(ticks=ticks[0], units=ticks[1], stack_bytes=stack, calibration_ticks=calibration[0],
                          calibration_instructions=calibration[1])


def count_on_m4(export_dir: Path, mode: str, input_name: str, what: str, extra: tuple[str, ...] = ()) -> CortexM4Counts:
    """Run the M4 harness with ``--count`` on a file inside the export folder."""
    elf = export_dir / "build" / "kws_main_m4.elf"
    out = run(qemu_command(elf, [mode, "--count", *extra, input_name]), cwd=export_dir,
              what=f"QEMU Cortex-M4 {mode} run", timeout_s=1800)
    return parse_counts(out, what)


def ram_parts(export_dir: Path) -> dict[str, int]:
    """``sizeof`` of the context and its parts on the Cortex-M4 (the harness's ``sizes`` mode)."""
    elf = export_dir / "build" / "kws_main_m4.elf"
    out = run(qemu_command(elf, ["sizes"]), cwd=export_dir, what="QEMU Cortex-M4 sizes")
    return {parts[1]: int(parts[2]) for parts in (line.split() for line in out.splitlines())
            if len(parts) == 3 and parts[0] == "Z"}
