"""``kws listen``: live keyword spotting from a microphone (or a file played at real-time pace).

Audio sources put int16 blocks on a queue and nothing else (the PortAudio callback must never
block or compute); the main thread takes blocks off the queue and runs the :class:`Stream`
(front end, model, detector) and the terminal display. ``--wav FILE`` plays a file through the
same queue, at real-time pace or, with ``--fast``, as fast as the stream takes it.
"""

from __future__ import annotations

import argparse
import queue
import sys
import threading
import time
from typing import Any

import numpy as np

from kws.errors import KwsError

#: Queue items: ("audio", int16 block) | ("end", reason); at most this many blocks wait
_QUEUE_BLOCKS = 256
#: A sample with |x| at most this is digital silence for --start-on-sound.
_SILENCE_LSB = 2
#: With no model named, `kws listen` runs the shipped wake word gating the shipped commands.
DEFAULT_WAKE_MODEL = "computer"
DEFAULT_COMMAND_MODEL = "commands"


class AudioDeviceError(KwsError):
    """No usable input device, or PortAudio missing."""


def import_sounddevice():
    """``sounddevice``, or an :class:`AudioDeviceError` with the fix when PortAudio is missing."""
    try:
        import sounddevice
    except OSError as exc:  # raised when libportaudio cannot be loaded
        raise AudioDeviceError(f"PortAudio is not installed ({exc}); install it with "
                               f"'sudo apt-get install libportaudio2' (macOS: 'brew install portaudio'), "
                               f"or use --wav FILE to listen to a file") from None
    except ImportError as exc:
        raise AudioDeviceError(f"the sounddevice package is missing ({exc}); pip install sounddevice") from None
    return sounddevice


def list_devices() -> int:
    sd = import_sounddevice()
    devices = sd.query_devices()
    inputs = [(i, d) for i, d in enumerate(devices) if d["max_input_channels"] > 0]
    if not inputs:
        print("no input devices found (is a microphone connected? for PulseAudio, install libasound2-plugins)")
        return 0
    default_in = sd.default.device[0]
    for index, device in inputs:
        mark = "*" if index == default_in else " "
        print(f"{mark} {index:3d}  {device['name']}  ({device['max_input_channels']} in, "
              f"{device['default_samplerate']:.0f} Hz)")
    return 0


class WavSource:
    """Plays a file into the queue in ``block`` sample blocks, at real-time pace unless ``fast``."""

    def __init__(self, path: str, rate: int, block: int, out: "queue.Queue", *, fast: bool):
        from kws.audio import iter_audio_blocks

        self.blocks = iter_audio_blocks(path, rate, block)
        next_block = next(self.blocks, None)  # open and check the file before the display starts
        self._first = next_block
        self.rate, self.out, self.fast = rate, out, fast
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="kws-wav-source", daemon=True)
        self.description = f"file {path} ({'as fast as possible' if fast else 'real-time pace'})"

    def start(self) -> None:
        self.thread.start()

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self.out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        started = time.monotonic()
        sent = 0
        try:
            block = self._first
            while block is not None and not self._stop.is_set():
                if not self.fast:
                    delay = started + sent / self.rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                if not self._put(("audio", block)):
                    return
                sent += block.size
                block = next(self.blocks, None)
            self._put(("end", "end of file"))
        except KwsError as exc:
            self._put(("end", f"file error: {exc}"))

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=2)


