"""Summaries as pandas DataFrames: a strike ladder of carlo's built-in European call,
priced against Black-Scholes, one carlo.run per strike.

Every strike runs with the config's seed, so the strikes share their paths (common
random numbers): their errors move together, and the differences between strikes are
far more precise than each price.

    python examples/python/pandas_summary.py [SAMPLES]
"""
import sys
from pathlib import Path

import pandas as pd

import carlo

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "european.toml"

if __name__ == "__main__":
    samples = int(float(sys.argv[1])) if len(sys.argv) > 1 else 1_000_000
    frames = [
        carlo.run(CONFIG, samples=samples, strike=strike, quiet=True).to_pandas()
        .assign(strike=strike)
        for strike in (80.0, 90.0, 100.0, 110.0, 120.0)
    ]
    table = pd.concat(frames, ignore_index=True)
    table["error_in_std_errors"] = (table.estimate - table.reference) / table.std_error
    print(table[["strike", "estimate", "std_error", "reference", "error_in_std_errors"]])
