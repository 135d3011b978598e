"""The clip decision rule (a minimum keyword probability) and choosing it by cross-validation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from kws.cli import main
from kws.decision import decide, keyword_mask, probability_to_score_int8
from kws.errors import ModelError
from kws.model import KwsModel
from kws.training.config import load_train_config
from kws.training.rejection import sweep
from kws.training.validation import held_out_figures

LABELS = ["_silence_", "_unknown_", "yes", "no"]
IS_KEYWORD = keyword_mask(LABELS)
SHIPPED = Path(__file__).resolve().parents[1] / "kws" / "models" / "commands"
DEMO = Path(__file__).resolve().parents[1] / "kws" / "data" / "demo"


def test_an_unsure_keyword_becomes_the_best_non_keyword_label():
    scores = np.array([[-128, -100, 90, -120],    # sure "yes"
                       [-128, -60, -10, -100],    # "yes" at probability ~0.46 with _unknown_ second
                       [-20, -128, -30, -128],    # _silence_ on top: untouched
                       [-128, -128, -50, -50]], np.int8)  # tie between keywords: first index
    assert list(IS_KEYWORD) == [False, False, True, True]
    assert list(decide(scores, IS_KEYWORD)) == [2, 2, 0, 2]
    assert list(decide(scores, IS_KEYWORD, 0)) == [2, 1, 0, 0]  # the tie row's best non-keyword: _silence_ first
    assert list(decide(scores, IS_KEYWORD, -10)) == [2, 2, 0, 0]  # exactly at the threshold: kept
    probabilities = (scores.astype(np.float32) + 128) / 256
    assert list(decide(probabilities, IS_KEYWORD, 0.5)) == list(decide(scores, IS_KEYWORD, 0))
    only_keywords = np.array([[0.2, 0.8]])
    assert list(decide(only_keywords, np.array([True, True]), 0.9)) == [1]  # nothing to fall back to
    assert decide(np.zeros((0, 4), np.int8), IS_KEYWORD, 0).shape == (0,)


def test_probability_to_int8_score_is_the_lowest_score_reaching_it():
    scale, zero_point = 1 / 256, -128
    for probability in [0.0, 0.3, 0.44, 0.5, 0.999]:
        q = probability_to_score_int8(probability, scale, zero_point)
        assert scale * (q - zero_point) >= probability - 1e-12
        assert scale * (q - 1 - zero_point) < probability
    assert probability_to_score_int8(0.5, scale, zero_point) == 0


@pytest.fixture
def commands_copy(tmp_path) -> Path:
    folder = tmp_path / "commands"
    shutil.copytree(SHIPPED, folder)
    return folder


def _set_probability(folder: Path, value) -> None:
    config = json.loads((folder / "config.json").read_text())
    config["min_keyword_probability"] = value
    (folder / "config.json").write_text(json.dumps(config))


def test_model_reads_its_decision_rule_and_refuses_a_bad_one(commands_copy):
    from kws.clips import fit_to_clip
    from kws.audio import read_audio
    from kws.frontend import compute_features_many

    clips = [fit_to_clip(read_audio(p, 16000), 16000) for p in sorted(DEMO.rglob("*.wav"))]
    features = np.stack(compute_features_many(clips, KwsModel.load(commands_copy).frontend))
    recipe = load_train_config(Path(__file__).resolve().parents[1] / "training" / "configs" / "commands.toml")
    assert KwsModel.load(commands_copy).min_keyword_probability == recipe.min_keyword_probability > 0  # chosen by CV
    _set_probability(commands_copy, 0.0)
    plain = KwsModel.load(commands_copy)
    assert plain.min_keyword_probability == 0.0 and plain.min_keyword_score_int8 is None
    argmax = plain.predict_indices(features)
    assert list(argmax) == list(np.argmax(plain.scores_batch(features), axis=1))
    _set_probability(commands_copy, 0.999)
    strict = KwsModel.load(commands_copy)
    assert strict.min_keyword_score_int8 == 128  # no int8 score reaches it: no keyword is ever decided
    decided = strict.predict_indices(features)
    assert not keyword_mask(strict.labels)[decided].any()
    assert np.array_equal(decided[~keyword_mask(strict.labels)[argmax]], argmax[~keyword_mask(strict.labels)[argmax]])
    for bad in [1.0, -0.1, "0.5", True]:
        _set_probability(commands_copy, bad)
        with pytest.raises(ModelError, match="min_keyword_probability must be a number in"):
            KwsModel.load(commands_copy)


def test_kws_eval_applies_the_rule_and_its_override(commands_copy, tmp_path, capsys):
    plain_json, strict_json = tmp_path / "plain.json", tmp_path / "strict.json"
    _set_probability(commands_copy, 0.0)
    assert main(["eval", str(commands_copy), "--data", str(DEMO), "--json", str(plain_json)]) == 0
    assert "decision: top label (argmax)" in capsys.readouterr().out
    _set_probability(commands_copy, 0.999)
    assert main(["eval", str(commands_copy), "--data", str(DEMO), "--json", str(strict_json)]) == 0
    assert "keywords below probability 0.999" in capsys.readouterr().out
    plain, strict = json.loads(plain_json.read_text()), json.loads(strict_json.read_text())
    assert plain["min_keyword_probability"] == 0.0 and strict["min_keyword_probability"] == 0.999
    keyword_columns = np.asarray(strict["confusion"])[:, keyword_mask(strict["labels"])]
    assert keyword_columns.sum() == 0 and strict["accuracy"] < plain["accuracy"]
    # the command line overrides the model's value: 0 is the plain argmax again
    assert main(["eval", str(commands_copy), "--data", str(DEMO), "--json", str(strict_json),
                 "--min-keyword-probability", "0"]) == 0
    assert json.loads(strict_json.read_text())["confusion"] == plain["confusion"]
    assert main(["eval", str(commands_copy), "--data", str(DEMO), "--min-keyword-probability", "1.5"]) == 1
    assert "must be in [0, 1)" in capsys.readouterr().err


def _fold(keyword_confidence: float, ambience_confidence: float, seed: int) -> dict:
    """Scores of a fold: speech mostly right with given confidence, ambience mistaken for "yes"."""
    rng = np.random.default_rng(seed)
    n = 200
    truth = rng.integers(0, 4, n)

    def one_hot_scores(index, probability):
        scores = np.full((len(index), 4), -128, np.int16)
        scores[np.arange(len(index)), index] = int(probability * 256) - 128
        scores[np.arange(len(index)), (index + 1) % 4] = int((1 - probability) * 256) - 128
        return np.clip(scores, -128, 127).astype(np.int8)

    ambience = np.full((50, 4), -128, np.int8)  # "yes" on top at this probability, _unknown_ close behind
    ambience[:, 2] = int(ambience_confidence * 256) - 128
    ambience[:, 1] = int((ambience_confidence - 0.1) * 256) - 128
    return {"labels": np.array(LABELS), "speech_labels": truth, "output_scale": 1 / 256, "output_zero_point": -128,
            "scores_clean": one_hot_scores(truth, keyword_confidence), "scores_silence": one_hot_scores(np.zeros(10, int), 0.9),
            "scores_snr_10": one_hot_scores(truth, keyword_confidence - 0.1), "scores_ambience": ambience}


def test_sweep_trades_accuracy_for_ambience_and_the_nested_choice_uses_other_folds():
    folds = [_fold(0.8, 0.35, 0), _fold(0.8, 0.45, 1), _fold(0.8, 0.35, 2)]
    plain = held_out_figures(folds[0], 0.0)
    assert plain["accuracy"] == 1.0 and plain["ambience_false_command_rate"] == 1.0
    assert list(plain) == ["accuracy", "speech_clean_accuracy", "speech_snr_10db_accuracy",
                           "ambience_false_command_rate"]
    strict = held_out_figures(folds[0], 0.75)
    assert strict["ambience_false_command_rate"] == 0.0 and strict["speech_snr_10db_accuracy"] < 1.0
    result = sweep(folds, probabilities=(0.0, 0.4, 0.5, 0.75))
    assert [r["min_keyword_probability"] for r in result["rows"]] == [0.0, 0.4, 0.5, 0.75]
    chosen = [n["min_keyword_probability"] for n in result["nested_per_fold"]]
    # folds 0 and 2 see fold 1's ambience at 0.45 among their others: 0.4 is not enough there
    assert chosen == [0.5, 0.4, 0.5]
    assert result["nested_per_fold"][1]["ambience_false_command_rate"] == 1.0  # fold 1 pays for its choice
    assert result["nested_mean"]["ambience_false_command_rate"] == pytest.approx(1 / 3, abs=1e-4)


def test_seeds_of_one_recipe_are_swept_together_without_choosing_on_a_twin_fold(tmp_path):
    from kws.errors import ConfigError
    from kws.training.rejection import SCORES_FILE, save_fold_scores, write_rejection_report

    folds = [_fold(0.8, 0.35, 0), _fold(0.8, 0.45, 1), _fold(0.8, 0.45, 2)]
    probabilities = (0.0, 0.4, 0.5)
    # entries 1 and 2 are one fold trained with two seeds: each chooses on fold 0 alone
    assert [n["min_keyword_probability"] for n in sweep(folds, probabilities, fold_ids=[0, 1, 1])["nested_per_fold"]] \
        == [0.5, 0.4, 0.4]
    assert [n["min_keyword_probability"] for n in sweep(folds, probabilities)["nested_per_fold"]] == [0.5, 0.5, 0.5]
    with pytest.raises(ConfigError, match="two distinct folds"):
        sweep(folds[:2], probabilities, fold_ids=[1, 1])

    runs = [tmp_path / "seed0", tmp_path / "seed1"]
    for run, (a, b) in zip(runs, [(folds[0], folds[1]), (folds[2], folds[0])]):
        for k, fold in enumerate((a, b)):
            (run / f"fold{k}").mkdir(parents=True)
            save_fold_scores(run / f"fold{k}" / SCORES_FILE, fold)
    with pytest.raises(ConfigError, match="out_dir"):
        write_rejection_report(runs[0], also=(runs[1],), log=lambda s: None)
    joint = write_rejection_report(runs[0], also=(runs[1],), out_dir=tmp_path / "both", log=lambda s: None)
    assert [n["fold"] for n in joint["nested_per_fold"]] == [0, 1, 0, 1]
    assert (tmp_path / "both" / "rejection.png").is_file() and not (runs[0] / "rejection.json").exists()
    assert joint["rows"][0]["ambience_false_command_rate"] == 1.0  # every entry's ambience at the argmax