class MicSource:
    """A PortAudio input stream whose callback only copies blocks onto the queue."""

    def __init__(self, device: Any, rate: int, block: int, out: "queue.Queue"):
        sd = import_sounddevice()
        self.out = out
        self.overflows = 0
        try:
            info = sd.query_devices(device, kind="input")
        except (ValueError, sd.PortAudioError) as exc:
            raise AudioDeviceError(f"no input device{f' {device!r}' if device is not None else ''}: {exc}. "
                                   f"Connect a microphone or choose one from 'kws listen --list-devices' "
                                   f"(--device NAME|INDEX), or use --wav FILE") from None
        self.description = f"microphone {info['name']!r}"
        self.device_rate = rate
        self.resampler = None
        try:
            sd.check_input_settings(device=device, channels=1, dtype="int16", samplerate=rate)
        except (ValueError, sd.PortAudioError):
            import soxr

            self.device_rate = int(info["default_samplerate"])
            self.resampler = soxr.ResampleStream(self.device_rate, rate, 1, dtype="float32", quality="VHQ")
            self.description += f" at {self.device_rate} Hz, resampled"
        device_block = max(1, block * self.device_rate // rate)
        try:
            self.stream = sd.InputStream(device=device, channels=1, dtype="int16", samplerate=self.device_rate,
                                         blocksize=device_block, callback=self._callback,
                                         finished_callback=self._finished)
        except (ValueError, sd.PortAudioError) as exc:
            raise AudioDeviceError(f"cannot open input device {info['name']!r}: {exc}") from None
        self._closing = False

    def _callback(self, indata, frames, time_info, status) -> None:  # PortAudio thread: no work here
        if status.input_overflow:
            self.overflows += 1
        try:
            self.out.put_nowait(("audio", indata[:, 0].copy()))
        except queue.Full:  # the main thread fell behind: the block is lost, count it
            self.overflows += 1

    def _finished(self) -> None:
        if not self._closing:
            try:
                self.out.put_nowait(("end", "the input device stopped"))
            except queue.Full:
                pass

    def start(self) -> None:
        self.stream.start()

    def convert(self, block: np.ndarray) -> np.ndarray:
        if self.resampler is None:
            return block
        from kws.audio import float_to_int16, int16_to_float

        return float_to_int16(self.resampler.resample_chunk(int16_to_float(block)))

    def stop(self) -> None:
        self._closing = True
        try:
            self.stream.abort()
            self.stream.close()
        except Exception:  # noqa: BLE001 - a device that already vanished cannot be closed twice
            pass


class Display:
    """The terminal UI (rich) or, when stdout is not a terminal, plain log lines."""

    def __init__(self, model, stream, source: str, *, live: bool):
        self.model, self.stream, self.source = model, stream, source
        self.keywords = [i for i, label in enumerate(model.labels) if label not in stream.detector_config.ignored_labels]
        self.log: list[str] = []
        self.level_db = -120.0
        self.overflows = 0
        self.audio_s = 0.0
        self.live = None
        if live:
            from rich.console import Console
            from rich.live import Live

            self.live = Live(self.render(), console=Console(), refresh_per_second=10, transient=False)

    def __enter__(self):
        if self.live is not None:
            self.live.__enter__()
        else:
            print(f"listening to {self.source}", flush=True)
        return self

    def __exit__(self, *exc):
        if self.live is not None:
            self.live.update(self.render())
            self.live.__exit__(*exc)
            print(flush=True)
        return False

    def render(self):
        from rich.console import Group
        from rich.panel import Panel
        from rich.table import Table
        from rich.text import Text

        def bar(fraction: float, width: int = 30) -> str:
            filled = int(round(max(0.0, min(1.0, fraction)) * width))
            return "█" * filled + "·" * (width - filled)

        head = Table.grid(padding=(0, 2))
        head.add_row("input", bar((self.level_db + 80) / 80), f"{self.level_db:6.1f} dBFS")
        head.add_row("audio", f"{self.audio_s:8.1f} s", f"overflows {self.overflows}")
        scores = Table.grid(padding=(0, 2))
        smoothed = self.stream.detector.smoothed
        for i in self.keywords:
            p = (int(smoothed[i]) + 128) / 256
            threshold = (int(self.stream.detector.thresholds[i]) + 128) / 256
            style = "bold green" if p >= threshold else ""
            scores.add_row(Text(self.model.labels[i], style=style), bar(p, 24), f"{p:4.2f} (thr {threshold:4.2f})")
        log = Text("\n".join(self.log[-8:]) or "(no detections yet)")
        return Panel(Group(head, Text(""), scores, Text(""), log), title=f"kws listen: {self.source}",
                     subtitle="Ctrl-C to stop")

    def audio(self, block: np.ndarray, audio_s: float) -> None:
        self.audio_s = audio_s
        if block.size:
            rms = float(np.sqrt(np.mean(np.square(block.astype(np.float64))))) / 32768.0
            self.level_db = 20 * np.log10(max(rms, 1e-6))

    def detection(self, d) -> None:
        line = f"{d.time_s:9.2f} s  {d.label:<10} score {d.score:4d} (p {(d.score + 128) / 256:.2f})"
        self.log.append(line)
        if self.live is None:
            print(line, flush=True)

    def message(self, text: str) -> None:
        self.log.append(text)
        if self.live is None:
            print(text, flush=True)

    def refresh(self) -> None:
        if self.live is not None:
            self.live.update(self.render())


def run(args: argparse.Namespace) -> int:
    from kws.commands.detect import detector_for
    from kws.errors import ConfigError
    from kws.fileio import write_json_atomic
    from kws.frontend.native import streaming_frontend
    from kws.model import KwsModel
    from kws.streaming import Stream

    if args.list_devices:
        return list_devices()
    if args.listen_s <= 0:
        raise ConfigError(f"--listen-s {args.listen_s}: must be > 0")
    if args.fast and not args.wav:
        raise ConfigError("--fast needs --wav FILE (a microphone cannot go faster than real time)")
    if args.seconds is not None and args.seconds <= 0:
        raise ConfigError(f"--seconds {args.seconds}: must be > 0")
    from kws.model_native import fastest_model

    model_name, then_name = args.model, args.then
    if model_name is None:  # the Alexa-style default: the shipped wake word gates the shipped commands
        model_name, then_name = DEFAULT_WAKE_MODEL, then_name or DEFAULT_COMMAND_MODEL
    model, _ = fastest_model(KwsModel.load(model_name), native=not args.reference_model)
    config = detector_for(args, model)
    frontend, _ = streaming_frontend(model.frontend, native=not args.reference_frontend)
    stream = Stream(model, config, frontend=frontend)
    detector_input = stream
    if then_name:
        from kws.detector import model_detector_config
        from kws.two_stage import WakeThenCommand, gated_detector_config

        command_model, _ = fastest_model(KwsModel.load(then_name), native=not args.reference_model)
        command_frontend, _ = streaming_frontend(command_model.frontend, native=not args.reference_frontend)
        gated = gated_detector_config(model_detector_config(command_model.source), command_model, args.then_threshold)
        command_stream = Stream(command_model, gated, frontend=command_frontend)
        detector_input = WakeThenCommand(stream, command_stream, listen_s=args.listen_s)
        print(f"two-stage: {model_name} opens {args.listen_s:g} s for a command of {then_name} "
              f"(p >= {args.then_threshold:g})")
    rate = model.frontend.sample_rate_hz
    block = rate * args.block_ms // 1000
    blocks: queue.Queue = queue.Queue(maxsize=_QUEUE_BLOCKS)
    if args.wav:
        source: Any = WavSource(args.wav, rate, block, blocks, fast=args.fast)
    else:
        source = MicSource(args.device, rate, block, blocks)
    ui = args.ui if args.ui is not None else sys.stdout.isatty()
    detections = []
    n_samples = 0
    limit = int(args.seconds * rate) if args.seconds is not None else None
    started = not args.start_on_sound
    reason = "stopped"
    display = Display(model, stream, source.description, live=ui)
    last_refresh = 0.0
    try:
        with display:
            source.start()
            while True:
                try:
                    kind, item = blocks.get(timeout=1.0)
                except queue.Empty:
                    stream_obj = getattr(source, "stream", None)
                    if stream_obj is not None and not stream_obj.active:
                        reason = "the input device stopped delivering audio"
                        break
                    continue
                display.overflows = getattr(source, "overflows", 0)
                if kind == "end":
                    reason = item
                    break
                pcm = source.convert(item) if hasattr(source, "convert") else item
                if not started:
                    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > _SILENCE_LSB)
                    if loud.size == 0:
                        continue
                    pcm, started = pcm[loud[0]:], True
                if limit is not None:
                    pcm = pcm[: limit - n_samples]
                n_samples += pcm.size
                for d in detector_input.process(pcm):
                    detections.append(d)
                    display.detection(d)
                display.audio(pcm, n_samples / rate)
                now = time.monotonic()
                if now - last_refresh > 0.1:
                    display.refresh()
                    last_refresh = now
                if limit is not None and n_samples >= limit:
                    reason = f"--seconds {args.seconds:g} reached"
                    break
            display.message(f"stopped: {reason}")
    except KeyboardInterrupt:
        reason = "interrupted (Ctrl-C)"
        print(f"kws listen: {reason}", file=sys.stderr)
    finally:
        source.stop()
    overflow_note = f", {display.overflows} overflow(s)" if not args.wav else ""
    heard = ", ".join(f"{d.label} ({d.time_s:.1f} s)" for d in detections) or "nothing"
    print(f"heard {len(detections)} keyword(s) in {n_samples / rate:.1f} s of audio{overflow_note}: {heard}")
    if args.json:
        write_json_atomic(args.json, [{"file": args.wav or f"device:{args.device or 'default'}", "label": d.label,
                                       "time_s": round(d.time_s, 4), "score": d.score} for d in detections])
        print(f"wrote {args.json}")
    return 130 if reason.startswith("interrupted") else 0


