"""End-to-end training on a tiny real-speech subset: run folder, int8 parity, resume, refusal."""

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from kws.errors import ConfigError  # noqa: E402
from kws.training.config import TrainConfig, load_train_config  # noqa: E402

LABELS = ("_silence_", "_unknown_", "yes", "no")


@pytest.fixture(scope="module")
def tiny_real(speech_commands_dir, tmp_path_factory) -> Path:
    """A 4-label tree linking 40 real clips per label (speaker ids kept in the names)."""
    root = tmp_path_factory.mktemp("tiny_real")
    for label in LABELS:
        (root / label).mkdir()
        for path in sorted((speech_commands_dir / label).glob("*.wav"))[:40]:
            (root / label / path.name).symlink_to(path)
    return root


def tiny_config(real: Path, tmp: Path, **overrides) -> TrainConfig:
    settings = dict(
        architecture="tiny_conv", labels=LABELS, epochs=2, batch_size=32, real_data=str(real), extra_real=(),
        use_synthetic=True, synthetic_per_keyword=4, synthetic_unknown=4, synth_engines=("espeak",),
        silence_examples=8, augment_variants=1, jobs=1, cache_dir=str(tmp / "cache"), examples_per_class=24,
    )
    settings.update(overrides)
    return TrainConfig(**settings)


def test_commands_config_parses():
    config = load_train_config(Path(__file__).resolve().parents[1] / "training" / "configs" / "commands.toml")
    assert config.labels[:2] == ("_silence_", "_unknown_") and len(config.labels) == 12
    assert config.noise_folds >= 2 and not config.real_silence  # the cross-validation protocol


def test_shipped_recipe_is_the_one_the_shipped_model_was_trained_with():
    import json

    from kws.training.config import train_config_from_dict

    repo = Path(__file__).resolve().parents[1]
    recipe = load_train_config(repo / "training" / "configs" / "commands.toml")  # the cross-validated recipe...
    used = train_config_from_dict(json.loads((repo / "kws" / "models" / "commands" / "train_config.json").read_text()))
    assert dataclasses.replace(recipe, all_speakers=True) == used  # ...trained on every speaker


def test_shipped_recipe_is_its_members_recipe_taught_by_three_of_them():
    configs = Path(__file__).resolve().parents[1] / "training" / "configs"
    recipe = load_train_config(configs / "commands.toml")
    member = load_train_config(configs / "commands_member.toml")
    assert not member.teacher and not member.unlabelled_speech  # members learn from labels alone
    members = recipe.teacher["models"]
    assert len(members) == 3 and all("{split}" in path for path in members)  # same speakers as the student
    assert len({path.split("/")[1] for path in members}) == 3  # three different seeds' runs
    taught = dict(teacher=recipe.teacher, distillation_weight=recipe.distillation_weight,
                  distillation_temperature=recipe.distillation_temperature,
                  unlabelled_speech=recipe.unlabelled_speech, unlabelled_speakers=recipe.unlabelled_speakers,
                  unlabelled_hop_ms=recipe.unlabelled_hop_ms,
                  min_keyword_probability=recipe.min_keyword_probability)  # its own rule: training is not affected
    assert dataclasses.replace(member, **taught) == recipe  # nothing else differs: the CV compared just this


def test_config_base_starts_from_another_config_and_changes_only_what_it_sets(tmp_path):
    (tmp_path / "recipe.toml").write_text('epochs = 40\nbatch_size = 128\n[augment]\nnoise_probability = 0.5\n'
                                          'speed_probability = 0.2\n')
    (tmp_path / "screens").mkdir()
    (tmp_path / "screens" / "lever.toml").write_text('base = "../recipe.toml"\nepochs = 60\n'
                                                     '[augment]\nnoise_probability = 0.8\n')
    lever = load_train_config(tmp_path / "screens" / "lever.toml")
    assert (lever.epochs, lever.batch_size) == (60, 128)  # relative to the including file; the rest inherited
    assert (lever.augment.noise_probability, lever.augment.speed_probability) == (0.8, 0.2)  # tables key by key


@pytest.mark.parametrize("text, message", [('base = "missing.toml"\n', "missing.toml: config file not found"),
                                           ('base = "self.toml"\n', "includes itself"),
                                           ("base = 3\n", "'base' must name another config file")])
def test_bad_config_base_is_named(tmp_path, text, message):
    path = tmp_path / "self.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_train_config(path)


def test_every_shipped_config_loads():
    from kws.training.config import read_toml
    from kws.training.wakeword import load_wakeword_config

    paths = sorted((Path(__file__).resolve().parents[1] / "training" / "configs").glob("*.toml"))
    assert len(paths) > 20
    for path in paths:  # wake-word configs hold their `kws train` settings in a [train] table
        (load_wakeword_config if "train" in read_toml(path) else load_train_config)(path)


