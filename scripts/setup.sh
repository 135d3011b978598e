#!/usr/bin/env bash
# One-shot set-up on a fresh Debian/Ubuntu machine with Python 3.11:
# apt packages (TTS engines, PortAudio + PulseAudio for the microphone test, ARM toolchain, QEMU) when missing, then a .venv with kws
# installed editable with every extra. Safe to re-run; `make` re-runs it only when pyproject changes.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(espeak-ng flite libportaudio2 pulseaudio pulseaudio-utils libasound2-plugins gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm gcc make)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing apt packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
echo "setup: installing kws and its extras into .venv (tensorflow-cpu, piper-tts, pytest, librosa)"
.venv/bin/python -m pip install -q -e ".[train,synth,dev]"
touch .venv/.installed
