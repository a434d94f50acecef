"""Never a silent failure, never a hang: model exceptions name the chunk and carry
the traceback, dead workers are replaced with the result unchanged, bad input is one
clear error."""
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import pytest

import carlo
import models
from conftest import bits

# Blocks 0 to 5 of 4096 and a short block 6 (424 samples), in chunks of 3 blocks:
# chunks 0, 1 and a short 2.
SIZE = dict(samples=25_000, chunk_size=10_000, seed=1)
# A run that recovered from a crash says so in this column alone.
RESTARTS = ("worker_restarts",)


@pytest.mark.parametrize("backend", ["sequential", "threads", "processes"])
def test_an_exception_names_the_chunk_and_carries_the_traceback(backend):
    with pytest.raises(carlo.ChunkError) as raised:
        carlo.run_model(models.raises, "x", backend=backend, workers=2, **SIZE)
    error = raised.value
    assert error.chunk == 2
    message = str(error)
    first = message.splitlines()[0]
    assert "chunk 2: models:raises raised ZeroDivisionError: division by zero" in first
    assert "Traceback (most recent call last)" in message
    assert "in helper_that_divides" in message  # the frame that raised
    assert "return x / 0 if isinstance" in message  # with its source line


@pytest.mark.parametrize("backend", ["sequential", "processes"])
@pytest.mark.parametrize("model, needle", [
    (models.wrong_shape, "returned an array of shape (4096, 3) for a block of 4096 samples; "
                         "it must be (4096,) or (4096, 1)"),
    (models.wrong_rows, "returned an array of shape (4097,) for a block of 4096 samples"),
    (models.wrong_dtype, "returned an array of dtype <U32; it must hold numbers"),
    (models.not_an_array, "returned a list; it must return a numpy array"),
    (models.nan, "returned NaN in row 2048 (quantity x); every sample must be finite"),
])
def test_bad_samples_are_clear_errors(backend, model, needle):
    with pytest.raises(carlo.ChunkError) as raised:
        carlo.run_model(model, "x", backend=backend, workers=1, **SIZE)
    assert raised.value.chunk == 0
    assert needle in str(raised.value), str(raised.value)


def test_a_worker_that_exits_is_replaced_and_changes_nothing(tmp_path):
    reference = carlo.run_model(models.pi, "pi", backend="sequential", samples=200_000, seed=4,
                                chunk_size=10_000)
    for model in (models.exit_once, models.segfault_once):
        marker = tmp_path / f"{model.__name__}.marker"
        # The recovered crash is a Python warning, which catch_warnings catches.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run = carlo.run_model(model, "pi", backend="processes", workers=2, samples=200_000,
                                  seed=4, chunk_size=10_000, args={"marker": str(marker)})
        # Same draws as pi's first uniform column: compare with the same model in
        # sequence instead.
        again = carlo.run_model(model, "pi", backend="sequential", samples=200_000, seed=4,
                                chunk_size=10_000, args={"marker": str(marker)})
        # The run that recovered says so; its result is the same.
        assert run[0].worker_restarts == 1 and again[0].worker_restarts == 0
        assert bits(run, RESTARTS) == bits(again, RESTARTS)
        assert marker.exists()
        found = [w for w in caught if issubclass(w.category, carlo.CarloWarning)]
        assert len(found) == 1, [str(w.message) for w in caught]
        text = str(found[0].message)
        assert text.startswith("worker process "), text
        assert ("exited with code 3" if model is models.exit_once else "SIGSEGV") in text, text
        assert found[0].filename == __file__  # it points at the caller's line
    assert reference[0].samples == 200_000


def test_carlo_fault_aborts_are_recovered():
    reference = carlo.run_model(models.pi, "pi", backend="sequential", samples=100_000, seed=4,
                                chunk_size=10_000)
    os.environ["CARLO_FAULT"] = "abort-at:3"
    try:
        with pytest.warns(carlo.CarloWarning, match="SIGABRT.* running chunk 3"):
            run = carlo.run_model(models.pi, "pi", backend="processes", workers=2,
                                  samples=100_000, seed=4, chunk_size=10_000)
    finally:
        del os.environ["CARLO_FAULT"]
    assert bits(run, RESTARTS) == bits(reference, RESTARTS)


def _children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry))
    return found


