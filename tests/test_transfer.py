"""init_from: a wake-phrase model starts from the body of a run trained on real speech."""

import dataclasses

import numpy as np
import pytest

from kws.config import FrontendConfig
from kws.errors import ConfigError

pytest.importorskip("tensorflow")
transfer = pytest.importorskip("kws.training.transfer")

CHANNELS = [8, 8, 8, 8]


def tiny_model(n_classes: int, frames: int = 49, channels=CHANNELS):
    from kws.training.models import build_model

    return build_model("tc_resnet", (frames, 10), n_classes, separable=True, channels=channels)


def saved_run(folder, n_classes: int = 12, frontend: FrontendConfig | None = None, channels=CHANNELS):
    from kws.model import write_model_config

    folder.mkdir()
    model = tiny_model(n_classes, channels=channels)
    model.save(folder / "model.keras")
    write_model_config(folder, labels=[f"w{i}" for i in range(n_classes)], frontend=frontend or FrontendConfig(),
                       architecture="tc_resnet")
    return model


def test_every_layer_but_the_classifier_is_copied(tmp_path):
    source = saved_run(tmp_path / "commands")
    model = tiny_model(3)
    copied = transfer.transfer_weights(model, transfer.check_init_run(tmp_path / "commands", FrontendConfig(),
                                                                      where="test"))
    weighted = [layer.name for layer in model.layers if layer.get_weights()]
    assert "logits" not in copied and set(weighted) - set(copied) == {"logits"}
    for name in copied:
        for mine, theirs in zip(model.get_layer(name).get_weights(), source.get_layer(name).get_weights()):
            np.testing.assert_array_equal(mine, theirs)


def test_a_longer_window_still_takes_the_convolutional_body(tmp_path):
    saved_run(tmp_path / "commands")
    path = transfer.check_init_run(tmp_path / "commands", FrontendConfig(clip_duration_ms=1500), where="test")
    assert len(transfer.transfer_weights(tiny_model(3, frames=74), path)) > 10


def test_bad_sources_are_refused_with_the_reason(tmp_path):
    with pytest.raises(ConfigError, match="no model.keras"):
        transfer.check_init_run(tmp_path / "missing", FrontendConfig(), where="init_from")
    (tmp_path / "file.toml").write_text("")
    with pytest.raises(ConfigError, match="is a file"):
        transfer.check_init_run(tmp_path / "file.toml", FrontendConfig(), where="init_from")
    saved_run(tmp_path / "mfcc13", frontend=FrontendConfig(n_mfcc=13))
    with pytest.raises(ConfigError, match="another front end.*n_mfcc"):
        transfer.check_init_run(tmp_path / "mfcc13", FrontendConfig(), where="init_from")
    saved_run(tmp_path / "wide", channels=[16, 16, 16, 16])
    path = transfer.check_init_run(tmp_path / "wide", FrontendConfig(), where="init_from")
    with pytest.raises(ConfigError, match="no layer matches"):
        transfer.transfer_weights(tiny_model(3), path)


def test_train_wakeword_refuses_a_bad_init_from_before_any_work(tmp_path):
    wakeword = pytest.importorskip("kws.training.wakeword")
    config = dataclasses.replace(wakeword.WakewordConfig(), init_from=str(tmp_path / "nothing"))
    with pytest.raises(ConfigError, match="init_from.*no model.keras"):
        wakeword.run_wakeword("alexa", config, tmp_path / "run", log=lambda line: None)
    assert not (tmp_path / "run").exists()


def test_a_start_that_heard_the_phrase_is_refused(tmp_path, monkeypatch):
    """A run whose real data held recordings of the wake phrase learnt them as _unknown_: refused, named."""
    import json

    data = tmp_path / "data"
    (data / "clips" / "alexa").mkdir(parents=True)
    (data / "commands" / "_unknown_").mkdir(parents=True)
    (data / "commands" / "_unknown_" / "marvin_0a1b_nohash_0.wav").write_bytes(b"")
    monkeypatch.setenv("KWS_DATA", str(data))
    saved_run(tmp_path / "commands")
    (tmp_path / "commands" / "train_config.json").write_text(
        json.dumps({"real_data": "commands", "extra_real": ["clips", "not_there"]}))
    with pytest.raises(ConfigError, match=r"trained on real recordings of the phrase .*clips/alexa"):
        transfer.check_init_run(tmp_path / "commands", FrontendConfig(), where="init_from", phrase_names=("alexa",))
    with pytest.raises(ConfigError, match=r"_unknown_/marvin_\*"):
        transfer.check_init_run(tmp_path / "commands", FrontendConfig(), where="init_from", phrase_names=("marvin",))
    assert transfer.check_init_run(tmp_path / "commands", FrontendConfig(), where="init_from",
                                   phrase_names=("jarvis",)).name == "model.keras"


def test_frozen_layers_keep_the_start_and_the_rest_trains(tmp_path):
    wakeword = pytest.importorskip("kws.training.wakeword")
    from kws.training.config import TrainConfig
    from kws.training.loop import compile_model

    saved_run(tmp_path / "commands")
    model = tiny_model(3)
    copied = transfer.transfer_weights(model, tmp_path / "commands" / "model.keras")
    frozen = wakeword.freeze_layers(model, copied, ("conv0", "block1a"))
    assert "conv0" in frozen and all(n.startswith(("conv0", "block1a")) for n in frozen)
    compile_model(model, TrainConfig(learning_rate=0.05), steps_per_epoch=4)
    before = {layer.name: [w.copy() for w in layer.get_weights()] for layer in model.layers if layer.get_weights()}
    rng = np.random.default_rng(0)
    model.fit(rng.normal(size=(32, 49, 10)).astype("float32"), np.eye(3)[rng.integers(0, 3, 32)], epochs=1,
              batch_size=8, verbose=0)
    for name, weights in before.items():
        changed = any(not np.array_equal(a, b) for a, b in zip(weights, model.get_layer(name).get_weights()))
        assert changed == (name not in frozen), name
    with pytest.raises(ConfigError, match="init_frozen: 'block9' matches no layer"):
        wakeword.freeze_layers(tiny_model(3), copied, ("block9",))
    with pytest.raises(ConfigError, match="init_frozen needs init_from"):
        wakeword.WakewordConfig(init_frozen=("conv0",))
