"""``kws eval`` end to end, and the evaluation helpers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kws.cli import main
from kws.config import FrontendConfig
from kws.clips import fit_to_clip
from kws.evaluation import EvalResult, confusion_matrix, spread
from kws.model import TFLITE_FILE, write_model_config

FRONTEND = FrontendConfig()
LABELS = ["_silence_", "no", "yes"]


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    """An (untrained) tiny_conv converted to int8, saved as a run folder."""
    pytest.importorskip("tensorflow")
    from kws.training.models import build_model
    from kws.training.quantize import convert_to_int8

    features = np.random.default_rng(0).integers(-60, 40, size=(16, 49, 10)).astype(np.int8)
    tflite = convert_to_int8(build_model("tiny_conv", n_classes=len(LABELS)), features, FRONTEND)
    run = tmp_path_factory.mktemp("run")
    (run / TFLITE_FILE).write_bytes(tflite)
    write_model_config(run, labels=LABELS, frontend=FRONTEND, architecture="tiny_conv")
    return run


@pytest.fixture(scope="module")
def data_tree(tmp_path_factory) -> tuple[Path, Path]:
    """``<label>/*.wav`` clips of several lengths, one broken file and one label the model lacks."""
    from kws.audio import write_wav

    root = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(5)
    lengths = {"_silence_": [16000, 16000], "no": [12000, 16000, 20000], "yes": [8000, 16000, 17001], "cat": [16000]}
    for label, sizes in lengths.items():
        for i, n in enumerate(sizes):
            pcm = (rng.normal(0.0, 300.0 * (i + 1), n)).astype(np.int16)
            write_wav(root / label / f"{label}_spk{i}_0.wav", pcm)
    broken = root / "yes" / "broken.wav"
    broken.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt this is not audio")
    # one sample at 44.1 kHz: resamples to nothing at 16 kHz; a bad file like the others
    import soundfile as sf

    sf.write(str(root / "no" / "one_sample_44k.wav"), np.array([1000], np.int16), 44100, subtype="PCM_16")
    return root, broken


def test_eval_end_to_end(run_folder, data_tree, tmp_path, capsys):
    root, broken = data_tree
    out_json, out_png = tmp_path / "eval.json", tmp_path / "confusion.png"
    code = main(["eval", str(run_folder), "--data", str(root), "--json", str(out_json), "--plot", str(out_png)])
    printed = capsys.readouterr().out
    assert code == 0
    result = json.loads(out_json.read_text())
    assert {"accuracy", "n", "per_class", "confusion", "labels", "bad_files"} <= set(result)
    assert result["labels"] == LABELS
    assert result["n"] == 8  # 2 + 3 + 3 good clips; the broken one and "cat" skipped
    assert 0.0 <= result["accuracy"] <= 1.0
    assert np.asarray(result["confusion"]).shape == (3, 3) and np.sum(result["confusion"]) == 8
    assert {label: m["n"] for label, m in result["per_class"].items()} == {"_silence_": 2, "no": 3, "yes": 3}
    assert all({"precision", "recall", "n"} <= set(m) for m in result["per_class"].values())
    assert sorted(Path(bad["path"]).name for bad in result["bad_files"]) == [broken.name, "one_sample_44k.wav"]
    assert all(bad["reason"] for bad in result["bad_files"])
    assert any("too short" in bad["reason"] for bad in result["bad_files"])
    assert result["unknown_labels"] == {"cat": 1}
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "accuracy" in printed and "clips/s" in printed and "broken.wav" in printed and "'cat'" in printed


def test_eval_limit(run_folder, data_tree, tmp_path):
    root, _ = data_tree
    out_json = tmp_path / "eval.json"
    assert main(["eval", str(run_folder), "--data", str(root), "--limit", "3", "--json", str(out_json)]) == 0
    assert json.loads(out_json.read_text())["n"] <= 3


def test_eval_errors_are_reported(run_folder, tmp_path, capsys):
    assert main(["eval", str(tmp_path / "missing_run"), "--data", str(tmp_path)]) == 1
    assert "no such model" in capsys.readouterr().err
    (tmp_path / "dog").mkdir()
    assert main(["eval", str(run_folder), "--data", str(tmp_path)]) == 1
    assert "matches the model's labels" in capsys.readouterr().err


def test_eval_with_no_usable_clip_fails_naming_the_folder(run_folder, tmp_path, capsys):
    (tmp_path / "yes").mkdir()
    (tmp_path / "yes" / "a.wav").write_bytes(b"not audio at all")
    out_json = tmp_path / "eval.json"
    assert main(["eval", str(run_folder), "--data", str(tmp_path), "--json", str(out_json)]) == 1
    err = capsys.readouterr().err
    assert str(tmp_path) in err and "no usable clip" in err and "a.wav" in err
    assert not out_json.exists()


def test_fit_to_clip_pads_centred_and_keeps_the_loudest_window():
    pcm = np.arange(1, 11, dtype=np.int16)
    np.testing.assert_array_equal(fit_to_clip(pcm, 6), [5, 6, 7, 8, 9, 10])
    quiet_loud_quiet = np.array([1, 1, 9, 9, 9, 1, 1, 1], np.int16)
    np.testing.assert_array_equal(fit_to_clip(quiet_loud_quiet, 3), [9, 9, 9])
    padded = fit_to_clip(pcm, 15)
    assert padded.dtype == np.int16 and padded.size == 15
    np.testing.assert_array_equal(padded, [0, 0] + list(range(1, 11)) + [0, 0, 0])
    np.testing.assert_array_equal(fit_to_clip(pcm, 10), pcm)
    assert fit_to_clip(np.zeros(17001, np.int16), 16000).size == 16000


def test_training_and_evaluation_window_clips_by_one_rule():
    from kws.training.features import window_around_speech

    assert window_around_speech is fit_to_clip


def test_eval_finds_a_word_in_the_first_second_of_a_long_recording(speech_commands_dir):
    """A 3 s file with "yes" in its first second is scored on that second, as in training."""
    from kws.audio import read_audio
    from kws.evaluation import evaluate_clips
    from kws.model import load_model

    model = load_model("commands")
    rng = np.random.default_rng(0)
    clips = []
    for path in sorted((speech_commands_dir / "yes").glob("*.wav"))[:12]:
        word = read_audio(path, 16000)
        tail = rng.normal(0, 3, 32000).astype(np.int16)  # 2 s of very quiet noise after the word
        clips.append(np.concatenate([word, tail]))
    result = evaluate_clips(model, clips, ["yes"] * len(clips))
    assert result.accuracy >= 11 / 12, result.report()


def test_metrics_on_a_known_confusion():
    confusion = confusion_matrix([0, 0, 1, 1, 1, 2], [0, 1, 1, 1, 0, 1], 3)
    np.testing.assert_array_equal(confusion, [[1, 1, 0], [1, 2, 0], [0, 1, 0]])
    result = EvalResult(labels=["a", "b", "c"], confusion=confusion)
    assert result.n == 6 and result.accuracy == pytest.approx(0.5)
    per_class = result.per_class()
    assert per_class["a"] == {"precision": 0.5, "recall": 0.5, "n": 2}
    assert per_class["b"]["precision"] == pytest.approx(0.5) and per_class["b"]["recall"] == pytest.approx(2 / 3)
    assert per_class["c"] == {"precision": 0.0, "recall": 0.0, "n": 1}  # never predicted: 0.0, not NaN
    assert "accuracy 0.5000" in result.report()


def test_spread_keeps_ends_and_limit():
    assert spread(list(range(10)), 3) in ([0, 4, 9], [0, 5, 9])
    assert spread(list(range(4)), None) == [0, 1, 2, 3]
    assert spread(list(range(4)), 10) == [0, 1, 2, 3]
