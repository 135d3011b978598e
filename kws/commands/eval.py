"""``kws eval``: accuracy of an int8 model on a ``<label>/*`` folder, computed the device's way."""

from __future__ import annotations

import argparse
import time


def run(args: argparse.Namespace) -> int:
    from kws.errors import ConfigError
    from kws.evaluation import evaluate_folder, plot_confusion, write_eval_json
    from kws.model import KwsModel

    if args.limit is not None and args.limit < 1:
        raise ConfigError(f"--limit {args.limit}: must be >= 1")
    model = KwsModel.load(args.model)
    if args.min_keyword_probability is not None:
        if not 0.0 <= args.min_keyword_probability < 1.0:
            raise ConfigError(f"--min-keyword-probability {args.min_keyword_probability}: must be in [0, 1)")
        model.min_keyword_probability = args.min_keyword_probability
    rule = (f"keywords below probability {model.min_keyword_probability:g} are decided as _silence_/_unknown_"
            if model.min_keyword_probability > 0 else "top label (argmax)")
    print(f"model {model.source}: {model.architecture}, {model.n_classes} labels, "
          f"{model.info.weight_bytes} weight bytes, front end {model.frontend.config_hash()}; decision: {rule}")
    start = time.perf_counter()
    result = evaluate_folder(model, args.data, limit=args.limit)
    total_s = time.perf_counter() - start
    print(result.report())
    print(f"speed: {result.n} clips in {result.seconds:.2f} s = {result.clips_per_s:.1f} clips/s "
          f"(front end + int8 model, TFLite Micro reference kernels); "
          f"{result.n / total_s if total_s > 0 else 0.0:.1f} clips/s with decoding")
    if args.json:
        write_eval_json(result, args.json)
        print(f"wrote {args.json}")
    if args.plot:
        plot_confusion(result, args.plot, title=f"{model.architecture}: accuracy {result.accuracy:.3f} "
                                                f"on {result.n} clips")
        print(f"wrote {args.plot}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "eval", help="accuracy of an int8 model on a <label>/* folder",
        description="Evaluate an int8 model on labelled audio (<DIR>/<label>/*.wav|flac|ogg) through the "
                    "fixed-point front end and the TFLite Micro kernels. Folders that are not model labels "
                    "and unreadable files are reported and skipped.")
    parser.add_argument("model", metavar="MODEL", help="run folder, .tflite file (config.json beside it) "
                                                       "or shipped model name")
    parser.add_argument("--data", required=True, metavar="DIR", help="folder of <label>/ sub-folders of clips")
    parser.add_argument("--json", metavar="OUT", help="write accuracy, per-class metrics and confusion as JSON")
    parser.add_argument("--plot", metavar="OUT.png", help="write the confusion matrix as a PNG")
    parser.add_argument("--limit", type=int, default=None, metavar="N",
                        help="evaluate at most N clips, evenly spread over the files")
    parser.add_argument("--min-keyword-probability", type=float, default=None, metavar="P",
                        help="decide a clip whose top keyword is less likely than P as _silence_/_unknown_ "
                             "(default: the model's config.json value; 0 = plain argmax)")
    parser.set_defaults(func=run)
