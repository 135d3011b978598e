"""Start a model from the weights of another run (transfer learning).

A wake phrase has no real recordings, only synthetic voices; a model trained on real speakers (e.g. the
``commands`` run) has already learnt features that hold for human voices. Every layer whose name and
weight shapes match starts from that run's float weights; the classifier, whose class count differs,
starts fresh.
"""

from __future__ import annotations

import json
from pathlib import Path

from kws.config import FrontendConfig
from kws.datasets.paths import data_root
from kws.errors import ConfigError

SOURCE_MODEL_FILE = "model.keras"


def recordings_of_phrase(run_dir: str | Path, phrase_names: tuple[str, ...]) -> list[Path]:
    """Folders of real recordings of the phrase among the real data the run trained on.

    A run's real folders (``real_data`` and ``extra_real`` of its ``train_config.json``) hold one folder per
    word; a word that is not a keyword of that run was learnt as ``_unknown_``. Speech Commands keeps its
    unknown words together in ``_unknown_/<word>_<speaker>_nohash_<n>.wav``, so those files count too.
    """
    config_path = Path(run_dir) / "train_config.json"
    if not config_path.is_file():
        return []
    saved = json.loads(config_path.read_text())
    if not saved.get("use_real", True):
        return []
    folders = [saved.get("real_data", "")] + list(saved.get("extra_real", []))
    found = []
    for name in filter(None, folders):
        folder = Path(name) if Path(name).is_absolute() else data_root() / name
        for word in phrase_names:
            if (folder / word).is_dir():
                found.append(folder / word)
            elif any((folder / "_unknown_").glob(f"{word}_*")):
                found.append(folder / "_unknown_" / f"{word}_*")
    return found


def check_init_run(run_dir: str | Path, frontend: FrontendConfig, *, where: str,
                   phrase_names: tuple[str, ...] = ()) -> Path:
    """The source run's ``model.keras``; refuses a missing run, one made for another front end, and one
    that trained on real recordings of the phrase (``phrase_names``): it learnt them as ``_unknown_``, and
    a wake word measured on those voices would be measured on what its start has heard."""
    run_dir = Path(run_dir)
    model_path = run_dir / SOURCE_MODEL_FILE
    if run_dir.is_file():
        raise ConfigError(f"{where}: {run_dir} is a file; init_from takes a run folder holding {SOURCE_MODEL_FILE}")
    if not model_path.is_file():
        raise ConfigError(f"{where}: {run_dir} has no {SOURCE_MODEL_FILE}; init_from takes a `kws train` run folder, "
                          f"e.g. made by `kws train --config training/configs/commands.toml --all-speakers "
                          f"--out {run_dir}`")
    config_path = run_dir / "config.json"
    if config_path.is_file():
        saved = json.loads(config_path.read_text()).get("frontend", {})
        mine = frontend.to_dict()
        # the window length may differ (the body is convolutional); everything else must be equal
        different = sorted(k for k in mine if k != "clip_duration_ms" and saved.get(k) != mine[k])
        if different:
            raise ConfigError(f"{where}: {run_dir} was trained with another front end ({', '.join(different)} differ)")
    seen = recordings_of_phrase(run_dir, phrase_names)
    if seen:
        raise ConfigError(f"{where}: {run_dir} trained on real recordings of the phrase ({', '.join(map(str, seen))}); "
                          f"start from a run trained without them, e.g. `kws train --config "
                          f"training/configs/wakeword_init.toml --all-speakers --out runs/wakeword_init`")
    return model_path


def transfer_weights(model, model_path: Path) -> list[str]:
    """Copy into ``model`` every layer of the saved model with the same name and weight shapes.

    Returns the names of the layers copied; raises ``ConfigError`` if none matched (another architecture).
    """
    import keras

    source = {layer.name: layer for layer in keras.models.load_model(model_path, compile=False).layers}
    copied = []
    for layer in model.layers:
        other = source.get(layer.name)
        weights = layer.get_weights()
        if other is None or not weights:
            continue
        theirs = other.get_weights()
        if [w.shape for w in theirs] == [w.shape for w in weights]:
            layer.set_weights(theirs)
            copied.append(layer.name)
    if not copied:
        raise ConfigError(f"init_from {model_path.parent}: no layer matches this architecture")
    return copied