def test_bad_config_key_is_named(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('architecture = "ds_cnn"\nepoch = 3\n')
    with pytest.raises(ConfigError, match="'epoch'"):
        load_train_config(path)
    path.write_text('epochs = "three"\n')
    with pytest.raises(ConfigError, match="'epochs' must be int"):
        load_train_config(path)


@pytest.mark.parametrize("overrides, message", [
    ({"architecture": "tc_resnett"}, "unknown model architecture 'tc_resnett'"),
    ({"architecture": "tc_resnet", "model": {"widht_multiplier": 2}}, "bad parameters"),
])
def test_bad_architecture_fails_before_any_work_and_leaves_no_folder(tmp_path, overrides, message):
    from kws.training.train import run_training

    config = tiny_config(tmp_path / "no_data_needed", tmp_path, **overrides)
    run_dir = tmp_path / "run"
    with pytest.raises(ConfigError, match=message):
        run_training(config, run_dir, log=lambda line: None)
    assert not run_dir.exists() and not (tmp_path / "cache").exists()


def test_train_writes_a_complete_run_and_resumes(tiny_real, tmp_path, monkeypatch):
    import kws.training.loop as loop
    from kws.training.train import run_training

    run = tmp_path / "run"
    config = tiny_config(tiny_real, tmp_path)

    real_save = loop.save_checkpoint

    def save_then_interrupt(run_dir, model, epoch, history, *average):
        real_save(run_dir, model, epoch, history, *average)
        if epoch == 1:
            raise KeyboardInterrupt  # Ctrl-C right after the first epoch's checkpoint

    monkeypatch.setattr(loop, "save_checkpoint", save_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        run_training(config, run, log=lambda s: None)
    state = json.loads((run / "checkpoint" / "state.json").read_text())
    assert state["epoch"] == 1
    monkeypatch.setattr(loop, "save_checkpoint", real_save)

    with pytest.raises(ConfigError, match="already exists"):
        run_training(config, run, log=lambda s: None)
    with pytest.raises(ConfigError, match="different config"):
        run_training(tiny_config(tiny_real, tmp_path, epochs=3), run, resume=True, log=lambda s: None)

    metrics = run_training(config, run, resume=True, log=lambda s: None)
    for name in ("config.json", "train_config.json", "model.keras", "model_int8.tflite", "metrics.json",
                 "history.csv", "training_curves.png", "confusion_matrix.png"):
        assert (run / name).is_file(), name
    assert len((run / "history.csv").read_text().strip().splitlines()) == 1 + 2  # header + both epochs
    saved = json.loads((run / "metrics.json").read_text())
    assert saved["n_validation"] > 0 and 0.0 <= saved["int8_val_accuracy"] <= 1.0
    assert saved == metrics
    assert saved["train_clips_by_label_and_source"]["yes"]["synthetic"] == 4

    from kws.model import KwsModel

    model = KwsModel.load(run)
    assert model.labels == LABELS
    assert model.scores(np.full((49, 10), 64, np.int8)).dtype == np.int8


def test_weight_average_is_the_closed_form_of_its_updates():
    from kws.training.loop import WeightAverage

    average = WeightAverage([np.zeros(3, np.float32)], decay_per_step=0.9)
    average.update([np.ones(3, np.float32)], steps=8)  # 8 steps at once = 8 single steps on the same weights
    assert np.allclose(average.weights[0], 1 - 0.9 ** 8)
    average.update([np.ones(3, np.float32)], steps=1000)
    assert np.allclose(average.values([np.zeros(3, np.float32)])[0], 1.0) and average.values(
        [np.zeros(3, np.float32)])[0].dtype == np.float32


def test_weight_average_survives_resume_and_becomes_the_model(tiny_real, tmp_path, monkeypatch):
    import keras

    import kws.training.loop as loop
    from kws.training.train import run_training

    run = tmp_path / "run"
    config = tiny_config(tiny_real, tmp_path, weight_average_decay=0.9)
    real_save = loop.save_checkpoint

    def save_then_interrupt(run_dir, model, epoch, history, average):
        real_save(run_dir, model, epoch, history, average)
        if epoch == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(loop, "save_checkpoint", save_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        run_training(config, run, log=lambda s: None)
    assert (run / "checkpoint" / loop.WEIGHT_AVERAGE_FILE).is_file()
    monkeypatch.setattr(loop, "save_checkpoint", real_save)
    lines = []
    run_training(config, run, resume=True, log=lines.append)
    assert any(line.startswith("weight average (decay 0.9") for line in lines)
    trained = keras.models.load_model(run / "model.keras").get_weights()
    last_step = keras.models.load_model(run / "checkpoint" / "model.keras").get_weights()
    with np.load(run / "checkpoint" / loop.WEIGHT_AVERAGE_FILE) as saved:
        averaged = [saved[f"arr_{i}"] for i in range(len(saved.files))]
    assert all(np.allclose(t, a, atol=1e-6) for t, a in zip(trained, averaged))  # the shipped weights are the average
    assert not all(np.allclose(t, w) for t, w in zip(trained, last_step))  # ...not the last step's


def test_training_is_deterministic_and_features_are_cached(tiny_real, tmp_path):
    from kws.training.train import run_training

    config = tiny_config(tiny_real, tmp_path, epochs=1)
    first = run_training(config, tmp_path / "a", log=lambda s: None)
    cache_files = sorted((tmp_path / "cache" / "features").rglob("*.npy"))
    stamps = [p.stat().st_mtime_ns for p in cache_files]
    second = run_training(config, tmp_path / "b", log=lambda s: None)
    assert [p.stat().st_mtime_ns for p in cache_files] == stamps  # read from the cache, not rewritten
    assert first["confusion"] == second["confusion"]
    assert (tmp_path / "a" / "model_int8.tflite").read_bytes() == (tmp_path / "b" / "model_int8.tflite").read_bytes()
    shutil.rmtree(tmp_path / "b")


def test_frontend_table_trains_on_that_front_end_and_the_model_says_so(tiny_real, tmp_path):
    from kws.config import FrontendConfig
    from kws.errors import ModelError
    from kws.model import KwsModel
    from kws.training.train import run_training

    path = tmp_path / "bad.toml"
    path.write_text("[frontend]\nupper_hz = 9000.0\n")  # above Nyquist: refused at load, before any work
    with pytest.raises(ConfigError, match="upper_hz"):
        load_train_config(path)
    path.write_text("[frontend]\nn_mfccs = 13\n")
    with pytest.raises(ConfigError, match="'n_mfccs'"):
        load_train_config(path)

    config = tiny_config(tiny_real, tmp_path, epochs=1, frontend={"upper_hz": 7600.0})
    run_training(config, tmp_path / "run", log=lambda s: None)
    wide = FrontendConfig(upper_hz=7600.0)
    assert json.loads((tmp_path / "run" / "config.json").read_text())["frontend"]["upper_hz"] == 7600.0
    with pytest.raises(ModelError, match="front-end mismatch.*upper_hz"):
        KwsModel.load(tmp_path / "run")  # the project's front end cannot feed it
    assert KwsModel.load(tmp_path / "run", running_frontend=wide).frontend == wide


def test_mirrored_strategy_trains_the_same_recipe(tiny_real, tmp_path):
    """--strategy mirrored (several GPUs on a real machine) runs here on the one CPU device."""
    import tensorflow as tf

    from kws.training.train import distribution_strategy, run_training

    assert isinstance(distribution_strategy("mirrored"), tf.distribute.MirroredStrategy)
    metrics = run_training(tiny_config(tiny_real, tmp_path, epochs=1, strategy="mirrored"), tmp_path / "m",
                           log=lambda s: None)
    assert metrics["epochs"] == 1 and (tmp_path / "m" / "model_int8.tflite").is_file()


def test_kws_train_cli_writes_run_and_refuses_to_overwrite(tiny_real, tmp_path, capsys):
    from kws.cli import main

    config = tmp_path / "tiny.toml"
    config.write_text(
        f'architecture = "tiny_conv"\nlabels = {list(LABELS)!r}\nepochs = 1\nbatch_size = 32\n'
        f'real_data = "{tiny_real}"\nextra_real = []\nuse_synthetic = false\nsilence_examples = 8\n'
        f'augment_variants = 1\njobs = 1\ncache_dir = "{tmp_path / "cache"}"\nexamples_per_class = 16\n'.replace("'", '"')
    )
    run = tmp_path / "run"
    assert main(["train", "--config", str(config), "--out", str(run)]) == 0
    assert "validation accuracy: float" in capsys.readouterr().out
    assert json.loads((run / "metrics.json").read_text())["epochs"] == 1
    assert main(["train", "--config", str(config), "--out", str(run)]) == 1
    assert "already exists" in capsys.readouterr().err


def test_cross_validation_holds_out_speakers_and_noise(tiny_real, tmp_path):
    from kws.datasets.folders import speaker_fold
    from kws.training.cv import run_cross_validation
    from kws.training.data import real_split
    from kws.training.validation import noise_split

    config = tiny_config(tiny_real, tmp_path, epochs=1, real_silence=False, noise_folders=("background_noise",),
                         noise_folds=2, validation_silence=6, noisy_snr_db=(10.0, 0.0), ambience_windows=10,
                         min_keyword_probability=0.3)
    # every speaker validates in exactly one fold; held-out noise never trains
    seen = []
    for fold in range(2):
        fold_config = dataclasses.replace(config, folds=2, fold=fold)
        train, validation, _ = real_split(fold_config)
        assert not {r.speaker for r in train} & {r.speaker for r in validation}
        assert all(speaker_fold(r.speaker, 2) == fold for r in validation)
        assert not any(r.label == "_silence_" for r in train + validation)  # real_silence = false
        seen += [r.path for r in validation]
        training_noise, held = noise_split(fold_config)
        assert held and not set(held) & set(training_noise)
    assert len(seen) == len(set(seen))

    summary = run_cross_validation(config, tmp_path / "cv", 2, log=lambda line: None)
    assert set(summary["int8_accuracy"]) == {"mean", "std", "folds"} and len(summary["int8_accuracy"]["folds"]) == 2
    assert set(summary["per_class_recall"]) == set(LABELS)
    for key in ["speech_clean_accuracy", "speech_snr_10db_accuracy", "speech_snr_0db_accuracy",
                "ambience_false_command_rate"]:
        assert key in summary["robustness"], key
    fold0 = json.loads((tmp_path / "cv" / "fold0" / "metrics.json").read_text())
    assert fold0["per_class"]["_silence_"]["n"] == 6  # held-out silence in the validation
    assert (tmp_path / "cv" / "cv.md").read_text().count("\n| ") >= 2 + len(LABELS)
    assert (tmp_path / "cv" / "cv_accuracy.png").read_bytes()[:4] == b"\x89PNG"
    # the decision rule travels with the model, and every threshold is swept over the folds' stored scores
    assert json.loads((tmp_path / "cv" / "fold0" / "config.json").read_text())["min_keyword_probability"] == 0.3
    with np.load(tmp_path / "cv" / "fold1" / "validation_scores.npz") as scores:
        assert {"scores_clean", "scores_silence", "scores_ambience", "scores_snr_10", "scores_snr_0"} <= set(scores.files)
        assert len(scores["scores_ambience"]) == 10 and len(scores["scores_silence"]) == 6
    rejection = json.loads((tmp_path / "cv" / "rejection.json").read_text())
    at_rule = next(r for r in rejection["rows"] if r["min_keyword_probability"] == 0.3)
    assert at_rule["ambience_false_command_rate"] == pytest.approx(summary["robustness"]["ambience_false_command_rate"]["mean"], abs=1e-4)
    assert summary["rejection"] == rejection["nested_mean"]
    assert (tmp_path / "cv" / "rejection.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ConfigError, match="already exists"):
        run_cross_validation(config, tmp_path / "cv", 2, log=lambda line: None)
    again = run_cross_validation(config, tmp_path / "cv", 2, resume=True, log=lambda line: None)
    assert again["int8_accuracy"] == summary["int8_accuracy"]
    # a screening run of one fold trains only that fold and says so
    screen = run_cross_validation(config, tmp_path / "screen", 2, only_folds=[1], log=lambda line: None)
    assert screen["folds_run"] == [1] and screen["int8_accuracy"]["folds"] == summary["int8_accuracy"]["folds"][1:]
    assert not (tmp_path / "screen" / "fold0").exists()
    assert "screening: folds 1 only" in (tmp_path / "screen" / "cv.md").read_text()
    with pytest.raises(ConfigError, match="each must be in 0..1"):
        run_cross_validation(config, tmp_path / "bad", 2, only_folds=[2], log=lambda line: None)


MULTIWORKER_SCRIPT = """
import json, sys
from pathlib import Path
from kws.training.config import TrainConfig
from kws.training.train import run_training
settings = json.loads(sys.argv[1])
settings["labels"] = tuple(settings["labels"])
settings["extra_real"] = tuple(settings["extra_real"])
settings["synth_engines"] = tuple(settings["synth_engines"])
metrics = run_training(TrainConfig(**settings), Path(sys.argv[2]), log=lambda line: None)
print("EPOCHS", metrics["epochs"])
"""


def _free_ports(n: int) -> list[int]:
    import socket

    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_multiworker_strategy_trains_with_two_local_workers(tiny_real, tmp_path):
    """Two worker processes on loopback ports form a TF_CONFIG cluster; both finish, the chief writes."""
    import os
    import subprocess
    import sys

    from kws.training.train import run_training

    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    settings = dict(architecture="tiny_conv", labels=list(LABELS), epochs=1, batch_size=32, real_data=str(tiny_real),
                    extra_real=[], use_synthetic=False, synth_engines=["espeak"], silence_examples=8,
                    augment_variants=0, jobs=1, cache_dir=str(tmp_path / "cache"), examples_per_class=24,
                    strategy="multiworker")
    # featurise once up front so the two workers do not race to fill the cache
    run_training(TrainConfig(**{**settings, "strategy": "none", "labels": LABELS, "extra_real": (),
                                "synth_engines": ("espeak",)}), tmp_path / "warm", log=lambda s: None)
    workers = []
    for index in range(2):
        env = dict(os.environ, TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}),
                   TF_CPP_MIN_LOG_LEVEL="2")
        out = tmp_path / f"worker{index}"
        workers.append(subprocess.Popen([sys.executable, "-c", MULTIWORKER_SCRIPT, json.dumps(settings), str(out)],
                                        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = [w.communicate(timeout=600) for w in workers]
    for worker, (stdout, stderr) in zip(workers, results):
        assert worker.returncode == 0, stderr[-3000:]
        assert "EPOCHS 1" in stdout
    assert (tmp_path / "worker0" / "model_int8.tflite").is_file()  # the chief's run folder
    assert not (tmp_path / "worker1").exists()  # the other worker wrote nothing of its own


def test_learning_curve_points_and_real_speaker_share(tiny_real, tmp_path):
    from kws.training.data import real_split
    from kws.training.learning_curve import curve_points, plot_curve

    config = tiny_config(tiny_real, tmp_path)
    points = curve_points(config)
    assert set(points) == {"real0.25_synth1", "real0.5_synth1", "real0.75_synth1", "real1_synth1",
                           "real1_synth0", "real1_synth0.5", "real1_synth2"}
    assert not points["real1_synth0"].use_synthetic
    assert points["real1_synth2"].synthetic_per_keyword == 2 * config.synthetic_per_keyword
    speakers = {share: {r.speaker for r in real_split(dataclasses.replace(config, real_speaker_share=share))[0]}
                for share in (0.25, 0.5, 1.0)}
    validation = {share: real_split(dataclasses.replace(config, real_speaker_share=share))[1] for share in (0.25, 1.0)}
    assert speakers[0.25] < speakers[0.5] < speakers[1.0]  # nested: more data only adds speakers
    assert validation[0.25] == validation[1.0]
    results = {name: {"mean": 0.8, "std": 0.01} for name in points}
    plot_curve(results, tmp_path / "curve.png", 5)
    assert (tmp_path / "curve.png").read_bytes()[:4] == b"\x89PNG"


def test_mixup_blends_inputs_and_labels_alike_and_is_off_at_zero():
    from kws.training.loop import mixup

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 49, 10)).astype(np.float32)
    y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 64)]
    same_x, same_y = mixup(x, y, 0.0, rng)
    assert same_x is x and same_y is y  # off: the epoch is untouched (and no random draw is spent)
    mixed_x, mixed_y = mixup(x, y, 0.4, np.random.default_rng(1))
    assert mixed_x.shape == x.shape and mixed_x.dtype == x.dtype
    np.testing.assert_allclose(mixed_y.sum(axis=1), 1.0, rtol=1e-6)  # still a distribution
    own = (mixed_y * y).sum(axis=1)
    assert np.all(own >= 0.5 - 1e-6)  # every example keeps the larger share of its own label
    assert np.any(own < 0.99)  # and some are really blended
    # inputs that carry their own label are blended into exactly the blended label: same partner, same weight
    x_is_label = np.repeat(y[:, None, :], 3, axis=1)
    mixed_x, mixed_y = mixup(x_is_label, y, 0.4, np.random.default_rng(2))
    np.testing.assert_allclose(mixed_x, np.repeat(mixed_y[:, None, :], 3, axis=1), rtol=1e-6)