def register(subparsers) -> None:
    from kws.commands.detect import add_detector_options
    from kws.two_stage import DEFAULT_GATED_PROBABILITY, DEFAULT_LISTEN_S

    parser = subparsers.add_parser(
        "listen", help="live keyword spotting from a microphone (or --wav FILE)",
        description="Listen to a microphone (PortAudio via sounddevice) and show the input level, live score bars "
                    "and a log of detections. --wav FILE plays a file through the same path instead.")
    parser.add_argument("model", nargs="?", default=None, metavar="MODEL",
                        help="run folder, .tflite file or shipped model name (default: the shipped wake word "
                             f"{DEFAULT_WAKE_MODEL!r} gating the shipped {DEFAULT_COMMAND_MODEL!r}, as with --then)")
    parser.add_argument("--then", metavar="MODEL",
                        help="two-stage: MODEL (e.g. commands) is heard only for --listen-s seconds after MODEL "
                             "detects its wake word ('computer, lights on')")
    parser.add_argument("--listen-s", type=float, default=DEFAULT_LISTEN_S, metavar="S",
                        help=f"with --then: seconds a wake detection keeps the command model listening "
                             f"(default {DEFAULT_LISTEN_S:g})")
    parser.add_argument("--then-threshold", type=float, default=DEFAULT_GATED_PROBABILITY, metavar="P",
                        help=f"with --then: probability a command needs inside the window "
                             f"(default {DEFAULT_GATED_PROBABILITY:g}; the wake "
                             "word already guards against false accepts, so the command model's own calibrated "
                             "thresholds are not used)")
    parser.add_argument("--device", default=None, metavar="NAME|INDEX",
                        help="input device (see --list-devices; 'pulse' for PulseAudio); default: the system's")
    parser.add_argument("--list-devices", action="store_true", help="list the input devices and exit")
    parser.add_argument("--wav", metavar="FILE", help="play this audio file through the stream instead of a microphone")
    parser.add_argument("--fast", action="store_true", help="with --wav: as fast as possible, not real-time pace")
    parser.add_argument("--seconds", type=float, default=None, metavar="S", help="stop after S seconds of audio")
    parser.add_argument("--start-on-sound", action="store_true",
                        help="drop leading digital silence: the stream (and its clock) starts at the first sample "
                             f"with |x| > {_SILENCE_LSB} LSB")
    parser.add_argument("--block-ms", type=int, default=100, metavar="MS", help="audio block size (default 100 ms)")
    parser.add_argument("--json", metavar="OUT", help='write [{"file", "label", "time_s", "score"}, ...]')
    parser.add_argument("--ui", dest="ui", action="store_true", default=None,
                        help="force the live terminal display (default: only on a terminal)")
    parser.add_argument("--no-ui", dest="ui", action="store_false", help="plain log lines instead of the display")
    add_detector_options(parser)
    parser.set_defaults(func=run)
