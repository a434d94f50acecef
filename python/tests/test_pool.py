"""carlo.Pool keeps worker processes warm between runs, with run_model's bits."""
import time

import pytest

import carlo
import models
from conftest import bits

SIZE = dict(samples=40_000, chunk_size=10_000, seed=9)


def test_a_pool_gives_run_models_bits_and_keeps_its_workers():
    fresh = carlo.run_model(models.option, ["call", "put", "spot"], backend="processes",
                            workers=2, args={"strike": 95.0}, **SIZE)
    with carlo.Pool(workers=2) as pool:
        assert pool.pids() == [] and pool.backend == "processes" and pool.workers == 2
        first = pool.run_model(models.option, ["call", "put", "spot"],
                               args={"strike": 95.0}, **SIZE)
        pids = pool.pids()
        assert len(pids) == 2
        times = []
        for strike in (90.0, 95.0, 100.0):
            start = time.perf_counter()
            s = pool.run_model(models.option, ["call", "put", "spot"],
                               args={"strike": strike}, **SIZE)
            times.append(time.perf_counter() - start)
            if strike == 95.0:
                assert bits(s) == bits(fresh)
        # By-value models run on the same workers too.
        lam = pool.run_model(lambda rng, n: rng.random(n), "x", **SIZE)
        assert lam[0].samples == 40_000
        assert pool.pids() == pids, "the workers were restarted"
    assert bits(first) == bits(fresh)
    assert (first[0].backend, first[0].workers) == ("processes", 2)
    assert pool.closed
    with pytest.raises(carlo.CarloError, match="closed"):
        pool.run_model(models.pi, "pi", **SIZE)
    # Warm calls skip the workers' start (a fraction of a second each); generous
    # here, for a debug build on a busy machine: benches/compare measures it.
    assert min(times) < 1.0, times


def test_a_thread_pool():
    with carlo.Pool(workers=2, backend="threads") as pool:
        a = pool.run_model(models.pi, "pi", **SIZE)
        b = pool.run_model(models.pi, "pi", **SIZE)
    assert bits(a) == bits(b) == bits(carlo.run_model(models.pi, "pi", backend="sequential",
                                                     **SIZE))
    with pytest.raises(ValueError, match="a Pool runs"):
        carlo.Pool(backend="sequential")


def test_a_sweep_runs_every_point_on_common_random_numbers():
    strikes = [90.0, 100.0, 110.0]
    s = carlo.run_model(models.option, ["call", "put", "spot"], sweep={"strike": strikes},
                        backend="processes", workers=2, **SIZE)
    assert [(r.quantity, r.strike) for r in s] == [
        (q, k) for k in strikes for q in ("call", "put", "spot")]
    for k in strikes:
        alone = carlo.run_model(models.option, ["call", "put", "spot"], args={"strike": k},
                                backend="threads", **SIZE)
        rows = [r for r in s if r.strike == k]
        assert [r.estimate for r in rows] == [r.estimate for r in alone]
        assert [r.std_error for r in rows] == [r.std_error for r in alone]
    # Common random numbers: the spot paths are the very same at every point.
    spots = {r.estimate for r in s if r.quantity == "spot"}
    assert len(spots) == 1
    again = carlo.run_model(models.option, ["call", "put", "spot"], sweep={"strike": strikes},
                            backend="threads", **SIZE)
    assert bits(again) == bits(s) and again.fingerprint == s.fingerprint


def test_a_sweep_is_the_clis(run_cli, tmp_path):
    import textwrap

    config = tmp_path / "sweep.toml"
    config.write_text(textwrap.dedent("""
        [simulation]
        name = "option"
        samples = 40_000
        seed = 9
        chunk_size = 10_000
        [model]
        type = "python"
        entry = "models:option"
        quantities = ["call", "put", "spot"]
    """))
    cli = run_cli("run", config, "--sweep", "args.strike=90.0,100.0", "--out", "-",
                  "--format", "csv", "--quiet").stdout
    ours = carlo.run_model(models.option, ["call", "put", "spot"],
                           sweep={"strike": [90.0, 100.0]}, backend="threads", **SIZE)
    from conftest import result_columns

    assert result_columns(ours.to_csv()) == result_columns(cli)