def test_learning_curve_on_some_folds_keeps_a_copied_baseline_point(tmp_path, monkeypatch):
    import kws.training.cv as cv
    from kws.training.learning_curve import run_learning_curve

    calls = []

    def fake_cross_validation(point, folder, n_folds, *, resume, only_folds, log):
        calls.append((folder.name, only_folds, resume))
        return {"folds_run": only_folds, "int8_accuracy": {"mean": 0.9, "std": 0.01}}

    monkeypatch.setattr(cv, "run_cross_validation", fake_cross_validation)
    baseline = tmp_path / "lc" / "real1_synth1"
    baseline.mkdir(parents=True)
    (baseline / cv.CV_FILE).write_text(json.dumps({"folds_run": [0, 1], "int8_accuracy": {"mean": 0.88, "std": 0.02}}))
    results = run_learning_curve(TrainConfig(), tmp_path / "lc", 5, resume=True, only_folds=[1, 0], log=lambda _: None)
    assert "real1_synth1" not in [name for name, _, _ in calls]  # the finished point is read, not retrained
    assert all(only == [0, 1] for _, only, _ in calls)
    assert results["real1_synth1"]["mean"] == 0.88 and len(results) == 7
    saved = json.loads((tmp_path / "lc" / "learning_curve.json").read_text())
    assert saved["folds_run"] == [0, 1] and (tmp_path / "lc" / "learning_curve.png").is_file()
    # a point finished on other folds is not taken for this curve
    (baseline / cv.CV_FILE).write_text(json.dumps({"folds_run": [2, 3], "int8_accuracy": {"mean": 0.5, "std": 0}}))
    calls.clear()
    run_learning_curve(TrainConfig(), tmp_path / "lc", 5, resume=True, only_folds=[0, 1], log=lambda _: None)
    assert "real1_synth1" in [name for name, _, _ in calls]


