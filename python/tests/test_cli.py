"""`[model] type = "python"` in the carlo CLI: the same bits as from Python."""
import textwrap

import carlo
import models
from conftest import REPO, bits, result_columns


def _config(tmp_path, entry, extra=""):
    path = tmp_path / "model.toml"
    path.write_text(textwrap.dedent(f"""
        [simulation]
        name = "py"
        samples = 120_000
        seed = 17
        chunk_size = 10_000

        [model]
        type = "python"
        entry = "{entry}"
        quantities = ["call", "put", "spot"]
        args = {{ strike = 95.0 }}
        {extra}
    """))
    return path


def test_the_cli_runs_a_python_model_with_the_bits_of_run_model(run_cli, tmp_path):
    config = _config(tmp_path, "models:option")
    ours = carlo.run_model(models.option, ["call", "put", "spot"], samples=120_000, seed=17,
                           chunk_size=10_000, args={"strike": 95.0}, name="py",
                           backend="sequential")
    for workers in ("1", "3"):
        out = run_cli("run", config, "--workers", workers, "--out", "-", "--format", "csv")
        assert "note: model type python runs in its own worker processes" in out.stderr
        assert result_columns(out.stdout) == result_columns(ours.to_csv())
    # The same job, whichever side made it.
    check = run_cli("check", config).stdout
    assert f"fingerprint {ours.fingerprint}" in check
    # And carlo.run of the same config, in this process and in Python workers.
    for backend in ("sequential", "threads", "processes"):
        assert bits(carlo.run(config, backend=backend, workers=2)) == bits(ours)


def test_a_file_entry_runs_a_script_without_its_main_block(run_cli, tmp_path):
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent("""
        import numpy as np

        def pi(rng, n):
            u = rng.random((n, 2))
            return np.where(u[:, 0] ** 2 + u[:, 1] ** 2 < 1.0, 4.0, 0.0)

        if __name__ == "__main__":
            raise SystemExit("the main block ran in a worker")
    """))
    config = tmp_path / "pi.toml"
    config.write_text(textwrap.dedent("""
        [simulation]
        samples = 100_000
        seed = 3
        chunk_size = 10_000
        [model]
        type = "python"
        entry = "script.py:pi"
        quantities = ["pi"]
        references = { pi = 3.141592653589793 }
    """))
    builtin = run_cli("run", REPO / "configs" / "pi.toml", "--samples", "100000", "--seed", "3",
                      "--chunk-size", "10000", "--out", "-", "--format", "csv", "--quiet")
    out = run_cli("run", config, "--workers", "2", "--out", "-", "--format", "csv", "--quiet",
                  cwd=tmp_path)
    again = run_cli("run", config, "--workers", "1", "--chunk-size", "4096", "--out", "-",
                    "--format", "csv", "--quiet", cwd=tmp_path)
    strip = [c for c in ("estimate", "std_error", "ci_low", "ci_high", "reference")]
    header = out.stdout.splitlines()[0].split(",")
    take = lambda text: [text.splitlines()[1].split(",")[header.index(c)] for c in strip]  # noqa: E731
    # 0.3.0: a Python pi's blocks draw from their lane-0 streams, the built-in pi's
    # from 8 lanes: the same bits on any workers and chunk size, not the built-in's
    # (as in 0.2.0), and the same number within the error.
    assert take(again.stdout) == take(out.stdout)
    ours, theirs = (list(map(float, take(t.stdout))) for t in (out, builtin))
    assert ours[4] == theirs[4]  # the reference
    assert abs(ours[0] - theirs[0]) < 5 * (ours[1] ** 2 + theirs[1] ** 2) ** 0.5


def test_the_cli_says_when_python_lacks_carlo(run_cli, tmp_path):
    config = _config(tmp_path, "models:option")
    out = run_cli("run", config, check=False, env={"CARLO_PYTHON": "/no/such/python"})
    assert out.returncode == 1
    assert out.stderr.startswith("error: cannot start /no/such/python"), out.stderr
    assert "set CARLO_PYTHON" in out.stderr
    assert len(out.stderr.splitlines()) == 1


def test_the_cli_refuses_mpi_for_python_models(run_cli, tmp_path):
    # (A build with the mpi feature refuses it for python models; this one for all.)
    out = run_cli("check", _config(tmp_path, "models:option"), "--backend", "mpi", check=False)
    assert out.returncode == 2 and "mpi" in out.stderr
