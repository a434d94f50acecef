"""A model that reads a setting kept in another module (test_probe.py changes it in
the parent process only)."""
import probe_settings


def model(rng, n):
    return rng.random(n) * probe_settings.FACTOR
