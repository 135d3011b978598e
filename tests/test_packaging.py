"""The installed import names cannot collide with other libraries (issue: generic top-level names).

The repository keeps its folders ``datasets/``, ``training/`` and ``firmware_export/`` but they
install as ``kws.datasets``, ``kws.training`` and ``kws.firmware_export``. These tests put a decoy
``datasets`` package (as Hugging Face's would be) first on ``sys.path`` and build the wheel.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

DECOY = "DECOY = 'huggingface datasets stand-in'\nraise_on_folders = True\n"

PROBE = """
import sys
sys.path.insert(0, {decoy!r})  # first on sys.path, ahead of the working directory too
import datasets
assert getattr(datasets, "DECOY", None), "the decoy datasets package was shadowed"
import kws.evaluation, kws.datasets.folders, kws.datasets.synth, kws.firmware_export.cgen
from kws.model import load_model
from kws.evaluation import evaluate_folder
result = evaluate_folder(load_model("commands"), {demo!r})
assert result.n == 12, result.n
assert "datasets" in sys.modules and sys.modules["datasets"].DECOY
print("OK", kws.datasets.folders.__file__, round(result.accuracy, 3))
"""


def _run_probe(tmp_path: Path, extra_path: list[str], cwd: Path) -> str:
    decoy = tmp_path / "decoy"
    (decoy / "datasets").mkdir(parents=True)
    (decoy / "datasets" / "__init__.py").write_text(DECOY)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(extra_path))
    probe = PROBE.format(decoy=str(decoy), demo=str(REPO / "kws" / "data" / "demo"))
    done = subprocess.run([sys.executable, "-c", probe], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_decoy_datasets_package_does_not_break_kws(tmp_path):
    out = _run_probe(tmp_path, [], cwd=tmp_path)
    assert out.startswith("OK")
    # the kws data layer is the repository's folder, imported under its kws name
    assert str(REPO / "datasets" / "folders.py") in out


def test_python_dash_m_pytest_style_path_still_finds_kws_datasets(tmp_path):
    # `python -m pytest` puts the working directory (the repo root) first on sys.path
    out = _run_probe(tmp_path, [str(REPO)], cwd=REPO)
    assert out.startswith("OK")


def test_runtime_does_not_import_the_data_layer():
    code = ("import sys, kws.evaluation, kws.model, kws.frontend, kws.cli, kws.clips; "
            "bad = sorted(m for m in sys.modules if m.startswith(('kws.datasets', 'kws.training', 'tensorflow'))); "
            "print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]


@pytest.mark.slow
def test_wheel_has_one_top_level_name_and_installs(tmp_path):
    wheel_dir = tmp_path / "wheel"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(wheel_dir), str(REPO)], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = wheel_dir.glob("kws-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names}
    assert top == {"kws", wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info"}, top
    for needed in ["kws/datasets/folders.py", "kws/training/models/tc_resnet.py", "kws/training/configs/commands.toml",
                   "kws/firmware_export/cgen.py", "kws/firmware_export/c/kws_fixedpoint.h",
                   "kws/models/commands/model_int8.tflite", "kws/data/demo/yes/26b28ea7_nohash_0.wav"]:
        assert needed in names, needed

    target = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target",
                              str(target), str(wheel)], capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr[-3000:]
    out = _run_probe(tmp_path, [str(target)], cwd=tmp_path)
    assert str(target / "kws" / "datasets" / "folders.py") in out
