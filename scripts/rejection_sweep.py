"""Sweep the clip decision rule's minimum keyword probability over a cross-validation run.

    python scripts/rejection_sweep.py runs/commands_cv [--rescore]
    python scripts/rejection_sweep.py runs/cv_seed0 runs/cv_seed1 --out runs/rejection_both_seeds

Writes RUN/rejection.json, rejection.md and rejection.png (accuracy against the share of held-out
ambience called a command, one point per threshold) and prints the nested figure (each fold's
threshold chosen on the other folds). Several runs of one recipe (other seeds, same folds) are
swept together into --out; a fold's threshold is never chosen on the same fold of another seed.
``--rescore`` first re-creates the folds' stored int8 scores
(needed for folds trained before the scores were stored; the held-out sets are rebuilt exactly).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from kws.errors import KwsError
    from kws.training.rejection import markdown, rescore_fold, write_rejection_report

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cv_dirs", type=Path, nargs="+", help="`kws train --cv K --out DIR` folders of one recipe")
    parser.add_argument("--out", type=Path, help="folder for the joint report of several runs")
    parser.add_argument("--rescore", action="store_true", help="re-create foldK/validation_scores.npz first")
    args = parser.parse_args(argv)
    try:
        if args.rescore:
            for cv_dir in args.cv_dirs:
                folds = sorted(p.parent for p in cv_dir.glob("fold*/metrics.json"))
                if not folds:
                    raise KwsError(f"{cv_dir}: no finished folds (foldK/metrics.json)")
                for fold_dir in folds:
                    print(f"rescoring {fold_dir}", flush=True)
                    rescore_fold(fold_dir)
        print(markdown(write_rejection_report(args.cv_dirs[0], also=tuple(args.cv_dirs[1:]), out_dir=args.out)))
    except KwsError as exc:
        print(f"rejection_sweep: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
