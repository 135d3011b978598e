"""Training features: the device front end, deterministic augmentation, a content-keyed cache."""

import numpy as np
import pytest
import soundfile as sf

from kws.datasets.manifest import ClipRecord
from kws.audio import read_audio
from kws.config import FrontendConfig
from kws.frontend import compute_features
from kws.training.augment import AugmentConfig
from kws.training.features import (FeatureJob, audio_content_hash, cache_key, featurise, jobs_for,
                               window_around_speech)


def _write_word(path, seed, seconds=1.0):
    rng = np.random.default_rng(seed)
    n = int(16000 * seconds)
    audio = 0.01 * rng.standard_normal(n)
    start = n // 3
    t = np.arange(4000) / 16000
    audio[start : start + 4000] += 0.4 * np.sin(2 * np.pi * (300 + 200 * seed) * t) * np.hanning(4000)
    sf.write(path, audio.astype(np.float32), 16000, subtype="PCM_16")


def test_window_around_speech_finds_the_loud_second():
    audio = np.zeros(48000, np.float32)
    audio[30000:34000] = 0.5
    window = window_around_speech(audio, 16000)
    assert window.size == 16000 and np.abs(window).sum() == pytest.approx(0.5 * 4000)
    short = window_around_speech(np.ones(1000, np.float32), 16000)
    assert short.size == 16000 and short[7500:8500].sum() == 1000


def test_cache_key_depends_on_every_input():
    base = cache_key("a" * 40, "f1", "aug1", 7)
    assert base == cache_key("a" * 40, "f1", "aug1", 7)
    assert len({base, cache_key("b" * 40, "f1", "aug1", 7), cache_key("a" * 40, "f2", "aug1", 7),
                cache_key("a" * 40, "f1", "aug2", 7), cache_key("a" * 40, "f1", "aug1", 8)}) == 5


def test_featurise_clean_augmented_cached_and_bad_files(tmp_path):
    paths = []
    for i in range(3):
        path = tmp_path / f"word{i}.wav"
        _write_word(path, i)
        paths.append(str(path))
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF....WAVEfmt nonsense")
    records = [ClipRecord(path=p, label="yes", speaker=f"s{i}", source="real") for i, p in enumerate(paths)]
    records.append(ClipRecord(path=str(broken), label="yes", speaker="x", source="real"))
    jobs = jobs_for(records, variants=2, seed=5)
    kwargs = dict(frontend=FrontendConfig(), augment=AugmentConfig(), cache_dir=tmp_path / "cache", noise_names=None,
                  n_jobs=1)
    result = featurise(jobs, **kwargs)
    assert result.features.shape == (9, 49, 10) and result.features.dtype == np.int8
    assert [path for path, _ in result.bad] == [str(broken)] * 3
    assert "broken.wav" in result.bad[0][0] and result.bad[0][1]

    # Variant 0 is exactly the device front end on the clip; augmented variants differ.
    np.testing.assert_array_equal(result.features[0], compute_features(read_audio(paths[0])))
    assert not np.array_equal(result.features[0], result.features[1])
    assert not np.array_equal(result.features[1], result.features[2])

    entries = sorted((tmp_path / "cache").rglob("*.npy"))
    assert len(entries) == 9
    stamps = [p.stat().st_mtime_ns for p in entries]
    again = featurise(jobs, **kwargs)
    np.testing.assert_array_equal(again.features, result.features)
    assert [p.stat().st_mtime_ns for p in entries] == stamps

    other_seed = featurise(jobs_for(records[:1], variants=1, seed=6), **kwargs)
    np.testing.assert_array_equal(other_seed.features[0], result.features[0])  # clean ignores the seed
    assert not np.array_equal(other_seed.features[1], result.features[1])


def test_content_hash_follows_bytes_not_names(tmp_path):
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    _write_word(a, 1)
    b.write_bytes(a.read_bytes())
    assert audio_content_hash(str(a)) == audio_content_hash(str(b))


def test_generated_silence_needs_noise_and_is_quiet(real_data, tmp_path):
    from kws.datasets.noise import noise_recording_names

    names = noise_recording_names(("background_noise",))
    jobs = [FeatureJob(f"silence:0:{i}", 0, 0) for i in range(4)]
    result = featurise(jobs, frontend=FrontendConfig(), augment=AugmentConfig(), cache_dir=tmp_path, noise_names=names,
                       n_jobs=1)
    assert result.features.shape == (4, 49, 10)
    no_noise = featurise(jobs[:1], frontend=FrontendConfig(), augment=AugmentConfig(), cache_dir=tmp_path / "x",
                         noise_names=None, n_jobs=1)
    assert "background noise" in no_noise.bad[0][1]


def test_dataset_summary_counts_and_png(tmp_path):
    from kws.cli import main

    for label, n in (("yes", 3), ("no", 2)):
        (tmp_path / "data" / label).mkdir(parents=True)
        for i in range(n):
            _write_word(tmp_path / "data" / label / f"spk{i}_nohash_0.wav", i)
    (tmp_path / "data" / "no" / "bad.wav").write_bytes(b"")
    png = tmp_path / "balance.png"
    assert main(["data", "summary", str(tmp_path / "data"), "--png", str(png)]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"

    from kws.datasets.folders import load_label_folders
    from kws.datasets.summary import summarise

    summary = summarise(load_label_folders(tmp_path / "data").records)
    assert summary.counts == {"yes": {"real": 3}, "no": {"real": 2}}
    assert summary.speakers == {"real": 3}
    assert summary.duration_s["real"] == pytest.approx(5.0)
    assert "total" in summary.table()
