"""Copy a finished run's deployable files into ``kws/models/<name>/`` (the models shipped in the package).

    python -m kws.training.ship runs/commands commands

Only the int8 model, its ``config.json``, ``metrics.json``, the recipe (``train_config.json`` of
``kws train`` or ``wakeword_config.json`` of ``kws train-wakeword``) and the calibrated
``detector.json`` (when the run has one) travel; the folder must stay within
:data:`MAX_SHIPPED_BYTES`. The copy replaces the old folder as a whole.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from kws.errors import ModelError
from kws.fileio import atomic_dir
from kws.model import KwsModel

SHIPPED_FILES = ("model_int8.tflite", "config.json", "metrics.json")
RECIPE_FILES = ("train_config.json", "wakeword_config.json")
OPTIONAL_FILES = ("detector.json",)
MAX_SHIPPED_BYTES = 100 * 1024
MODELS_DIR = Path(__file__).resolve().parents[1] / "kws" / "models"


def ship(run_dir: Path, name: str, models_dir: Path = MODELS_DIR) -> Path:
    """Validate the run's int8 model (it must load and run) and copy it to ``models_dir/name``."""
    missing = [f for f in SHIPPED_FILES if not (run_dir / f).is_file()]
    recipes = [f for f in RECIPE_FILES if (run_dir / f).is_file()]
    if not recipes:
        missing.append(" or ".join(RECIPE_FILES))
    if missing:
        raise ModelError(f"{run_dir}: not a finished run (missing {', '.join(missing)})")
    KwsModel.load(run_dir)  # refuses front-end mismatches and malformed models
    files = list(SHIPPED_FILES) + recipes + [f for f in OPTIONAL_FILES if (run_dir / f).is_file()]
    size = sum((run_dir / f).stat().st_size for f in files)
    if size > MAX_SHIPPED_BYTES:
        raise ModelError(f"{run_dir}: {size} bytes to ship, over the {MAX_SHIPPED_BYTES}-byte limit")
    target = models_dir / name
    with atomic_dir(target, overwrite=True) as tmp:
        for f in files:
            shutil.copy2(run_dir / f, tmp / f)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description="Ship a run's int8 model inside the kws package.")
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("name")
    args = parser.parse_args()
    target = ship(args.run_dir, args.name)
    print(f"shipped {args.run_dir} as {target} ({sum(p.stat().st_size for p in target.iterdir())} bytes)")


if __name__ == "__main__":
    main()
