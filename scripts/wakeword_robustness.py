#!/usr/bin/env python3
"""FRR of a wake-word run by SNR and by reverberation, one PNG (and JSON) per run.

The real wake-word clips, each brought to -26 dBFS RMS (so only the condition changes, not the
talker's level), are placed 1-3 s apart, at the run's stored detector thresholds:
  * SNR: clean (over digital silence), then 20, 10, 5, 0 dB: the run's *report* speech and
    ambience (``RUN/splits.json``: audio the run never trained, selected or calibrated on) is
    scaled under each clip to that SNR (powers over the clip's span);
  * reverberation: each clip convolved with an exponentially decaying room response of RT60
    0.2 / 0.4 / 0.6 / 0.8 s (direct-to-reverberant 0 dB, seeded), over digital silence.
Usage: .venv/bin/python scripts/wakeword_robustness.py RUN KEYWORD [--data DIR] [--out DIR] [--limit N]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SNRS_DB = [None, 20.0, 10.0, 5.0, 0.0]
CLIP_RMS_DBFS = -26.0
RT60S_S = [0.0, 0.2, 0.4, 0.6, 0.8]


def reverberant(clips: list[np.ndarray], rt60_s: float, rate: int, seed: int) -> list[np.ndarray]:
    from kws.training.augment import exponential_decay_rir, reverberate

    rng = np.random.default_rng(seed)
    out = []
    for clip in clips:
        rir = exponential_decay_rir(rt60_s, rate, rng, direct_to_reverb_db=0.0)
        wet = reverberate(clip.astype(np.float32) / 32768.0, rir, max_peak=0.99)
        # keep the clip's level: reverberation adds energy, the talker did not get louder
        out.append(np.clip(np.round(wet * 32768.0), -32768, 32767).astype(np.int16))  # at_level() sets the level
    return out


def at_level(clip: np.ndarray, rms_dbfs: float = CLIP_RMS_DBFS) -> np.ndarray:
    x = clip.astype(np.float64)
    rms = np.sqrt(np.mean(x * x))
    return x * (32768.0 * 10 ** (rms_dbfs / 20) / rms) if rms > 0 else x


def condition_stream(clips: list[np.ndarray], label: str, background, snr_db: float | None, rate: int,
                     placed: list):
    """Blocks of silence/background with each clip (at CLIP_RMS_DBFS) inside; the background under a clip
    is scaled to ``snr_db`` (None: digital silence)."""
    from kws.stream_eval import Placed

    rng = np.random.default_rng(0)
    t = 0
    for i, clip in enumerate(clips):
        gap = int(rng.uniform(1.0, 3.0) * rate)
        signal = at_level(clip)
        if snr_db is None:
            segment = np.zeros(gap + clip.size)
        else:
            segment = background.take(gap + clip.size).astype(np.float64)
            p_noise = np.mean(segment[gap:] ** 2)
            p_signal = np.mean(signal ** 2)
            segment *= np.sqrt(p_signal / p_noise * 10 ** (-snr_db / 10)) if p_noise > 0 else 0.0
        segment[gap:] += signal
        placed.append(Placed(label, (t + gap) / rate, (t + gap + clip.size) / rate, str(i)))
        t += segment.size
        yield np.clip(np.round(segment), -32768, 32767).astype(np.int16)


def main() -> int:
    from kws.detector import model_detector_config
    from kws.frontend.native import streaming_frontend
    from kws.model import KwsModel
    from kws.model_native import fastest_model
    from kws.stream_eval import (Background, decode_positives, keyword_thresholds, positive_files, read_negatives,
                                 record, spread, summarise)

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run")
    parser.add_argument("keyword")
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "real"))
    parser.add_argument("--out", default=None, help="folder for robustness.png / robustness.json (default RUN)")
    parser.add_argument("--limit", type=int, default=None, help="at most N positive clips (evenly spread)")
    args = parser.parse_args()
    run, out = Path(args.run), Path(args.out or args.run)
    out.mkdir(parents=True, exist_ok=True)
    model, _ = fastest_model(KwsModel.load(run))
    config = model_detector_config(model.source)
    rate = model.frontend.sample_rate_hz
    splits = json.loads((run / "splits.json").read_text())
    negatives, bad = read_negatives([Path(p) for p in splits["speech"]["report"] + splits["ambience"]["report"]], rate)
    pairs, _ = positive_files(Path(args.data) / "wakeword_clips" / args.keyword, model, config, args.keyword)
    clips, _, _, bad_pos = decode_positives(spread(pairs, args.limit), rate)
    thresholds = keyword_thresholds(model, config)
    frontend, _ = streaming_frontend(model.frontend)
    # summarise() also counts false accepts on a negative stream; FRR alone is wanted here: 1 s of silence
    no_negatives = record(model, config, iter([np.zeros(rate, np.int16)]), frontend=frontend)

    def frr(clip_list: list[np.ndarray], snr_db: float | None) -> float:
        placed = []
        frontend.reset()
        positive = record(model, config, condition_stream(clip_list, args.keyword, Background(negatives), snr_db, rate,
                                                          placed), frontend=frontend)
        return float(summarise(model, config, thresholds, positive, placed, no_negatives, 1.0)["false_reject_rate"])

    by_snr = {("clean" if s is None else f"{s:g} dB"): frr(clips, s) for s in SNRS_DB}
    by_rt60 = {f"{r:g} s": frr(clips if r == 0 else reverberant(clips, r, rate, seed=1), None) for r in RT60S_S}
    result = {"run": str(run), "keyword": args.keyword, "n_positive": len(clips),
              "thresholds": "stored (detector.json)", "frr_by_snr": by_snr, "frr_by_rt60": by_rt60,
              "bad_files": [b.path for b in bad + bad_pos]}
    (out / "robustness.json").write_text(json.dumps(result, indent=1))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.6), constrained_layout=True, sharey=True)
    a.bar(list(by_snr), [100 * v for v in by_snr.values()], color="tab:blue")
    a.set_xlabel("SNR of the wake word against speech/ambience")
    a.set_ylabel("false reject rate (%)")
    b.bar(list(by_rt60), [100 * v for v in by_rt60.values()], color="tab:orange")
    b.set_xlabel("reverberation RT60 (0 = dry)")
    for ax, values in ((a, by_snr), (b, by_rt60)):
        for i, v in enumerate(values.values()):
            ax.text(i, 100 * v + 1, f"{100 * v:.0f}", ha="center", fontsize=8)
    fig.suptitle(f"{args.keyword}: {len(clips)} real clips at {CLIP_RMS_DBFS:g} dBFS, {run.name} at its stored threshold")
    fig.savefig(out / "robustness.png", dpi=110)
    print(f"wrote {out / 'robustness.png'}: FRR by SNR {by_snr}, by RT60 {by_rt60}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
