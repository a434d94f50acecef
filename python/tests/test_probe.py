"""The determinism probe: a model whose block differs when computed twice (its own
generator, state kept between calls, state that differs between processes) is
refused on every backend, with a message that names the rule and the fix."""
import numpy as np
import pytest

import carlo
import models
import probe_settings
import probe_state

SIZE = dict(samples=40_000, chunk_size=10_000, seed=2)
BACKENDS = [("sequential", 1), ("threads", 2), ("processes", 2)]


def own_generator(rng, n):
    return np.random.default_rng().random(n)


def legacy_global(rng, n):
    return np.random.random(n)


COUNTER = [0]


def keeps_state(rng, n):
    COUNTER[0] += 1
    return rng.random(n) + COUNTER[0]


@pytest.mark.parametrize("backend, workers", BACKENDS)
@pytest.mark.parametrize("model", [own_generator, legacy_global, keeps_state])
def test_a_model_that_does_not_draw_from_rng_alone_is_refused(backend, workers, model):
    if model is keeps_state and backend == "processes" and COUNTER[0]:
        # Its global changed in this process (by the runs before): the workers import
        # another function, and say which global differs.
        with pytest.raises(carlo.ConfigError, match=r"a global it reads \(COUNTER\)"):
            carlo.run_model(model, "x", backend=backend, workers=workers, **SIZE)
        return
    with pytest.raises(carlo.DeterminismError) as raised:
        carlo.run_model(model, "x", backend=backend, workers=workers, **SIZE)
    message = str(raised.value)
    chunk = raised.value.chunk  # the first chunk a worker ran
    # Its first block computed twice; chunks of 10,000 samples are 3 blocks of 4096.
    assert f"determinism probe: block {3 * chunk} computed twice" in message, message
    assert "draw every random number from rng" in message, message
    assert "rng.numpy()" in message and "probe=False" in message, message


def test_probe_false_runs_it_anyway():
    s = carlo.run_model(own_generator, "x", backend="threads", probe=False, **SIZE)
    assert s[0].samples == 40_000


def test_state_that_differs_between_processes_is_refused():
    # probe_state.model reads a value of another module, which this process changes
    # after import: the workers import their own, and nothing in the job says so.
    probe_settings.FACTOR = 3.0
    try:
        threads = carlo.run_model(probe_state.model, "x", backend="threads", **SIZE)
        assert threads[0].estimate > 1.0
        with pytest.raises(carlo.DeterminismError) as raised:
            carlo.run_model(probe_state.model, "x", backend="processes", workers=1, **SIZE)
        message = str(raised.value)
        assert "computed in a worker process and again in this process" in message, message
        assert "reads state that differs between processes" in message, message
        # A run of one block, whose digest the run keeps only as its group's.
        with pytest.raises(carlo.DeterminismError, match="block 0 computed in a worker"):
            carlo.run_model(probe_state.model, "x", backend="processes", workers=2,
                            samples=1_000, seed=2)
    finally:
        probe_settings.FACTOR = 1.0


def test_a_deterministic_model_passes_on_every_backend():
    runs = [carlo.run_model(models.option, ["call", "put", "spot"], backend=b, workers=w,
                            **SIZE) for b, w in BACKENDS]
    assert all(r[0].estimate == runs[0][0].estimate for r in runs)
