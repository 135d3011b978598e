"""kws eval-stream and kws calibrate on small streams built from the bundled clips."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from kws.cli import main
from kws.detector import read_detector_config
from kws.stream_eval import Placed, match

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "kws" / "data" / "demo"


@pytest.fixture
def folders(tmp_path):
    positives = tmp_path / "pos"
    for label in ("yes", "go", "on", "_unknown_"):
        (positives / label).mkdir(parents=True)
        for wav in (DEMO / label).glob("*.wav"):
            shutil.copy(wav, positives / label / wav.name)
    (positives / "yes" / "broken.wav").write_bytes(b"RIFF\x00\x00")
    negatives = tmp_path / "neg"
    negatives.mkdir()
    rng = np.random.default_rng(0)
    sf.write(negatives / "noise.flac", (rng.standard_normal(48000 * 20) * 0.02).astype(np.float32), 48000)
    return positives, negatives


def test_eval_stream_reports_and_writes_json_and_plot(folders, tmp_path, capsys):
    positives, negatives = folders
    out, png = tmp_path / "r.json", tmp_path / "det.png"
    assert main(["eval-stream", "commands", "--positives", str(positives), "--negatives", str(negatives),
                 "--snr-db", "10", "--json", str(out), "--plot", str(png)]) == 0
    text = capsys.readouterr().out
    assert "broken.wav" in text and "skipped folder _unknown_/" in text
    result = json.loads(out.read_text())
    for key in ("false_reject_rate", "false_accepts_per_hour", "threshold", "hours_negative", "n_positive",
                "per_label", "curve"):
        assert key in result
    assert result["n_positive"] == 3
    assert result["hours_negative"] == pytest.approx(20 / 3600, rel=1e-3)
    assert set(result["per_label"]) >= {"yes", "go", "on"}
    frr = [row[1] for row in result["curve"]]
    assert frr == sorted(frr)  # a higher common threshold never finds more
    assert png.stat().st_size > 1000
    # deterministic: the same seed gives the same figures
    assert main(["eval-stream", "commands", "--positives", str(positives), "--negatives", str(negatives),
                 "--snr-db", "10", "--json", str(tmp_path / "r2.json")]) == 0
    assert json.loads((tmp_path / "r2.json").read_text())["curve"] == result["curve"]


def test_eval_stream_keyword_folder_and_bad_negatives(folders, tmp_path, capsys):
    positives, negatives = folders
    assert main(["eval-stream", "commands", "--positives", str(positives / "go"), "--keyword", "go",
                 "--negatives", str(negatives), "--json", str(tmp_path / "r.json")]) == 0
    assert json.loads((tmp_path / "r.json").read_text())["n_positive"] == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no audio here")
    assert main(["eval-stream", "commands", "--positives", str(positives), "--negatives", str(empty)]) == 1
    assert f"{empty}: no audio files" in capsys.readouterr().err


def test_matching_rules():
    placed = [Placed("yes", 3.0, 4.0, "a"), Placed("no", 9.0, 10.0, "b")]
    labels = ("_silence_", "_unknown_", "yes", "no")
    hit, false = match([(4.5, 2), (4.9, 2), (10.9, 3), (20.0, 3), (9.5, 2)], placed, labels, 1.0)
    assert hit.tolist() == [True, True]
    assert false == [2, 3, 2]  # a second hit on the same clip, a detection far from any clip, a wrong label


def test_calibrate_writes_thresholds(folders, tmp_path, capsys):
    _, negatives = folders
    out = tmp_path / "detector.json"
    assert main(["calibrate", "commands", "--negatives", str(negatives), "--out", str(out)]) == 0
    config = read_detector_config(out)
    thresholds = dict(config.thresholds_int8)
    assert set(thresholds) == {"yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"}
    assert all(0 <= value <= 128 for value in thresholds.values())
    assert json.loads(out.read_text())["calibration"]["target_false_accepts_per_hour"] == 0.5


def test_clean_positives_replace_the_background_and_mixed_ones_add_to_it():
    from kws.stream_eval import Background, positive_stream

    clip = np.full(1000, 1000, np.int16)
    background = np.full(50_000, 300, np.int16)
    streams = {}
    for name, kwargs in {"clean": {"clean": True}, "mixed": {}, "snr": {"snr_db": 0.0}}.items():
        placed = []
        blocks = list(positive_stream([clip], ["yes"], ["a.wav"], Background([background]), 16000, seed=0,
                                      gap_s=(0.5, 0.5), placed=placed, **{"snr_db": None, **kwargs}))
        pcm = np.concatenate(blocks)
        start = int(placed[0].start_s * 16000)
        streams[name] = (pcm[:start], pcm[start:start + clip.size])
    assert np.all(streams["clean"][0] == 300) and np.all(streams["clean"][1] == 1000)  # the clip alone
    assert np.all(streams["mixed"][1] == 1300)  # recorded level on top of the background
    assert np.all(streams["snr"][1] == 600)  # scaled to the background's power, then added
    with pytest.raises(ValueError, match="clean"):
        next(positive_stream([clip], ["yes"], ["a"], Background([background]), 16000, seed=0, gap_s=(0, 0),
                             snr_db=10.0, placed=[], clean=True))


def test_eval_stream_clean_refuses_an_snr_and_is_recorded_in_the_json(folders, tmp_path, capsys):
    positives, negatives = folders
    args = ["eval-stream", "commands", "--positives", str(positives / "go"), "--keyword", "go",
            "--negatives", str(negatives)]
    assert main(args + ["--clean", "--snr-db", "10"]) == 1
    assert "exclude each other" in capsys.readouterr().err
    assert main(args + ["--clean", "--json", str(tmp_path / "r.json")]) == 0
    assert json.loads((tmp_path / "r.json").read_text())["settings"]["clean"] is True
