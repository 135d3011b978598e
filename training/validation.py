"""Validation that training never touched: held-out speakers, held-out noise recordings.

A run validates on
* the real clips of its held-out speakers (one fold of a speaker cross-validation, or a
  speaker-disjoint share), plus ``_silence_`` cut from noise recordings training did not use;
* the same speech clips mixed with held-out recordings at fixed SNRs (measured over the whole
  1 s clip), so robustness is measured, not hoped for;
* 1 s windows of held-out ambience at -50 .. -20 dBFS RMS: the share called a keyword is how often
  the device would answer the rain.

Everything is deterministic under the run's seed.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from kws.audio import float_to_int16
from kws.config import FrontendConfig
from kws.decision import decide, keyword_mask, probability_to_score_int8
from kws.frontend import compute_features_many
from kws.model import KwsModel
from kws.training.augment import scale_to_rms_dbfs
from kws.training.config import TrainConfig

#: RMS range (dBFS) of the ambience windows: quiet room to loud cafe.
AMBIENCE_RMS_DBFS = (-50.0, -20.0)


def noise_split(config: TrainConfig) -> tuple[list[str], list[str]]:
    """(training, held-out) noise recording names (``folder/file``) of this run."""
    from kws.datasets.noise import noise_folds, noise_recording_names

    names = noise_recording_names(config.noise_folders)
    if not config.noise_folds:
        return names, []
    held_fold = config.fold % config.noise_folds
    folds = noise_folds(names, config.noise_folds, salt=config.split_salt)
    return [n for n in names if folds[n] != held_fold], [n for n in names if folds[n] == held_fold]


def mix_whole_clip_snr(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """int16 speech + float noise scaled so power(speech) / power(noise) over the clip is ``snr_db``."""
    speech_f = speech.astype(np.float64) / 32768.0
    speech_power = float(np.mean(speech_f**2))
    noise_power = float(np.mean(noise.astype(np.float64) ** 2))
    scale = 0.0 if noise_power == 0 else np.sqrt(speech_power / (noise_power * 10.0 ** (snr_db / 10.0)))
    return float_to_int16(np.clip(speech_f + scale * noise, -1.0, 1.0))


@dataclasses.dataclass
class HeldOutAudio:
    """The audio-made validation sets of a run (int16 PCM clips of one window)."""

    silence: list[np.ndarray]
    ambience: list[np.ndarray]
    noise_names: list[str]
    bank: object | None = None
    """NoiseBank of the held-out recordings (loaded once; the noisy-speech sets cut from it too)."""


def held_out_audio(config: TrainConfig, frontend: FrontendConfig) -> HeldOutAudio:
    """``_silence_`` and ambience windows cut from the held-out noise recordings."""
    from kws.datasets.noise import NoiseBank, load_noise_recordings, make_silence_clip

    _, held = noise_split(config)
    if not held or (config.validation_silence <= 0 and config.ambience_windows <= 0 and not config.noisy_snr_db):
        return HeldOutAudio([], [], held)
    bank = NoiseBank(load_noise_recordings(held, sample_rate=frontend.sample_rate_hz))
    rng = np.random.default_rng([config.seed, 7001])
    duration_s = frontend.clip_duration_ms / 1000
    silence = [make_silence_clip(bank, rng, duration_s=duration_s) for _ in range(config.validation_silence)]
    ambience = []
    for _ in range(config.ambience_windows):
        window = bank.sample(frontend.clip_samples, rng).astype(np.float64)
        ambience.append(float_to_int16(scale_to_rms_dbfs(window, rng.uniform(*AMBIENCE_RMS_DBFS))))
    return HeldOutAudio(silence, ambience, held, bank)


def noisy_copies(speech: list[np.ndarray], audio: HeldOutAudio, config: TrainConfig, snr_db: float) -> list[np.ndarray]:
    """Each clip mixed with a held-out noise segment at ``snr_db`` (deterministic per SNR)."""
    bank = audio.bank
    rng = np.random.default_rng([config.seed, 7002, int(round(snr_db * 10)) % 100000])
    return [mix_whole_clip_snr(clip, bank.sample(clip.size, rng), snr_db) for clip in speech]


def validation_speech(records, config: TrainConfig, frontend: FrontendConfig) -> tuple[list[np.ndarray], np.ndarray]:
    """PCM clips (one window each, the evaluation rule) and label indices of the validation speech records."""
    from kws.audio import read_audio
    from kws.clips import fit_to_clip

    index = {label: i for i, label in enumerate(config.labels)}
    speech = [r for r in records if r.label != "_silence_"]
    clips = [fit_to_clip(read_audio(r.path, frontend.sample_rate_hz), frontend.clip_samples) for r in speech]
    return clips, np.array([index[r.label] for r in speech], dtype=np.int64)


def held_out_scores(model: KwsModel, speech: list[np.ndarray], speech_labels: np.ndarray, audio: HeldOutAudio,
                    config: TrainConfig, frontend: FrontendConfig) -> dict[str, np.ndarray]:
    """int8 scores of every held-out set, with what it takes to decide them at any threshold.

    Keys: ``labels``, ``speech_labels``, ``output_scale``, ``output_zero_point`` and ``scores_clean``,
    ``scores_silence``, ``scores_ambience``, ``scores_snr_<dB>`` (``[n, n_classes]`` int8): the form a CV
    fold stores (:mod:`kws.training.rejection`)."""

    def scores(clips: list[np.ndarray]) -> np.ndarray:
        if not clips:
            return np.zeros((0, model.n_classes), np.int8)
        return model.scores_batch(np.stack(compute_features_many(clips, frontend)))

    out = {"labels": np.array(model.labels), "speech_labels": np.asarray(speech_labels, np.int64),
           "output_scale": model.output_scale, "output_zero_point": model.output_zero_point,
           "scores_clean": scores(speech), "scores_silence": scores(audio.silence),
           "scores_ambience": scores(audio.ambience)}
    if speech:
        for snr in config.noisy_snr_db:
            out[f"scores_snr_{snr:g}"] = scores(noisy_copies(speech, audio, config, snr))
    return out


def decided(scores: dict, key: str, probability: float) -> np.ndarray:
    """Decided label indices of one held-out set at a minimum keyword probability (0 = argmax)."""
    minimum = None if probability <= 0 else probability_to_score_int8(
        probability, float(scores["output_scale"]), int(scores["output_zero_point"]))
    return decide(scores[key], keyword_mask(list(scores["labels"])), minimum)


def held_out_figures(scores: dict, probability: float) -> dict[str, float]:
    """Accuracy (speech + held-out silence), speech accuracy clean / per SNR, ambience false-command rate,
    at a minimum keyword probability (0 = argmax); sets that are empty give no figure."""
    labels = list(scores["labels"])
    truth = scores["speech_labels"]
    correct = []
    if len(truth):
        correct.append(decided(scores, "scores_clean", probability) == truth)
    if len(scores["scores_silence"]):
        correct.append(decided(scores, "scores_silence", probability) == labels.index("_silence_"))
    out = {"accuracy": float(np.concatenate(correct).mean())} if correct else {}
    if len(truth):
        out["speech_clean_accuracy"] = float(correct[0].mean())
        snr_keys = sorted((k for k in scores if k.startswith("scores_snr_")),
                          key=lambda k: -float(k.removeprefix("scores_snr_")))
        for key in snr_keys:
            out[f"speech_{key.removeprefix('scores_')}db_accuracy"] = float(
                (decided(scores, key, probability) == truth).mean())
    if len(scores["scores_ambience"]):
        out["ambience_false_command_rate"] = float(keyword_mask(labels)[decided(scores, "scores_ambience",
                                                                                probability)].mean())
    return out


def robustness_from_scores(scores: dict, audio: HeldOutAudio, probability: float) -> dict:
    """A run's ``robustness`` metrics from its held-out scores, decided with the model's rule."""
    figures = held_out_figures(scores, probability)
    out: dict = {"noise_held_out": audio.noise_names}
    out.update({k: round(v, 4) for k, v in figures.items() if k.startswith("speech_")})
    if len(scores["scores_ambience"]):
        labels = list(scores["labels"])
        predicted = decided(scores, "scores_ambience", probability)
        called = keyword_mask(labels)[predicted]
        out["ambience_windows"] = len(predicted)
        out["ambience_false_command_rate"] = round(figures["ambience_false_command_rate"], 4)
        out["ambience_false_commands_by_label"] = {labels[i]: int(np.sum(predicted[called] == i))
                                                   for i in np.unique(predicted[called])}
    return out


def robustness_metrics(model: KwsModel, speech: list[np.ndarray], speech_labels: np.ndarray,
                       audio: HeldOutAudio, config: TrainConfig, frontend: FrontendConfig) -> dict:
    """int8 accuracy of the validation speech clean and at each SNR, and false commands on ambience."""
    scores = held_out_scores(model, speech, speech_labels, audio, config, frontend)
    return robustness_from_scores(scores, audio, model.min_keyword_probability)
