"""``kws train``: train a keyword model from a TOML config into a run folder (needs the `train` extra)."""

from __future__ import annotations

import argparse

from kws.errors import KwsError


def run(args: argparse.Namespace) -> int:
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ start-up chatter out of the log
    try:
        from kws.training.config import TrainConfig, load_train_config
        from kws.training.train import run_training
    except ImportError as exc:
        raise KwsError(f"training needs TensorFlow: pip install -e '.[train]' ({exc})") from exc
    import dataclasses

    config = load_train_config(args.config) if args.config else TrainConfig()
    overrides = {k: v for k, v in (("epochs", args.epochs), ("strategy", args.strategy), ("seed", args.seed),
                                   ("all_speakers", True if args.all_speakers else None)) if v is not None}
    if overrides:
        config = dataclasses.replace(config, **overrides)
    if args.learning_curve:
        from kws.training.learning_curve import run_learning_curve

        if args.cv is None:
            raise KwsError("--learning-curve needs --cv K (every point is a K-fold cross-validation)")
        only = _fold_list(args.cv_folds) if args.cv_folds else None
        run_learning_curve(config, args.out, args.cv, resume=args.resume, only_folds=only)
        print(f"learning curve: {args.out}/learning_curve.png, learning_curve.json")
        return 0
    if args.cv is not None:
        from kws.training.cv import run_cross_validation

        only = _fold_list(args.cv_folds) if args.cv_folds else None
        summary = run_cross_validation(config, args.out, args.cv, force=args.force, resume=args.resume,
                                       only_folds=only)
        print(f"cross-validation folder: {args.out} (cv.md, cv.json, cv_accuracy.png)")
        print(f"int8 accuracy over {len(summary['folds_run'])} of {args.cv} speaker folds: {summary['int8_accuracy']['mean']:.4f} "
              f"± {summary['int8_accuracy']['std']:.4f}")
        return 0
    metrics = run_training(config, args.out, force=args.force, resume=args.resume)
    print(f"run folder: {args.out}")
    print(f"validation accuracy: float {metrics['float_val_accuracy']:.4f}, int8 {metrics['int8_val_accuracy']:.4f} "
          f"({metrics['n_validation']} clips); int8 weights {metrics['int8_weight_bytes']} bytes; "
          f"trained in {metrics['train_seconds'] / 60:.1f} min")
    return 0


def _fold_list(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise KwsError(f"--cv-folds {text!r}: expected fold numbers separated by commas, e.g. 0,1") from None


def register(subparsers) -> None:
    parser = subparsers.add_parser("train", help="train a keyword model (TensorFlow) into a run folder",
                                   description="Train, quantise to int8 and evaluate a keyword model.")
    parser.add_argument("--config", help="TOML file of TrainConfig settings (default: all defaults)")
    parser.add_argument("--out", required=True, help="run folder to write")
    parser.add_argument("--force", action="store_true", help="overwrite an existing run folder")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted run from its last epoch")
    parser.add_argument("--cv", type=int, metavar="K",
                        help="k-fold speaker cross-validation: train K runs (OUT/fold0..), write OUT/cv.md + cv.json")
    parser.add_argument("--cv-folds", metavar="I,J",
                        help="with --cv K: run only these folds (a paired screening against the same folds "
                             "of another recipe; with --learning-curve, every point on these folds)")
    parser.add_argument("--learning-curve", action="store_true",
                        help="with --cv K: cross-validate the recipe at 25/50/75/100 %% of the real speakers and "
                             "0/0.5/1/2x the synthetic speech; writes OUT/learning_curve.png")
    parser.add_argument("--all-speakers", action="store_true",
                        help="train on every real speaker (the final model once the recipe is chosen by --cv)")
    parser.add_argument("--epochs", type=int, help="override the config's epochs")
    parser.add_argument("--seed", type=int, help="override the config's seed")
    parser.add_argument("--strategy", choices=["none", "mirrored", "multiworker"],
                        help="tf.distribute strategy (mirrored: several GPUs; multiworker: $TF_CONFIG cluster)")
    parser.set_defaults(func=run)