def test_distilled_targets_blend_labels_with_the_tempered_teacher():
    import keras

    from kws.training.loop import taught_epoch, teacher_distribution

    # a "teacher" that always says 0.7 / 0.2 / 0.1
    inputs = keras.Input((4,))
    teacher = keras.Model(inputs, keras.layers.Lambda(
        lambda x: keras.ops.zeros_like(x[:, :3]) + keras.ops.convert_to_tensor([0.7, 0.2, 0.1]))(inputs))
    y = np.eye(3, dtype=np.float32)[[1, 2]]
    x = np.zeros((2, 4), np.float32)
    plain = teacher_distribution(teacher, x, temperature=1.0)
    np.testing.assert_allclose(plain, [[0.7, 0.2, 0.1]] * 2, rtol=1e-5)  # T = 1: the teacher as it is
    soft = teacher_distribution(teacher, x, temperature=2.0)
    expected = np.sqrt([0.7, 0.2, 0.1]) / np.sqrt([0.7, 0.2, 0.1]).sum()
    np.testing.assert_allclose(soft[0], expected, rtol=1e-5)  # T = 2: flatter, same order
    config = TrainConfig(distillation_weight=0.5, distillation_temperature=2.0)
    _, half = taught_epoch(teacher, x, y, None, config, np.random.default_rng(0))  # no unlabelled: order kept
    np.testing.assert_allclose(half, 0.5 * y + 0.5 * soft, rtol=1e-5)
    np.testing.assert_allclose(half.sum(axis=1), 1.0, rtol=1e-6)