def _wait_for(condition, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_worker_killed_with_sigkill_is_replaced(tmp_path):
    script = tmp_path / "kill.py"
    script.write_text(textwrap.dedent("""
        import sys, carlo, models
        # 98 blocks of 0.05 s each: about 2.5 s on two workers, so the kill lands mid-run.
        s = carlo.run_model(models.slow, "x", backend=sys.argv[1], workers=2, samples=400_000,
                            chunk_size=4_096, seed=8, args={"seconds": 0.05})
        print(repr(s[0].estimate), repr(s[0].std_error))
    """))
    env = dict(os.environ, PYTHONPATH=os.path.dirname(models.__file__))
    reference = subprocess.run([sys.executable, script, "sequential"], env=env,
                               capture_output=True, text=True, check=True).stdout
    child = subprocess.Popen([sys.executable, script, "processes"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    workers = _wait_for(lambda: len(_children(child.pid)) == 2 and _children(child.pid))
    time.sleep(0.5)
    os.kill(workers[0], signal.SIGKILL)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    assert out == reference
    assert f"CarloWarning: worker process {workers[0]} was killed by signal 9 (SIGKILL)" in err, err


def test_a_model_that_prints_keeps_the_protocol():
    # A worker's descriptor 1 is its stderr, so prints cannot corrupt the protocol.
    runs = [carlo.run_model(models.prints, "x", backend=b, workers=1, **SIZE)
            for b in ("sequential", "processes")]
    assert bits(runs[0]) == bits(runs[1])


def test_a_missing_module_or_function_is_a_clear_error(tmp_path):
    for entry, needle in [
        ("no_such_module:f", "cannot load no_such_module:f: ModuleNotFoundError: No module named "
                             "'no_such_module'"),
        ("models:no_such_function", "cannot load models:no_such_function: AttributeError: models "
                                    "has no no_such_function"),
        ("models:not_callable", "is a int, not a function"),
        (f"{tmp_path}/missing.py:f", "cannot load"),
    ]:
        config = {"simulation": {"samples": 1000, "seed": 1},
                  "model": {"type": "python", "entry": entry, "quantities": ["x"]}}
        with pytest.raises(carlo.ConfigError) as raised:
            carlo.run(config, backend="sequential")
        assert needle in str(raised.value), str(raised.value)
        assert "model.entry" in str(raised.value)


def test_workers_report_a_module_they_cannot_import(tmp_path):
    # Importable here (it is made after the run's start would be too late), but not
    # in workers: a module found only through a path workers do not get.
    (tmp_path / "private_model.py").write_text("def f(rng, n):\n    return rng.random(n)\n")
    sys.path.insert(0, str(tmp_path))
    try:
        import private_model
        run = carlo.run_model(private_model.f, "x", backend="processes", workers=1, **SIZE)
        assert run[0].samples == 25_000  # workers get this process's sys.path
    finally:
        sys.path.remove(str(tmp_path))


def test_unusable_functions_and_arguments_are_clear_errors():
    cases = [
        (dict(simulate=3), "the model must be callable, found int"),
        (dict(args=[1]), "args must be a dict of keyword arguments, found list"),
        (dict(retries=-1), "retries=-1: must be a whole number from 0 to 1000"),
        (dict(quantities=[]), "quantities=[]: must name at least one quantity"),
        (dict(quantities=["a", "a"]), "quantities=['a', 'a']: names \"a\" twice"),
        (dict(quantities=[3]), "quantities=[3]: expected a string, found integer `3`"),
        (dict(references={"y": 1.0}), "references={'y': 1.0}: is not a quantity of this model; "
                                      "its quantities are x"),
        (dict(workers=-1), "workers=-1: expected a whole number, found integer `-1`"),
        (dict(samples=1), "samples=1: must be at least 2"),
        (dict(backend="gpu"), "backend='gpu': unknown value `gpu`, expected one of `sequential`, `threads`"),
        (dict(confidence=1.5), "confidence=1.5: must lie between 1e-6 and 1 - 1e-12"),
        (dict(backend="mpi"), "backend='mpi': carlo was built without the mpi feature"),
    ]
    for change, needle in cases:
        kwargs = dict(simulate=models.pi, quantities=["x"], samples=1000, seed=1,
                      backend="processes")
        kwargs.update(change)
        with pytest.raises((carlo.ConfigError, TypeError, ValueError)) as raised:
            carlo.run_model(**kwargs)
        assert needle in str(raised.value), f"{change}: {raised.value}"


def test_unknown_keys_suggest_the_closest():
    with pytest.raises(carlo.ConfigError) as raised:
        carlo.run({"simulation": {"samples": 100, "seed": 1}, "model": {"type": "european"}},
                  strik=95)
    message = str(raised.value)
    assert message.startswith("strik=95: unknown key `strik` for model type european"), message
    assert "did you mean `strike`" in message
    with pytest.raises(carlo.ConfigError, match="samplez"):
        carlo.run({"simulation": {"samplez": 100, "seed": 1}, "model": {"type": "pi"}})
    with pytest.raises(carlo.ConfigError, match="cannot read"):
        carlo.run("no/such/config.toml")
    with pytest.raises(TypeError, match="config must be a path or a dict"):
        carlo.run(42)


def test_an_rng_kept_past_its_call_refuses_to_draw():
    kept = []

    def keep(rng, n):
        kept.append(rng)
        return rng.random(n)

    carlo.run_model(keep, "x", samples=10, seed=1, backend="sequential")
    with pytest.raises(ValueError, match="belongs to a block that has finished"):
        kept[0].random(3)
