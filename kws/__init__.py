"""kws: keyword spotting for voice devices, bit-exact from Python to a Cortex-M4."""

__version__ = "0.1.0"