def test_distillation_trains_a_teacher_first_and_learns_unlabelled_speech(tiny_real, tmp_path, speech_commands_dir,
                                                                         monkeypatch):
    import kws.training.loop as loop
    from kws.audio import read_audio, write_wav
    from kws.training.train import TEACHER_FILE, run_training

    # two "speakers" of continuous speech: 4 s of real clips back to back each
    speech = tmp_path / "speech"
    clips = sorted((speech_commands_dir / "_unknown_").glob("*.wav"))[:8]
    for i, speaker in enumerate(("spk_a", "spk_b")):
        pcm = np.concatenate([read_audio(path) for path in clips[4 * i : 4 * i + 4]])
        write_wav(speech / speaker / "talk.wav", pcm)
    seen = []
    teacher = {"architecture": "tc_resnet", "model": {"width_multiplier": 0.5}, "epochs": 1}
    original = loop.taught_epoch

    def recording(teacher_model, x, y_onehot, x_unlabelled, config, rng):
        seen.append((len(x), 0 if x_unlabelled is None else len(x_unlabelled)))
        return original(teacher_model, x, y_onehot, x_unlabelled, config, rng)

    monkeypatch.setattr(loop, "taught_epoch", recording)
    lines = []
    config = tiny_config(tiny_real, tmp_path, epochs=1, teacher=teacher, unlabelled_speech=(str(speech),),
                         unlabelled_share=0.25)
    metrics = run_training(config, tmp_path / "run", log=lines.append)
    assert (tmp_path / "run" / TEACHER_FILE).is_file()
    assert any(line.startswith("teacher: tc_resnet") for line in lines)
    # 2 speakers x 4 s, a 1 s window every 0.5 s: 7 windows each, clean + 1 augmented copy
    assert any(line.startswith("unlabelled: 28 examples (14 windows") for line in lines)
    labelled = 24 * len(LABELS)
    # the student's epoch: its labelled examples and a quarter more of unlabelled windows, both taught
    assert seen == [(labelled, labelled // 4)]
    assert metrics["teacher"]["architecture"] == "tc_resnet" and 0 <= metrics["teacher"]["float_val_accuracy"] <= 1
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["teacher"]["epochs"] == 1
    assert (tmp_path / "run" / "model_int8.tflite").is_file()  # the student is what ships


def softmax_teacher(n_inputs: int, n_classes: int):
    """A "teacher" whose probabilities are the softmax of its input's first ``n_classes`` values."""
    import keras

    inputs = keras.Input((n_inputs,))
    return keras.Model(inputs, keras.layers.Softmax()(keras.layers.Lambda(lambda x: x[:, :n_classes])(inputs)))


def test_taught_epoch_labels_from_teacher_and_labels_and_unlabelled_from_teacher_alone():
    from kws.training.loop import taught_epoch

    rng = np.random.default_rng(0)
    teacher = softmax_teacher(4, 3)
    x = rng.normal(size=(6, 4)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[[0, 1, 2, 0, 1, 2]]
    x_more = rng.normal(size=(3, 4)).astype(np.float32)
    config = TrainConfig(distillation_weight=0.5, distillation_temperature=1.0)
    x_out, targets = taught_epoch(teacher, x, y, x_more, config, np.random.default_rng(1))
    every = np.concatenate([x, x_more])
    source = [int(np.flatnonzero((every == row).all(axis=1))[0]) for row in x_out]
    assert sorted(source) == list(range(len(every)))  # every example once, shuffled
    taught = np.asarray(teacher(x_out, training=False))
    for k, i in enumerate(source):
        expected = 0.5 * y[i] + 0.5 * taught[k] if i < len(x) else taught[k]
        np.testing.assert_allclose(targets[k], expected, rtol=1e-5, atol=1e-6)


def test_taught_epoch_with_mixup_has_the_teacher_label_the_blend():
    from kws.training.loop import taught_epoch

    rng = np.random.default_rng(0)
    teacher = softmax_teacher(4, 3)
    x = rng.normal(size=(40, 4)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 40)]
    config = TrainConfig(distillation_weight=1.0, distillation_temperature=1.0, mixup_alpha=0.4)
    x_out, targets = taught_epoch(teacher, x, y, None, config, np.random.default_rng(1))
    assert not any(np.array_equal(row, original) for row in x_out[:5] for original in x)  # blended inputs
    # weight 1: the target is the teacher's answer on the blend itself, not a blend of its two answers
    np.testing.assert_allclose(targets, np.asarray(teacher(x_out, training=False)), rtol=1e-5, atol=1e-6)
    half = TrainConfig(distillation_weight=0.5, distillation_temperature=1.0, mixup_alpha=0.4)
    _, targets = taught_epoch(teacher, x, y, rng.normal(size=(10, 4)).astype(np.float32), half,
                              np.random.default_rng(2))
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, rtol=1e-6)  # labelled/unlabelled blends stay distributions


@pytest.mark.parametrize("hop_ms, windows", [(500, 7), (250, 13)])
def test_unlabelled_windows_start_every_hop(tmp_path, hop_ms, windows):
    from kws.audio import write_wav
    from kws.config import FrontendConfig
    from kws.training.train import unlabelled_examples

    rng = np.random.default_rng(0)
    write_wav(tmp_path / "speech" / "spk_a" / "talk.wav", (rng.normal(size=4 * 16000) * 3000).astype(np.int16))
    config = TrainConfig(teacher={"models": ["unused/{split}/model.keras"]},
                         unlabelled_speech=(str(tmp_path / "speech"),), unlabelled_hop_ms=hop_ms, cache_dir=str(tmp_path / "cache"), jobs=1)
    lines = []
    examples = unlabelled_examples(config, FrontendConfig(), [], lines.append)
    assert len(examples.labels) == 2 * windows and (examples.labels == -1).all()  # clean + 1 augmented copy
    assert f"({windows} windows" in lines[0]


def test_unlabelled_speech_needs_a_teacher(tiny_real, tmp_path):
    with pytest.raises(ConfigError, match="needs a teacher"):
        tiny_config(tiny_real, tmp_path, unlabelled_speech=("speech/speechocean762",))


@pytest.mark.parametrize("teacher, message", [({"model": {}}, "architecture"),
                                              ({"architecture": "tc_resnet", "width": 2}, "teacher takes"),
                                              ({"architecture": "nope"}, "unknown model architecture")])
def test_bad_teacher_fails_before_any_work(tiny_real, tmp_path, teacher, message):
    from kws.training.train import run_training

    with pytest.raises(ConfigError, match=message):
        run_training(tiny_config(tiny_real, tmp_path, teacher=teacher), tmp_path / "run", log=lambda s: None)
    assert not (tmp_path / "run").exists()


def test_ensemble_teacher_is_the_mean_of_its_members(tmp_path):
    import keras

    from kws.training.models import build_model
    from kws.training.train import ensemble_teacher

    paths = []
    for seed in (1, 2):
        keras.utils.set_random_seed(seed)
        model = build_model("tiny_conv", (49, 10), 4)
        paths.append(tmp_path / f"m{seed}" / "model.keras")
        paths[-1].parent.mkdir()
        model.save(paths[-1])
    x = np.random.default_rng(0).normal(size=(5, 49, 10)).astype(np.float32)
    members = [keras.models.load_model(p) for p in paths]
    expected = np.mean([np.asarray(m(x, training=False)) for m in members], axis=0)
    assert not np.allclose(np.asarray(members[0](x)), np.asarray(members[1](x)))
    teacher = ensemble_teacher(paths, log=lambda s: None)
    np.testing.assert_allclose(np.asarray(teacher(x, training=False)), expected, rtol=1e-5, atol=1e-6)


def test_trained_models_teach_only_a_run_that_holds_out_their_speakers(tiny_real, tmp_path):
    from kws.training.train import run_training

    member = tiny_config(tiny_real, tmp_path, epochs=1, folds=2, fold=0)
    member_metrics = run_training(member, tmp_path / "cv" / "fold0", log=lambda s: None)
    teacher = {"models": [str(tmp_path / "cv" / "{split}" / "model.keras")] * 2}
    lines = []
    student = tiny_config(tiny_real, tmp_path, epochs=1, folds=2, fold=0, teacher=teacher, seed=1)
    metrics = run_training(student, tmp_path / "student", log=lines.append)
    assert any(line.startswith("teacher: the mean of 2 trained models") for line in lines)
    # the mean of one model twice is that model: its float validation accuracy
    assert metrics["teacher"]["float_val_accuracy"] == pytest.approx(member_metrics["float_val_accuracy"], abs=1e-4)
    assert (tmp_path / "student" / "model_int8.tflite").is_file()

    # fold 1 validates on the speakers the fold-0 model trained on: refused before any work
    with pytest.raises(ConfigError, match="fold = 0, this run has 1"):
        run_training(dataclasses.replace(student, fold=1, teacher={"models": [str(tmp_path / "cv" / "fold0" / "model.keras")]}),
                     tmp_path / "leaky", log=lambda s: None)
    assert not (tmp_path / "leaky").exists()
    (tmp_path / "cv" / "fold0" / "train_config.json").unlink()
    with pytest.raises(ConfigError, match="train_config.json: not found"):
        run_training(student, tmp_path / "unknown_split", log=lambda s: None)
    with pytest.raises(ConfigError, match="teacher model not found"):
        run_training(dataclasses.replace(student, teacher={"models": [str(tmp_path / "nowhere.keras")]}),
                     tmp_path / "missing", log=lambda s: None)


@pytest.mark.parametrize("teacher", [{"models": []}, {"models": ["a.keras"], "epochs": 3}, {"models": [""]}])
def test_bad_teacher_models_list_is_a_config_error(tiny_real, tmp_path, teacher):
    with pytest.raises(ConfigError, match="teacher"):
        tiny_config(tiny_real, tmp_path, teacher=teacher)


def test_split_name_says_which_speakers_a_run_trains_on(tiny_real, tmp_path):
    from kws.training.train import split_name

    assert split_name(tiny_config(tiny_real, tmp_path, folds=5, fold=3)) == "fold3"
    assert split_name(tiny_config(tiny_real, tmp_path, all_speakers=True)) == "all"
    assert split_name(tiny_config(tiny_real, tmp_path)) == "split"


def test_shipped_model_never_hears_the_speech_that_calibrates_and_evaluates_its_detector():
    import os
    import subprocess

    from kws.datasets.paths import data_root

    repo = Path(__file__).resolve().parents[1]
    speech = data_root() / "speech" / "speechocean762"
    if not speech.is_dir():
        pytest.skip(f"{speech}: the shared speech is not here")
    shell = ('source scripts/stream_splits.sh; echo "${TRAIN_SPEECH[*]}"; echo "${CAL_SPEECH[*]}"; '
             'echo "${EVAL_SPEECH[*]}"')
    lines = subprocess.run(["bash", "-c", shell], cwd=repo, check=True, capture_output=True, text=True,
                           env={**os.environ, "KWS_DATA": str(data_root())}).stdout.splitlines()
    train, calibration, evaluation = (set(line.split()) for line in lines)
    recipe = load_train_config(repo / "training" / "configs" / "commands.toml")
    assert set(recipe.unlabelled_speakers) == train  # the student's unlabelled speech...
    assert not train & calibration and not train & evaluation and not calibration & evaluation  # ...is never reused
    assert train | calibration | evaluation == {p.name for p in speech.iterdir() if p.is_dir()}
    assert len(calibration) >= 10 and len(evaluation) >= 10


def test_unlabelled_speakers_pick_speaker_folders_and_a_missing_one_is_named(tiny_real, tmp_path):
    from kws.audio import write_wav
    from kws.config import FrontendConfig
    from kws.errors import DataError
    from kws.training.train import unlabelled_examples

    speech = tmp_path / "speech"
    for speaker in ["A", "B"]:  # 2 s of a tone each: the same number of windows per speaker
        write_wav(speech / speaker / "one.wav", (3000 * np.sin(np.arange(32000) * 0.05)).astype(np.int16))
    with pytest.raises(ConfigError, match="unlabelled_speakers names speakers of unlabelled_speech"):
        tiny_config(tiny_real, tmp_path, unlabelled_speakers=("A",))
    teacher = {"architecture": "tiny_conv"}
    both = tiny_config(tiny_real, tmp_path, teacher=teacher, unlabelled_speech=(str(speech),))
    one = dataclasses.replace(both, unlabelled_speakers=("B",))
    windows = {config.unlabelled_speakers: len(unlabelled_examples(config, FrontendConfig(), [], lambda line: None).labels)
               for config in (both, one)}
    assert windows[("B",)] * 2 == windows[()] > 0
    with pytest.raises(DataError, match=r"unlabelled_speakers \['C'\] not found"):
        unlabelled_examples(dataclasses.replace(both, unlabelled_speakers=("B", "C")), FrontendConfig(), [], print)
