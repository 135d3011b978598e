"""``kws data``: look at datasets (label folders or manifests) before training on them."""

from __future__ import annotations

import argparse
from pathlib import Path

from kws.errors import DataError


def _load_records(sources: list[str]):
    from kws.datasets.folders import load_label_folders
    from kws.datasets.manifest import read_manifest

    records, bad = [], []
    for source in sources:
        path = Path(source)
        if path.is_file():
            records += read_manifest(path)
        elif path.is_dir():
            load = load_label_folders(path)
            records += load.records
            bad += [f"{b.path}: {b.reason}" for b in load.bad_files]
        else:
            raise DataError(f"{source}: neither a label folder nor a manifest file")
    return records, bad


def summary(args: argparse.Namespace) -> int:
    from kws.datasets.summary import plot_class_balance, summarise

    records, bad = _load_records(args.sources)
    result = summarise(records)
    print(result.table())
    for problem in bad + result.unreadable:
        print(f"skipped: {problem}")
    if args.png:
        plot_class_balance(result, args.png, title=", ".join(Path(s).name for s in args.sources))
        print(f"wrote {args.png}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("data", help="summarise datasets (counts, speakers, duration)",
                                   description="Inspect datasets: <label>/* folders or .jsonl manifests.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    summary_parser = actions.add_parser("summary", help="counts per label and source, speakers, duration")
    summary_parser.add_argument("sources", nargs="+", help="label folders and/or manifest.jsonl files")
    summary_parser.add_argument("--png", help="write a class-balance bar chart here")
    summary_parser.set_defaults(func=summary)
