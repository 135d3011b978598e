"""``kws export WAKE --then COMMAND``: the shipped `computer` gating the shipped `commands` in one C
build, checked bit for bit against kws.two_stage on the host, under sanitizers and on the Cortex-M4."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kws.detector import model_detector_config
from kws.errors import ModelError
from kws.firmware_export import toolchain
from kws.firmware_export.errors import ExportError
from kws.firmware_export.sources import export_files
from kws.firmware_export.two_stage import (COMMAND_STAGE_FILES, command_stage_files, compare_lines,
                                           export_two_stage, shared_identifiers)
from kws.model import KwsModel

REPO = Path(__file__).resolve().parents[1]
HAVE_M4 = not toolchain.missing_tools(toolchain.CORTEX_M4_TOOLS + toolchain.QEMU_TOOLS)


@pytest.fixture(scope="module")
def two_stage(tmp_path_factory):
    out = tmp_path_factory.mktemp("two_stage") / "computer_commands_c"
    report = export_two_stage("computer", "commands", out, target="all" if HAVE_M4 else "host")
    return out, report


def test_command_stage_names_cannot_collide_with_the_wake_stage():
    model = KwsModel.load("commands")
    files, _ = export_files(model, model_detector_config(model.source))
    shared = shared_identifiers(files)
    assert "kws_frontend_process" in shared and "KWS_OK" in shared  # one front end, one set of status codes
    assert not {"kws_init", "kws_model_invoke", "KWS_N_CLASSES", "KWS_N_MFCC"} & shared  # per-model names
    stage = command_stage_files(files)
    assert set(stage) == set(COMMAND_STAGE_FILES.values())
    for name, text in stage.items():
        code = "\n".join(line for line in text.splitlines() if not re.match(r"\s*#\s*include", line))
        for identifier in set(re.findall(r"\b(?:kws|KWS)_\w+", code)):
            assert identifier in shared or identifier.lower().startswith("kws_cmd_"), (name, identifier)
        for included in re.findall(r'#\s*include\s+"([^"]+)"', text):
            assert included in stage or included in files, (name, included)
    assert "#define KWS_CMD_CONTEXT_WITHOUT_FRONTEND 1" in stage["kws_cmd_config.h"]


def test_two_stage_build_equals_python_on_every_target(two_stage):
    out, report = two_stage
    expected = (out / "check" / "expected_two_stage.txt").read_text().splitlines()
    events = [line for line in expected if line[0] in "WE"]
    # the bundled recording says "computer" twice, each followed by a command ("on", then "stop"): both kinds of
    # event (wake word alone, wake word + command) must be exercised; which of them the shipped model catches
    # is the model's business (tests/test_listen.py)
    commands = KwsModel.load("commands").labels
    kinds = [line.split()[0] for line in events]
    assert "W" in kinds and "E" in kinds and kinds[0] == "W"
    assert set(commands[int(line.split()[3])] for line in events if line[0] == "E") <= {"on", "stop"}
    assert sum(line[0] == "A" for line in expected) > 90 and sum(line[0] == "B" for line in expected) > 90
    targets = {"host", "host asan+ubsan, 7-sample calls"} | ({"cortex-m4 qemu"} if HAVE_M4 else set())
    assert set(report["verified"]) == targets
    assert json.loads((out / "two_stage_report.json").read_text())["check_events"] == len(events)


def test_make_check_two_stage_passes_and_catches_a_changed_score(two_stage, tmp_path):
    out, _ = two_stage
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    done = subprocess.run(["make", "-s", "check-two-stage"], cwd=copy, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    expected = copy / "check" / "expected_two_stage.txt"
    lines = expected.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("B "))
    fields = lines[index].split()
    fields[-1] = str(int(fields[-1]) + 1)
    lines[index] = " ".join(fields)
    expected.write_text("\n".join(lines) + "\n")
    done = subprocess.run(["make", "-s", "check-two-stage"], cwd=copy, capture_output=True, text=True)
    assert done.returncode != 0


@pytest.mark.skipif(not HAVE_M4, reason="arm-none-eabi-gcc / qemu-system-arm not installed")
def test_two_stage_cortex_m4_figures(two_stage):
    _, report = two_stage
    m4 = report["cortex_m4"]
    # two ~20 KB models, one front end: more flash than one model's 32 KB budget, RAM within 12 KB
    assert 40_000 < m4["flash_bytes"] < 64 * 1024
    assert m4["ram_bytes"] <= 12 * 1024
    assert 0 < m4["instructions_per_second_of_audio"] < 20_000_000


def test_compare_lines_names_the_first_difference():
    compare_lines("host", ["A 1 0 5"], ["A 1 0 5"])
    with pytest.raises(ExportError, match="line 2 differs"):
        compare_lines("host", ["A 1 0 5", "B 1 2 3"], ["A 1 0 5", "B 1 2 4"])
    with pytest.raises(ExportError, match="C printed 1 lines, Python 2"):
        compare_lines("host", ["A 1 0 5"], ["A 1 0 5", "B 1 2 3"])


def test_refusals_leave_nothing(tmp_path, model_with_other_frontend):
    with pytest.raises(ExportError, match="listen-s"):
        export_two_stage("computer", "commands", tmp_path / "a", listen_s=0)
    with pytest.raises(ExportError, match="then-threshold"):
        export_two_stage("computer", "commands", tmp_path / "b", then_probability=1.5)
    with pytest.raises(ModelError, match="front-end mismatch"):
        export_two_stage("computer", model_with_other_frontend, tmp_path / "c")
    assert not any((tmp_path / name).exists() for name in "abc")


def test_cli_two_stage_export(tmp_path):
    out = tmp_path / "ts"
    done = subprocess.run([sys.executable, "-m", "kws.cli", "export", "computer", "--then", "commands", "--out", str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "computer gates commands for 3 s" in done.stdout and "0 mismatches" in done.stdout
    assert (out / "kws_two_stage.h").is_file() and (out / "kws_cmd_model.c").is_file()
    done = subprocess.run([sys.executable, "-m", "kws.cli", "export", "computer", "--then", "commands", "--out",
                           str(tmp_path / "x"), "--clips", "5"], capture_output=True, text=True)
    assert done.returncode != 0 and "--clips" in done.stderr and not (tmp_path / "x").exists()


def test_two_stage_c_api_checks_its_arguments(two_stage, tmp_path):
    out, _ = two_stage
    (tmp_path / "api_test.c").write_text(r'''
#include <stdio.h>
#include <string.h>
#include "kws_two_stage.h"
static kws_two_stage ts, never_initialised;
int main(void) {
    int16_t pcm[400];
    memset(pcm, 0, sizeof pcm);
    if (kws_two_stage_init(NULL) != KWS_ERR_NULL) return 1;
    if (kws_two_stage_process(&never_initialised, pcm, 400) != KWS_ERR_STATE) return 2;
    if (kws_two_stage_init(&ts) != KWS_OK) return 3;
    if (kws_two_stage_process(NULL, pcm, 400) != KWS_ERR_NULL) return 4;
    if (kws_two_stage_process(&ts, NULL, 5) != KWS_ERR_NULL) return 5;
    if (kws_two_stage_process(&ts, pcm, -1) != KWS_ERR_LENGTH) return 6;
    if (kws_two_stage_process(&ts, NULL, 0) != 0) return 7;
    for (int i = 0; i < 100; ++i) if (kws_two_stage_process(&ts, pcm, 400) != 0) return 8; /* 2.5 s of silence */
    if (kws_two_stage_listening(&ts) != 0 || kws_two_stage_listening(NULL) != KWS_ERR_NULL) return 9;
    if (kws_scored_frame(&ts.wake) < 0 || kws_cmd_scored_frame(&ts.command) != kws_scored_frame(&ts.wake)) return 10;
    puts("OK");
    return 0;
}
''')
    names = ("kws.c", "kws_frontend.c", "kws_model.c", "kws_kernels.c", "kws_detector.c", "kws_cmd.c",
             "kws_cmd_model.c", "kws_cmd_detector.c", "kws_two_stage.c")
    exe = tmp_path / "api_test"
    build = subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-O1", "-fsanitize=address,undefined",
                            "-fno-sanitize-recover=all", f"-I{out}", str(tmp_path / "api_test.c"),
                            *(str(out / n) for n in names), "-o", str(exe)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    done = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "OK" in done.stdout, (done.returncode, done.stdout + done.stderr)
