"""The same job gives the same bits everywhere: every backend, worker count and chunk
size, carlo.run and the CLI; a Python pi agrees with carlo's built-in pi."""
import numpy as np
import pytest

import carlo
import models
from conftest import REPO, bits, result_columns

# 73 blocks of 4096, the last one short, in 25 chunks of 3 blocks (chunk_size is
# rounded up to whole blocks): enough for workers to share, small for a test.
SIZE = dict(samples=295_000, chunk_size=10_000)
# A Python pi and the built-in pi differ in these, and in their samples.
DIFFERENT_MODEL = ("name", "model", "fingerprint")
BACKENDS = [("sequential", 1)] + [(b, w) for b in ("threads", "processes") for w in (1, 2, 3)]


def test_a_python_pi_gives_the_same_bits_on_every_backend_and_chunk_size():
    # 0.3.0: a Python model draws a block from the block's lane-0 stream, while the
    # built-in pi spreads a block's samples over its 8 lanes, so the two no longer
    # share samples (0.2.0's Python pi gave the built-in bits); they agree as
    # estimates of one number.
    builtin = carlo.run({"simulation": {"seed": 7, **SIZE}, "model": {"type": "pi"}},
                        backend="sequential")
    first = None
    for backend, workers in BACKENDS:
        ours = carlo.run_model(models.pi, "pi", seed=7, backend=backend, workers=workers,
                               references={"pi": np.pi}, **SIZE)
        first = first or ours
        assert bits(ours) == bits(first), f"{backend} x{workers}"
        assert (ours[0].backend, ours[0].workers) == (backend, workers)
    # The chunk size is a scheduling knob: blocks merge exactly in any grouping.
    for chunk_size in (1, 4096, 65_536, 10**6):
        other = carlo.run_model(models.pi, "pi", seed=7, backend="threads", workers=2,
                                references={"pi": np.pi},
                                **{**SIZE, "chunk_size": chunk_size})
        assert bits(other, besides=("chunk_size",)) == bits(first, besides=("chunk_size",)), \
            chunk_size
    assert first[0].reference == builtin[0].reference
    assert first[0].samples == builtin[0].samples == 295_000
    assert bits(first, besides=DIFFERENT_MODEL) != bits(builtin, besides=DIFFERENT_MODEL)
    error = np.hypot(first[0].std_error, builtin[0].std_error)
    assert abs(first[0].estimate - builtin[0].estimate) < 5 * error


def test_float_models_give_the_same_bits_on_every_backend():
    runs = [carlo.run_model(models.option, ["call", "put", "spot"], seed=3, backend=b,
                            workers=w, args={"strike": 95.0}, **SIZE) for b, w in BACKENDS]
    for (backend, workers), run in zip(BACKENDS, runs):
        assert bits(run) == bits(runs[0]), f"{backend} x{workers}"
    call, put, spot = runs[0]
    # Put-call parity holds path by path: the columns are what they claim to be.
    parity = call.estimate - put.estimate - np.exp(-0.05) * (spot.estimate - 95.0)
    assert abs(parity) < 1e-9
    assert [r.quantity for r in runs[0]] == ["call", "put", "spot"]


def test_the_array_layout_does_not_matter():
    runs = [carlo.run_model(f, ["call", "put", "spot"], seed=3, backend="sequential", **SIZE)
            for f in (models.option, models.option_fortran, models.option_strided)]
    layout = ("name", "fingerprint")  # three functions, one set of samples
    assert bits(runs[1], layout) == bits(runs[0], layout)
    assert bits(runs[2], layout) == bits(runs[0], layout)


def test_every_draw_method_is_deterministic():
    runs = [carlo.run_model(models.mixed, ["k", "e", "bit", "z"], seed=11, backend=b,
                            workers=w, **SIZE) for b, w in (("sequential", 1), ("processes", 2))]
    assert bits(runs[0]) == bits(runs[1])
    k, e, bit, z = runs[0]
    assert abs(k.estimate - 4.5) < 4 * k.std_error
    assert abs(e.estimate - 1.0) < 4 * e.std_error
    assert abs(bit.estimate - 0.5) < 4 * bit.std_error
    assert abs(z.estimate) < 4 * z.std_error


