"""Fixed-point MFCC front end (integer-only sample path) and its float reference."""

from kws.frontend.pipeline import (
    Frontend,
    compute_features,
    compute_features_many,
    compute_mfcc,
    dequantize_features,
    frame_signal,
    mfcc_from_frames,
    quantize_features,
)
from kws.frontend.tables import FrontendTables, tables

__all__ = [
    "Frontend", "FrontendTables", "compute_features", "compute_features_many", "compute_mfcc",
    "dequantize_features", "frame_signal", "mfcc_from_frames", "quantize_features", "tables",
]
