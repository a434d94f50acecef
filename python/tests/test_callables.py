"""Any callable runs on every backend with the same bits, and the job's fingerprint
covers what its answer depends on (code, bound and captured arguments, args, the
globals it reads) but not the folder it lives in."""
import functools
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import carlo
import models
from conftest import bits

SIZE = dict(samples=45_000, chunk_size=10_000, seed=3)  # 5 chunks, the last short


def scaled(rng, n, scale=1.0):
    return rng.random(n) * scale


def make_closure(scale):
    def closure(rng, n):
        return rng.random(n) * scale

    return closure


class Scaler:
    def __init__(self, scale):
        self.scale = scale

    def __call__(self, rng, n):
        return rng.random(n) * self.scale

    def method(self, rng, n):
        return rng.standard_normal(n) + self.scale


def weighted(rng, n, w):
    return rng.random((n, len(w))) @ w


CALLABLES = {
    "partial": functools.partial(scaled, scale=4.0),
    "closure": make_closure(4.0),
    "lambda": lambda rng, n: rng.random(n) * 4.0,
    "instance": Scaler(4.0),
    "bound method": Scaler(2.0).method,
    "partial of a module function": functools.partial(models.option, strike=95.0),
}


@pytest.mark.parametrize("name", sorted(CALLABLES))
def test_every_callable_gives_the_threads_bits_on_processes(name):
    function = CALLABLES[name]
    quantities = ["call", "put", "spot"] if "module" in name else ["x"]
    runs = [carlo.run_model(function, quantities, backend=b, workers=w, **SIZE)
            for b, w in (("threads", 2), ("processes", 2), ("sequential", 1))]
    assert bits(runs[1]) == bits(runs[0]) and bits(runs[2]) == bits(runs[0])
    assert runs[1].fingerprint == runs[0].fingerprint
    assert runs[0].job["model"]["code"] and len(runs[0].job["model"]["code"]) == 32


def test_a_function_of_a_module_travels_by_reference():
    s = carlo.run_model(models.pi, "pi", backend="processes", workers=1, **SIZE)
    assert s.job["model"]["entry"] == "models:pi"
    assert "by_value" not in s.job["model"]
    lam = carlo.run_model(CALLABLES["lambda"], "x", backend="threads", **SIZE)
    assert lam.job["model"]["by_value"] is True


def test_bound_arguments_are_in_the_fingerprint_and_a_checkpoint_refuses_the_other(tmp_path):
    four = functools.partial(scaled, scale=4.0)
    one = functools.partial(scaled, scale=1.0)
    a = carlo.run_model(four, "x", backend="threads", **SIZE)
    b = carlo.run_model(one, "x", backend="threads", **SIZE)
    assert a.fingerprint != b.fingerprint
    assert a[0].estimate == 4 * b[0].estimate
    # A closure's captured value and an instance's state count the same way.
    assert (carlo.run_model(make_closure(4.0), "x", backend="threads", **SIZE).fingerprint
            != carlo.run_model(make_closure(1.0), "x", backend="threads", **SIZE).fingerprint)
    assert (carlo.run_model(Scaler(4.0), "x", backend="threads", **SIZE).fingerprint
            != carlo.run_model(Scaler(1.0), "x", backend="threads", **SIZE).fingerprint)
    checkpoint = tmp_path / "run.checkpoint"
    carlo.run_model(four, "x", backend="threads", checkpoint=checkpoint, **SIZE)
    with pytest.raises(carlo.ConfigError, match=r"written by another run \(model.code "):
        carlo.run_model(one, "x", backend="threads", checkpoint=checkpoint, **SIZE)


def test_numpy_arrays_in_args_are_shipped_and_hashed_by_content():
    w = np.array([0.5, 0.25, 0.125])
    runs = [carlo.run_model(weighted, "x", backend=b, workers=2, args={"w": w}, **SIZE)
            for b in ("threads", "processes")]
    assert bits(runs[0]) == bits(runs[1])
    same = carlo.run_model(weighted, "x", backend="threads", args={"w": w.copy()}, **SIZE)
    other = carlo.run_model(weighted, "x", backend="threads", args={"w": w * 2}, **SIZE)
    assert same.fingerprint == runs[0].fingerprint
    assert other.fingerprint != runs[0].fingerprint
    # Config values stay in the job as they are; the array is in the code digest.
    mixed = carlo.run_model(weighted, "x", backend="threads", args={"w": w}, **SIZE)
    assert "args" not in mixed.job["model"]


SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import carlo

    SCALE = 1.0

    def helper(u):
        return u * SCALE

    def model(rng, n):
        return helper(rng.random(n))

    if __name__ == "__main__":
        SCALE = 4.0  # set where workers that import the script would not see it
        for backend in sys.argv[1:]:
            s = carlo.run_model(model, "x", samples=40_000, chunk_size=10_000, seed=5,
                                backend=backend, workers=2)
            print(backend, repr(s[0].estimate), s.fingerprint)
""")


def _run_script(path, *args, env=None, cwd=None):
    environment = dict(os.environ, PYTHONPATH=os.path.dirname(models.__file__), **(env or {}))
    out = subprocess.run([sys.executable, str(path), *args], capture_output=True, text=True,
                         env=environment, cwd=cwd, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_a_global_set_under_main_is_carried_to_workers(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    lines = _run_script(script, "threads", "processes").split()
    threads, processes = lines[1], lines[4]
    assert threads == processes
    assert float(threads) > 1.5  # SCALE = 4 was used: the mean of 4 u is 2
    assert lines[2] == lines[5]


def test_the_same_script_in_two_folders_has_one_fingerprint(tmp_path):
    prints = []
    for folder in ("one", "two/deeper"):
        (tmp_path / folder).mkdir(parents=True)
        script = tmp_path / folder / "script.py"
        script.write_text(SCRIPT)
        prints.append(_run_script(script, "processes", cwd=tmp_path / folder))
    assert prints[0] == prints[1]


def test_functions_of_python_c_and_a_notebook_like_main_run_on_processes():
    code = SCRIPT.replace('if __name__ == "__main__":', "if True:")
    out = subprocess.run([sys.executable, "-c", code, "threads", "processes"],
                         capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, PYTHONPATH=os.path.dirname(models.__file__)))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split()
    assert lines[1] == lines[4] and lines[2] == lines[5]


MODULE = textwrap.dedent("""
    SCALE = 1.0

    def model(rng, n):
        return rng.random(n) * SCALE
""")


def test_a_module_global_changed_by_the_caller_is_refused_in_workers(tmp_path):
    (tmp_path / "scaled_module.py").write_text(MODULE)
    sys.path.insert(0, str(tmp_path))
    try:
        import scaled_module

        scaled_module.SCALE = 4.0
        threads = carlo.run_model(scaled_module.model, "x", backend="threads", **SIZE)
        assert threads[0].estimate > 1.5
        with pytest.raises(carlo.ConfigError) as raised:
            carlo.run_model(scaled_module.model, "x", backend="processes", workers=1, **SIZE)
        message = str(raised.value)
        assert "is not the function the job was made with" in message, message
        assert "(SCALE)" in message and "args=" in message, message
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("scaled_module", None)


def test_a_function_that_cannot_be_pickled_says_so():
    import threading

    lock = threading.Lock()

    def holds_a_lock(rng, n):
        with lock:
            return rng.random(n)

    assert carlo.run_model(holds_a_lock, "x", backend="threads", **SIZE)[0].samples == 45_000
    with pytest.raises(TypeError, match="cannot be sent to worker processes: cloudpickle"):
        carlo.run_model(holds_a_lock, "x", backend="processes", **SIZE)