def test_a_target_error_stops_at_the_same_sample_everywhere():
    runs = [carlo.run_model(models.pi, "pi", samples=2_000_000, seed=5, chunk_size=10_000,
                            target_abs_error=0.01, check_every=4 * 4096, backend=b, workers=w)
            for b, w in (("sequential", 1), ("threads", 2), ("processes", 3))]
    assert runs[0][0].stop_reason == "target"
    assert runs[0][0].samples < 2_000_000
    assert bits(runs[1]) == bits(runs[0]) and bits(runs[2]) == bits(runs[0])


@pytest.mark.parametrize("config", ["pi.toml", "european.toml", "asian.toml", "barrier.toml",
                                    "heston.toml", "basket.toml", "merton.toml", "lookback.toml"])
def test_carlo_run_gives_the_cli_bits(run_cli, config):
    path = REPO / "configs" / config
    cli = run_cli("run", path, "--samples", "200000", "--seed", "9", "--out", "-",
                  "--format", "csv", "--quiet").stdout
    for backend, workers in (("sequential", 1), ("threads", 2), ("processes", 2)):
        ours = carlo.run(path, samples=200_000, seed=9, backend=backend, workers=workers)
        assert result_columns(ours.to_csv()) == result_columns(cli), f"{backend} x{workers}"


def test_overrides_are_the_cli_set_flags(run_cli):
    path = REPO / "configs" / "european.toml"
    cli = run_cli("run", path, "--samples", "100000", "--set", "model.strike=95",
                  "--set", "model.option=put", "--out", "-", "--format", "csv", "--quiet").stdout
    ours = carlo.run(path, samples=100_000, strike=95, option="put")
    dotted = carlo.run(path, samples=100_000, **{"model.strike": 95.0, "model.option": "put"})
    assert result_columns(ours.to_csv()) == result_columns(cli)
    assert result_columns(dotted.to_csv()) == result_columns(cli)


def test_a_dict_config_is_the_file():
    path = REPO / "configs" / "european.toml"
    table = {
        "simulation": {"name": "european-call", "samples": 100_000, "seed": 42,
                       "chunk_size": 65_536, "confidence": 0.95},
        "model": {"type": "european", "option": "call", "spot": 100.0, "strike": 100.0,
                  "rate": 0.05, "dividend": 0.0, "volatility": 0.2, "maturity": 1.0,
                  "antithetic": False, "control_variate": False},
    }
    ours = carlo.run(table, backend="sequential")
    from_file = carlo.run(path, samples=100_000, backend="sequential")
    assert bits(ours) == bits(from_file)
    assert ours.fingerprint == from_file.fingerprint


def test_seeds_beyond_toml_integers_are_accepted():
    a = carlo.run_model(models.pi, "pi", samples=20_000, seed=2**64 - 1, backend="sequential",
                        references={"pi": np.pi})
    again = carlo.run_model(models.pi, "pi", samples=20_000, seed=2**64 - 1,
                            backend="processes", workers=2, references={"pi": np.pi})
    b = carlo.run({"simulation": {"samples": 20_000, "seed": 1}, "model": {"type": "pi"}},
                  seed=2**64 - 1)
    assert a[0].seed == b[0].seed == 2**64 - 1
    assert bits(again) == bits(a)
    other = carlo.run_model(models.pi, "pi", samples=20_000, seed=2**64 - 2,
                            backend="sequential", references={"pi": np.pi})
    assert other[0].estimate != a[0].estimate


def test_the_model_is_called_once_per_block_of_4096():
    # 0.3.0: a call is one block of the run (4096 samples, the last block fewer),
    # whatever the chunk size; the probe computes the first block twice.
    for chunk_size, probe in ((65_536, False), (1, False), (10_000, True)):
        seen = []

        def model(rng, n):
            seen.append(n)
            return rng.random(n)

        carlo.run_model(model, "x", samples=10_000, seed=1, chunk_size=chunk_size,
                        backend="sequential", probe=probe)
        expected = [4096, 4096, 10_000 - 2 * 4096]
        assert seen == ([4096] if probe else []) + expected, (chunk_size, seen)


def test_the_stream_method_is_named_in_the_package_and_the_summary():
    # 0.3.0: blocks on 8 lanes (0.2.0 wrote "xoshiro256++/jump-v1").
    assert carlo.DERIVATION == "xoshiro256++/lanes-v1"
    s = carlo.run_model(models.pi, "pi", samples=10_000, seed=1, backend="sequential")
    assert s[0].rng == carlo.DERIVATION
