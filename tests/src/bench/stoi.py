"""STOI (Taal et al., 2011) of degraded speech against its reference, for `cargo xtask bench`.

Reads pairs of WAV paths (reference, degraded) as lines on stdin, one pair per line separated by
a tab, and prints one STOI score per line. Both files are mono PCM at the same rate; the shorter
length is used (codecs pad the end). pystoi resamples to its 10 kHz working rate itself.
"""
import sys

import numpy as np
from pystoi import stoi
from scipy.io import wavfile


def read(path):
    rate, data = wavfile.read(path)
    if data.ndim != 1:
        raise SystemExit(f"{path}: expected mono")
    return rate, data.astype(np.float64)


for line in sys.stdin:
    reference_path, degraded_path = line.rstrip("\n").split("\t")
    rate, reference = read(reference_path)
    degraded_rate, degraded = read(degraded_path)
    if rate != degraded_rate:
        raise SystemExit(f"{degraded_path}: {degraded_rate} Hz, reference {rate} Hz")
    n = min(len(reference), len(degraded))
    print(f"{stoi(reference[:n], degraded[:n], rate, extended=False):.5f}", flush=True)
