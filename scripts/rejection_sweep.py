"""Sweep the clip decision rule's minimum keyword probability over a cross-validation run.

    python scripts/rejection_sweep.py runs/commands_cv [--rescore]

Writes RUN/rejection.json, rejection.md and rejection.png (accuracy against the share of held-out
ambience called a command, one point per threshold) and prints the nested figure (each fold's
threshold chosen on the other folds). ``--rescore`` first re-creates the folds' stored int8 scores
(needed for folds trained before the scores were stored; the held-out sets are rebuilt exactly).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from kws.errors import KwsError
    from kws.training.rejection import rescore_fold, write_rejection_report

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cv_dir", type=Path, help="a `kws train --cv K --out DIR` folder")
    parser.add_argument("--rescore", action="store_true", help="re-create foldK/validation_scores.npz first")
    args = parser.parse_args(argv)
    try:
        if args.rescore:
            folds = sorted(p.parent for p in args.cv_dir.glob("fold*/metrics.json"))
            if not folds:
                raise KwsError(f"{args.cv_dir}: no finished folds (foldK/metrics.json)")
            for fold_dir in folds:
                print(f"rescoring {fold_dir}", flush=True)
                rescore_fold(fold_dir)
        print((args.cv_dir / "rejection.md").read_text() if write_rejection_report(args.cv_dir) else "")
    except KwsError as exc:
        print(f"rejection_sweep: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
