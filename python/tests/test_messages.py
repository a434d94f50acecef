"""Messages where Python users look: what a worker prints, writes to stderr or logs
reaches this process, prefixed with its block; carlo's warnings are Python warnings
and log records; progress shows without a terminal."""
import logging
import subprocess
import sys
import textwrap

import pytest

import carlo
import models


def chatty(rng, n):
    print(f"chunk of {n}")
    sys.stderr.write("a line on stderr\n")
    logging.getLogger("chatty").warning("a record of %d", n)
    return rng.random(n)


def test_worker_output_reaches_the_parent_prefixed_with_its_block(capsys, caplog):
    caplog.set_level(logging.WARNING)
    # 8 blocks, the last of 1,328 samples, in chunks of 3 blocks.
    carlo.run_model(chatty, "x", backend="processes", workers=2, samples=30_000,
                    chunk_size=10_000, seed=1)
    out, err = capsys.readouterr()
    # One call per block, each block's output once (the probe's second computations,
    # of a worker's first block and of the first blocks in this process, are silent).
    sizes = [4096] * 7 + [30_000 - 7 * 4096]
    assert sorted(out.splitlines()) == sorted(
        f"[block {b}] chunk of {n}" for b, n in enumerate(sizes)), out
    assert sorted(l for l in err.splitlines() if "stderr" in l) == sorted(
        f"[block {b}] a line on stderr" for b in range(8)), err
    records = [r for r in caplog.records if r.name == "chatty"]
    assert sorted(r.getMessage() for r in records) == sorted(
        f"[block {b}] a record of {n}" for b, n in enumerate(sizes))
    assert all(r.levelno == logging.WARNING for r in records)


def test_output_at_import_is_labelled_with_the_worker(tmp_path, capsys):
    (tmp_path / "loud_module.py").write_text(textwrap.dedent("""
        print("importing loud_module")

        def model(rng, n):
            return rng.random(n)
    """))
    sys.path.insert(0, str(tmp_path))
    try:
        import loud_module

        capsys.readouterr()
        carlo.run_model(loud_module.model, "x", backend="processes", workers=1,
                        samples=20_000, chunk_size=10_000, seed=1)
        out = capsys.readouterr().out
        assert out.startswith("[worker ") and out.rstrip().endswith("] importing loud_module"), out
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("loud_module", None)


def test_carlo_warnings_are_warnings_and_log_records(caplog):
    caplog.set_level(logging.INFO, logger="carlo")
    with pytest.warns(carlo.CarloWarning, match="standard errors from its exact reference"):
        carlo.run_model(models.pi, "pi", backend="threads", samples=100_000, seed=1,
                        references={"pi": 3.3})
    assert any("standard errors from its exact reference" in r.getMessage()
               for r in caplog.records if r.name == "carlo" and r.levelno == logging.WARNING)


def test_a_warning_made_an_error_stops_the_run():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", carlo.CarloWarning)
        with pytest.raises(carlo.CarloWarning):
            carlo.run_model(models.pi, "pi", backend="threads", samples=100_000, seed=1,
                            references={"pi": 3.3})


def test_progress_without_a_terminal_prints_lines(tmp_path):
    script = tmp_path / "progress.py"
    script.write_text(textwrap.dedent("""
        import sys
        sys.modules["tqdm"] = None  # as without tqdm installed
        import carlo, models
        # 30 blocks of 4096 (a call each), 0.1 s a call: long enough to show.
        carlo.run_model(models.slow, "x", backend="threads", workers=1, samples=122_880,
                        chunk_size=1_000, seed=1, args={"seconds": 0.1}, progress=True)
    """))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=300, env={**__import__("os").environ,
                                           "PYTHONPATH": str(models.__file__.rsplit("/", 1)[0])})
    assert out.returncode == 0, out.stderr
    lines = [l for l in out.stderr.splitlines() if l.startswith("slow: ")]
    assert lines, out.stderr
    assert "of 122,880 samples" in lines[0] and "x = " in lines[0] and "±" in lines[0]
    assert lines[-1].startswith("slow: 100% of 122,880 samples"), lines


def test_progress_may_be_a_function():
    seen = []
    carlo.run_model(models.slow, "x", backend="threads", workers=1, samples=30_000,
                    chunk_size=1_000, seed=1, args={"seconds": 0.05},
                    progress=lambda *p: seen.append(p))
    assert seen and seen[-1][:3] == (30_000, 30_000, "x")
    assert all(a[0] <= b[0] for a, b in zip(seen, seen[1:]))
