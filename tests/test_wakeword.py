"""kws train-wakeword: phrase checks, splits, window rule, engine failures, and a tiny end-to-end run
(interrupted, resumed, loaded by the runtime, exported as C)."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from kws.errors import ConfigError, DataError, ModelError

wakeword = pytest.importorskip("kws.training.wakeword")  # needs the train extra only for the end-to-end parts

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("phrase", ["", "   ", "!!", "?"])
def test_empty_phrase_is_refused(phrase):
    with pytest.raises(ConfigError, match="empty|no letters"):
        wakeword.check_phrase(phrase)


@pytest.mark.parametrize("phrase, bad", [("ありがとう", "'あ'"), ("hey 🤖", "'🤖'"), ("café", "'é'")])
def test_unspeakable_characters_are_named(phrase, bad):
    with pytest.raises(ConfigError, match=bad):
        wakeword.check_phrase(phrase)


def test_phrase_normalisation_and_common_word_warning():
    p = wakeword.check_phrase("  Hey,   Jarvis! ")
    assert (p.text, p.label, p.warnings) == ("hey jarvis", "hey_jarvis", ())
    assert wakeword.check_phrase("alexa").warnings == ()
    for common in ("yes", "the", "computer"):
        assert "common word" in wakeword.check_phrase(common).warnings[0]


def test_a_common_word_warning_comes_back_with_its_measured_false_accepts():
    phrase = wakeword.check_phrase("yes")
    metrics = {"report": {"hours_negative": 0.25, "speech": {"false_accepts_per_hour": 12.0}}}
    [line] = wakeword.measured_warnings(phrase, metrics)
    assert "very common word" in line and "measured: 12.0 false accepts per hour on 0.25 h" in line
    assert wakeword.measured_warnings(wakeword.check_phrase("alexa"), metrics) == []


def test_window_follows_the_phrase_duration():
    assert wakeword.window_for(0.6) == 1000
    assert wakeword.window_for(0.85) == 1000
    assert wakeword.window_for(0.9) == 1200
    assert wakeword.window_for(1.42) == 1700


def test_speaker_deal_is_disjoint_deterministic_and_checked():
    names = [f"S{i:02d}" for i in range(40)]
    split = wakeword.deal(names, (16, 6, 9, 9), "speakers", "x")
    assert [len(split[r]) for r in wakeword.ROLES] == [16, 6, 9, 9]
    assert len(set().union(*split.values())) == 40
    assert split == wakeword.deal(list(reversed(names)), (16, 6, 9, 9), "speakers", "x")
    with pytest.raises(DataError, match="needs 41"):
        wakeword.deal(names, (16, 6, 10, 9), "speakers", "x")


def test_committed_config_parses_and_bad_keys_are_named(tmp_path):
    config = wakeword.load_wakeword_config(REPO / "training" / "configs" / "wakeword.toml")
    assert config.train.architecture == "tc_resnet" and config.detector["inference_period_ms"] == 200
    bad = tmp_path / "bad.toml"
    bad.write_text("positivs = 3\n")
    with pytest.raises(ConfigError, match="'positivs'"):
        wakeword.load_wakeword_config(bad)
    bad.write_text("[train]\nepoch = 3\n")
    with pytest.raises(ConfigError, match="'epoch'"):
        wakeword.load_wakeword_config(bad)
    bad.write_text("[detector]\ninference_period_ms = 0\n")
    with pytest.raises(ConfigError, match="inference_period_ms"):
        wakeword.load_wakeword_config(bad)


def _silent(engine_class):
    class Silent(engine_class):
        def synthesize(self, text, spec, *, seed, workdir):
            raise RuntimeError("no audio for this text")

    return Silent


def test_an_engine_producing_nothing_is_reported_and_the_run_carries_on(monkeypatch):
    from kws.datasets import synth

    available, _ = synth.check_engines(["espeak", "flite"])
    if available != ["espeak", "flite"]:
        pytest.skip("needs espeak-ng and flite")
    monkeypatch.setitem(synth.ENGINE_CLASSES, "flite", _silent(synth.FliteEngine))
    lines = []
    config = wakeword.WakewordConfig(engines=("espeak", "flite"), duration_probe_clips=8)
    durations, failures = wakeword.probe_durations(wakeword.check_phrase("alexa"), config, lines.append)
    assert durations and list(failures) == ["flite"]
    assert any("flite failed" in line for line in lines)
    monkeypatch.setitem(synth.ENGINE_CLASSES, "espeak", _silent(synth.EspeakEngine))
    with pytest.raises(DataError, match="no TTS engine produced audio"):
        wakeword.probe_durations(wakeword.check_phrase("alexa"), config, lines.append)


def test_cli_refuses_a_bad_phrase_before_any_work(tmp_path, capsys):
    from kws.cli import main

    assert main(["train-wakeword", "", "--out", str(tmp_path / "run")]) == 1
    assert "empty" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("pairs", [((3,),), ((0, 1),), ((2, 0),)])
def test_detector_search_pairs_are_checked(pairs):
    with pytest.raises(ConfigError, match="detector_search"):
        wakeword.WakewordConfig(detector_search=pairs)


def test_checkpoints_are_compared_by_the_chosen_rule():
    quiet = {"fa_per_hour": 0.0, "frr": 0.6, "frr_at_target": 0.6}  # an early epoch: silent and deaf
    keen = {"fa_per_hour": 8.0, "frr": 0.1, "frr_at_target": 0.3}  # one false accept at p 0.8, better at target
    assert wakeword.better(quiet, keen) and not wakeword.better(keen, quiet)
    assert wakeword.better(keen, quiet, "frr_at_target") and not wakeword.better(quiet, keen, "frr_at_target")
    late = {**quiet, "epoch": 24}
    assert wakeword.better(late, {**keen, "epoch": 6}, "last") and not wakeword.better({**keen, "epoch": 6}, late, "last")
    with pytest.raises(ConfigError, match="selection_rule 'best'"):
        wakeword.WakewordConfig(selection_rule="best")


def tiny_config(tmp: Path) -> "wakeword.WakewordConfig":
    from kws.training.config import TrainConfig

    return wakeword.WakewordConfig(
        positives=24, confusable_phrases=12, confusable_clips=12, common_word_clips=12, real_unknown_max=40,
        max_speech_windows=40, silence_examples=12, duration_probe_clips=4, positive_augment_variants=1,
        negative_augment_variants=0, engines=("espeak",), jobs=1, select_voice_fraction=0.2,
        report_voice_fraction=0.2, speaker_split=(2, 1, 1, 1), ambience_split=(1, 1, 1, 1),
        cache_dir=str(tmp / "cache"),
        train=TrainConfig(architecture="tc_resnet", model={"separable": True, "channels": [8, 8, 8, 8]}, epochs=2,
                          batch_size=32, examples_per_class=32))


def test_tiny_run_resumes_and_works_with_the_runtime_tools(real_data, tmp_path, monkeypatch):
    pytest.importorskip("tensorflow")
    import kws.training.loop as loop
    from kws.cli import main
    from kws.detector import model_detector_config
    from kws.model import KwsModel

    run = tmp_path / "run"
    config = dataclasses.replace(tiny_config(tmp_path), detector_search=((3, 2), (1, 1)), hard_negative_epochs=(2,),
                                 hard_negative_probability=0.01, hard_negative_max_windows=8)
    real_save = loop.save_checkpoint

    def save_then_interrupt(run_dir, model, epoch, history, *average):
        real_save(run_dir, model, epoch, history, *average)
        if epoch == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(loop, "save_checkpoint", save_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        wakeword.run_wakeword("Alexa", config, run, log=lambda line: None)
    monkeypatch.setattr(loop, "save_checkpoint", real_save)
    with pytest.raises(ConfigError, match="already exists"):
        wakeword.run_wakeword("alexa", config, run, log=lambda line: None)
    with pytest.raises(ConfigError, match="different phrase or config"):
        wakeword.run_wakeword("alexa", dataclasses.replace(config, positives=30), run, resume=True,
                              log=lambda line: None)
    lines = []
    metrics = wakeword.run_wakeword("alexa", config, run, resume=True, log=lines.append)
    assert any("resuming after epoch 1" in line for line in lines)

    for name in ("model_int8.tflite", "config.json", "metrics.json", "training_curves.png", "detector.json",
                 "det_curve.png", "history.csv", "selection.json", "splits.json", "checkpoint"):
        assert (run / name).exists(), name
    selection = json.loads((run / "selection.json").read_text())
    assert [row["epoch"] for row in selection["epochs"]] == [1, 2] and metrics["best_epoch"] == selection["best_epoch"]
    for row in selection["epochs"]:  # the operating-point FRR is there for either rule
        assert 0.0 <= row["frr_at_target"] <= 1.0 and row["threshold_at_target_int8"] >= 0
    assert selection["best_epoch"] == 2  # the last epoch (the default rule)
    mined = json.loads((run / "hard_negatives.json").read_text())["rounds"]
    assert [r["epoch"] for r in mined] == [2] and 0 < len(mined[0]["windows"]) <= 8  # p 0.01: it fires somewhere
    assert all(Path(path).is_file() for path, _ in mined[0]["windows"])
    assert any("hard negatives after epoch 2" in line for line in lines)
    splits = json.loads((run / "splits.json").read_text())
    for kind in ("speech", "ambience"):
        roles = [set(splits[kind][role]) for role in wakeword.ROLES]
        assert sum(map(len, roles)) == len(set().union(*roles))  # no speaker / recording in two roles
    calibrated_on = set(json.loads((run / "detector.json").read_text())["calibration"]["negatives"])
    for kind in ("speech", "ambience"):  # calibration and selection audio set the threshold, never report audio
        assert {Path(p).name for p in splits[kind]["calibrate"] + splits[kind]["select"]} <= calibrated_on
        assert not {Path(p).name for p in splits[kind]["report"]} & calibrated_on

    model = KwsModel.load(run)
    assert model.labels == ("_silence_", "_unknown_", "alexa")
    assert model.frontend.clip_duration_ms == metrics["clip_duration_ms"] == 1000
    detector = model_detector_config(run)
    assert detector.inference_period_ms == 200
    searched = metrics["detector_search"]
    assert [(r["smoothing_inferences"], r["min_consecutive_hits"]) for r in searched] == [(3, 2), (1, 1)]
    chosen = [r for r in searched if r.get("chosen")]
    assert len(chosen) == 1 and chosen[0]["frr_mean"] == min(r["frr_mean"] for r in searched)
    assert (detector.smoothing_inferences, detector.min_consecutive_hits) == \
        (chosen[0]["smoothing_inferences"], chosen[0]["min_consecutive_hits"])
    assert dict(detector.thresholds_int8)["alexa"] == metrics["threshold_int8"] >= 0  # p >= 0.5
    assert metrics["int8_weight_bytes"] <= 20480
    assert set(metrics["report"]) >= {"ambience_10db", "speech", "hours_negative"}
    scores = model.scores(np.zeros((49, 10), np.int8) + 64)
    assert scores.shape == (3,)

    assert main(["export", str(run), "--out", str(tmp_path / "c"), "--target", "host"]) == 0
    assert (tmp_path / "c" / "kws_model.c").is_file()
    clip = sorted((real_data / "speech_commands_v0.02_test" / "yes").glob("*.wav"))[0]
    assert main(["detect", str(run), str(clip)]) == 0

    from kws.training.ship import ship

    shipped = ship(run, "alexa", models_dir=tmp_path / "models")
    assert sorted(p.name for p in shipped.iterdir()) == ["config.json", "detector.json", "metrics.json",
                                                         "model_int8.tflite", "wakeword_config.json"]
    assert KwsModel.load(shipped).labels == model.labels
    assert model_detector_config(shipped) == detector
    (run / "wakeword_config.json").unlink()
    with pytest.raises(ModelError, match="train_config.json or wakeword_config.json"):
        ship(run, "alexa", models_dir=tmp_path / "models")


def test_a_phrase_longer_than_a_second_gets_a_longer_window_end_to_end(real_data, tmp_path):
    """Train, export (C verified against TFLite Micro on the longer window) and detect a long phrase."""
    pytest.importorskip("tensorflow")
    from kws.cli import main
    from kws.model import KwsModel

    run = tmp_path / "run"
    tiny = tiny_config(tmp_path)
    babble = dataclasses.replace(tiny.train.augment, babble_probability=1.0)  # the training speakers talk behind
    config = dataclasses.replace(tiny, positives=12, confusable_clips=6, common_word_clips=6,
                                 train=dataclasses.replace(tiny.train, epochs=1, augment=babble))
    metrics = wakeword.run_wakeword("okay computer start listening now", config, run, log=lambda line: None)
    model = KwsModel.load(run)
    assert model.frontend.clip_duration_ms == metrics["clip_duration_ms"] > 1000
    assert model.frontend.frames_per_clip > 49 and model.labels[-1] == "okay_computer_start_listening_now"
    assert main(["export", str(run), "--out", str(tmp_path / "c"), "--target", "host", "--verify",
                 "--clips", "24"]) == 0
    config_h = (tmp_path / "c" / "kws_config.h").read_text()
    assert f"{model.frontend.frames_per_clip}" in config_h
    long_clip = tmp_path / "long.wav"
    from kws.audio import read_audio, write_wav

    pcm = np.concatenate([read_audio(p) for p in sorted((real_data / "speech_commands_v0.02_test" / "no")
                                                          .glob("*.wav"))[:3]])
    write_wav(long_clip, pcm, 16000)
    assert main(["detect", str(run), str(long_clip)]) == 0


def test_longer_window_models_load_with_their_own_window(tmp_path):
    """A model trained on a 1.5 s window loads (same frames, longer input); other front-end changes are refused."""
    from kws.config import FrontendConfig
    from kws.errors import ModelError
    from kws.model import KwsModel, write_model_config

    tflite = REPO / "kws" / "models" / "commands" / "model_int8.tflite"
    labels = json.loads((REPO / "kws" / "models" / "commands" / "config.json").read_text())["labels"]
    for frontend, ok in ((FrontendConfig(clip_duration_ms=1500), True), (FrontendConfig(n_mfcc=13), False)):
        folder = tmp_path / str(ok)
        folder.mkdir()
        (folder / "model_int8.tflite").write_bytes(tflite.read_bytes())
        write_model_config(folder, labels=labels, frontend=frontend, architecture="tc_resnet")
        if ok:  # the loader accepts the window; the 49-frame input then does not match 74 frames
            with pytest.raises(ModelError, match="input"):
                KwsModel.load(folder)
        else:
            with pytest.raises(ModelError, match="front-end mismatch"):
                KwsModel.load(folder)
