"""run_model does what the CLI does: chunk timeouts, checkpoint intervals, targets per
quantity, retries of transient exceptions, SIGTERM saving a checkpoint, and summaries
that carry their job and verify bit for bit."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import carlo
import models
from conftest import bits, checkpoint_blocks

SIZE = dict(samples=60_000, chunk_size=10_000, seed=6)


def two_quantities(rng, n):
    """A fast-converging and a slow-converging quantity."""
    u = rng.random(n)
    return {"easy": u * 0.01, "ruin": (u < 0.3).astype(float)}


def test_targets_per_quantity_stop_when_every_named_one_is_met():
    common = dict(samples=10_000_000, chunk_size=2_000, seed=4, check_every=4096,
                  backend="threads", workers=2)
    loose = carlo.run_model(two_quantities, ["easy", "ruin"], target_abs_error=1e-3, **common)
    strict = carlo.run_model(two_quantities, ["easy", "ruin"],
                             target_abs_error={"ruin": 2e-3}, **common)
    assert loose[0].stop_reason == strict[0].stop_reason == "target"
    # The first quantity alone meets 1e-3 at once; ruin needs far more samples.
    assert strict["ruin"].samples > 10 * loose["ruin"].samples
    ruin = strict["ruin"]
    assert ruin.ci_high - ruin.estimate <= 2e-3
    assert strict.job["target"]["quantities"] == [
        {"quantity": "ruin", "rel_error": None, "abs_error": 2e-3}]
    again = carlo.run_model(two_quantities, ["easy", "ruin"], target_abs_error={"ruin": 2e-3},
                            **{**common, "backend": "processes"})
    assert bits(again) == bits(strict)


def test_a_target_naming_an_unknown_quantity_is_a_clear_error():
    with pytest.raises(carlo.ConfigError) as raised:
        carlo.run_model(two_quantities, ["easy", "ruin"], target_abs_error={"rui": 1e-3},
                        backend="threads", **SIZE)
    message = str(raised.value)
    assert message.startswith("target_abs_error={'rui': 0.001}: is not a quantity of this model")
    assert "did you mean `ruin`" in message and "its quantities are easy, ruin" in message


def fails_once(rng, n, marker, kind):
    """Raises `kind` the first time any chunk runs (a marker file says it did)."""
    x = rng.random(n)
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return x
    os.close(fd)
    raise {"memory": MemoryError, "os": TimeoutError, "value": ValueError}[kind]("transient")


@pytest.mark.parametrize("backend", ["threads", "processes"])
def test_retries_recompute_transient_exceptions_with_the_same_bits(tmp_path, backend, capfd):
    (tmp_path / "failed already").touch()
    clean = carlo.run_model(fails_once, "x", backend=backend, workers=1,
                            args={"marker": str(tmp_path / "failed already"), "kind": "memory"},
                            **SIZE)
    for kind in ("memory", "os"):
        marker = tmp_path / f"{kind}.marker"
        s = carlo.run_model(fails_once, "x", backend=backend, workers=1, retries=1,
                            args={"marker": str(marker), "kind": kind}, **SIZE)
        assert s[0].estimate == clean[0].estimate and s[0].std_error == clean[0].std_error
        assert "computing it again from its stream's start (retry 1 of 1)" in capfd.readouterr().err
    # Off by default, and never for other exceptions.
    with pytest.raises(carlo.ChunkError, match="MemoryError: transient"):
        carlo.run_model(fails_once, "x", backend=backend, workers=1,
                        args={"marker": str(tmp_path / "m2"), "kind": "memory"}, **SIZE)
    with pytest.raises(carlo.ChunkError, match="ValueError: transient"):
        carlo.run_model(fails_once, "x", backend=backend, workers=1, retries=3,
                        args={"marker": str(tmp_path / "v"), "kind": "value"}, **SIZE)


def stalls_once(rng, n, marker):
    x = rng.random(n)
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return x
    os.close(fd)
    time.sleep(3600)


def test_a_chunk_timeout_replaces_a_stuck_worker(tmp_path):
    start = time.monotonic()
    with pytest.warns(carlo.CarloWarning, match="was taken for stuck and killed .* over the chunk timeout"):
        s = carlo.run_model(stalls_once, "x", backend="processes", workers=2, chunk_timeout=5,
                            args={"marker": str(tmp_path / "m")}, **SIZE)
    assert time.monotonic() - start < 60
    clean = carlo.run_model(stalls_once, "x", backend="threads",
                            args={"marker": str(tmp_path / "m")}, **SIZE)
    assert s[0].worker_restarts == 1
    assert bits(s, ("worker_restarts",)) == bits(clean, ("worker_restarts",))


def test_a_module_that_hangs_at_import_is_caught(tmp_path):
    (tmp_path / "hangs_at_import.py").write_text(textwrap.dedent("""
        import os, time
        if os.environ.get("CARLO_TEST_HANG") == "1":
            time.sleep(3600)

        def model(rng, n):
            return rng.random(n)
    """))
    sys.path.insert(0, str(tmp_path))
    os.environ["CARLO_TEST_HANG"] = "0"
    try:
        import hangs_at_import

        os.environ["CARLO_TEST_HANG"] = "1"  # the workers' import hangs, not ours
        start = time.monotonic()
        with pytest.raises(carlo.CarloError) as raised:
            carlo.run_model(hangs_at_import.model, "x", backend="processes", workers=1,
                            chunk_timeout=3, probe=False, **SIZE)
        assert time.monotonic() - start < 60
        message = str(raised.value)
        assert "starting (building its model: an import" in message, message
        assert "over the chunk timeout of 3.0 s" in message, message
    finally:
        del os.environ["CARLO_TEST_HANG"]
        sys.path.remove(str(tmp_path))
        sys.modules.pop("hangs_at_import", None)


def test_checkpoint_interval_saves_as_often_as_asked(tmp_path):
    checkpoint = tmp_path / "run.checkpoint"
    saved = []

    def watch(done, total, *rest):
        saved.append((done, checkpoint_blocks(checkpoint) if checkpoint.exists() else None))

    # 20 blocks of 4096, a chunk each, 0.05 s a call.
    carlo.run_model(models.slow, "x", backend="threads", workers=1, samples=81_920,
                    chunk_size=1_000, seed=1, args={"seconds": 0.05}, checkpoint=checkpoint,
                    checkpoint_interval=0, progress=watch)
    # Saved after every chunk (the default interval, 5 s, is past this 1 s run): from
    # the second report on, the file holds every block merged before the last chunk
    # (the save follows the report; nothing is written before the first save).
    assert len(saved) >= 3, saved
    assert all(s is not None and s >= done // 4096 - 1 for done, s in saved[1:]), saved
    with pytest.raises(carlo.ConfigError, match="checkpoint_interval=-1"):
        carlo.run_model(models.pi, "pi", backend="threads", checkpoint=tmp_path / "c2",
                        checkpoint_interval=-1, **SIZE)


SIGTERM_SCRIPT = textwrap.dedent("""
    import sys, carlo, models
    s = carlo.run_model(models.slow, "x", backend=sys.argv[1], workers=2, samples=409_600,
                        chunk_size=2_000, seed=8, checkpoint=sys.argv[2],
                        checkpoint_interval=0, args={"seconds": 0.05})
    print(repr(s[0].estimate), repr(s[0].std_error), s[0].samples)
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="POSIX signals")
@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_save_a_checkpoint_as_the_cli_does(tmp_path, signame):
    script = tmp_path / "run.py"
    script.write_text(SIGTERM_SCRIPT)
    checkpoint = tmp_path / "run.checkpoint"
    env = dict(os.environ, PYTHONPATH=os.path.dirname(models.__file__))
    # SIGHUP at its default, as in a terminal's session: under nohup it is ignored, and
    # carlo leaves an ignored signal alone.
    child = subprocess.Popen([sys.executable, str(script), "processes", str(checkpoint)],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_DFL))
    def merged():  # of the run's 100 blocks
        return checkpoint_blocks(checkpoint)

    deadline = time.monotonic() + 60
    while merged() < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    child.send_signal(getattr(signal, signame))
    out, err = child.communicate(timeout=60)
    number = getattr(signal, signame)
    assert child.returncode == -number, (child.returncode, err)
    assert f"interrupted by {signame} after " in err and f"progress saved to {checkpoint}" in err
    assert 2 <= merged() < 100
    resumed = subprocess.run([sys.executable, str(script), "threads", str(checkpoint)], env=env,
                             capture_output=True, text=True, timeout=300)
    fresh = subprocess.run([sys.executable, str(script), "sequential", str(tmp_path / "other")],
                           env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout == fresh.stdout


def test_a_summary_carries_its_job_and_verifies(tmp_path, run_cli, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for function, name in ((models.option, "module"), (lambda rng, n: rng.random((n, 3)), "lam")):
        s = carlo.run_model(function, ["call", "put", "spot"], backend="processes", workers=2,
                            args={"strike": 95.0} if name == "module" else None, **SIZE)
        assert s.job["seed"] == 6 and s.job["model"]["type"] == "python"
        assert json.loads(s.to_json())[0]["job"] == s.job
        folder = tmp_path / name
        folder.mkdir()
        path = folder / "summary.csv"
        s.to_csv(path)
        assert (folder / "summary.job.toml").exists() and (folder / "summary.chunks").exists()
        assert carlo.verify(path) == s.fingerprint
        out = run_cli("verify", path, env={"CARLO_FUNCTIONS": str(folder),
                                           "XDG_CACHE_HOME": str(tmp_path / "nowhere")})
        assert "verified" in out.stderr, out.stderr
        # A summary that says something else does not verify.
        text = path.read_text()
        estimate = repr(s[0].estimate)
        path.write_text(text.replace(estimate, repr(s[0].estimate + 1e-9), 1))
        with pytest.raises(carlo.CarloError, match="does not reproduce"):
            carlo.verify(path)
        assert run_cli("verify", path, check=False,
                       env={"CARLO_FUNCTIONS": str(folder)}).returncode == 1


def test_rng_sizes_beyond_memory_are_python_exceptions():
    def huge(rng, n):
        rng.random(2**40)

    def square(rng, n):
        rng.random((2**31, 2**31))

    for model in (huge, square):
        with pytest.raises(carlo.ChunkError, match="MemoryError"):
            carlo.run_model(model, "x", backend="sequential", probe=False, **SIZE)

    def caught(rng, n):
        try:
            rng.random((2**31, 2**31))
        except Exception as e:  # an ordinary exception, not a PanicException
            assert isinstance(e, MemoryError)
        try:
            rng.random(-1)
        except ValueError:
            pass
        return rng.random(n)

    assert carlo.run_model(caught, "x", backend="sequential", **SIZE)[0].samples == 60_000


def test_integer_bool_and_named_samples():
    def ints(rng, n):
        return rng.integers(0, 2, n) * 4 - (rng.random(n) < 2)  # int64

    def flags(rng, n):
        u = rng.random((n, 2))
        return (u[:, 0] ** 2 + u[:, 1] ** 2) < 1.0  # bool

    def named(rng, n):
        u = rng.random((n, 2))
        return {"pi": np.where((u ** 2).sum(axis=1) < 1.0, 4, 0), "u": u[:, 0]}

    i = carlo.run_model(ints, "x", backend="threads", **SIZE)
    assert isinstance(i[0].estimate, float)
    f = carlo.run_model(flags, "inside", backend="processes", workers=1, **SIZE)
    assert abs(f[0].estimate - np.pi / 4) < 5 * f[0].std_error
    d = carlo.run_model(named, ["u", "pi"], backend="threads", **SIZE)
    assert [r.quantity for r in d] == ["u", "pi"]
    pi = carlo.run_model(models.pi, "pi", backend="threads", **SIZE)
    assert d["pi"].estimate == pi[0].estimate and d["pi"].std_error == pi[0].std_error
    with pytest.raises(carlo.ChunkError, match="a dict with the key 'z', which is not a quantity"):
        carlo.run_model(lambda rng, n: {"z": rng.random(n)}, "x", backend="threads", **SIZE)
    with pytest.raises(carlo.ChunkError, match="without the quantity \"y\""):
        carlo.run_model(lambda rng, n: {"x": rng.random(n)}, ["x", "y"], backend="threads",
                        **SIZE)
