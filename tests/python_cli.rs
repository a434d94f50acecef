//! `[model] type = "python"` from the `carlo` binary: its chunks run in Python worker
//! processes, through `run` (every backend becomes processes), `scale`, `--shard` and
//! `merge`, checkpoints and targets, with the same bits everywhere. (A Python pi draws
//! each block from one stream, the built-in pi from eight lanes: since 0.3.0 they
//! agree within their errors, not in their bits.)
//!
//! These tests need a Python with carlo's package (`pip install ./python`): the one
//! in `$CARLO_PYTHON`, else `python3`. Without one, each test says so and passes;
//! `.ci/run` installs the package in a virtual environment and sets `CARLO_PYTHON`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const CARLO: &str = env!("CARGO_BIN_EXE_carlo");

/// The Python model the configs name: carlo's pi, and a model that raises.
const MODELS: &str = r#"
import numpy as np

def pi(rng, n):
    u = rng.random((n, 2))
    x, y = u[:, 0], u[:, 1]
    return np.where(x * x + y * y < 1.0, 4.0, 0.0)

def fails(rng, n):
    if n < 4096:
        return helper(n)
    return rng.random(n)

def helper(n):
    raise ArithmeticError(f"cannot handle {n} samples")
"#;

/// A folder with the model module and configs, or `None` (after saying why) when no
/// Python with carlo is at hand.
fn setup() -> Option<tempfile::TempDir> {
    let python = std::env::var_os("CARLO_PYTHON").unwrap_or_else(|| "python3".into());
    let probe = Command::new(&python)
        .args(["-c", "import carlo._worker, numpy"])
        .stderr(Stdio::null())
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        eprintln!(
            "skipped: {} cannot import carlo and numpy; pip install ./python and set \
             CARLO_PYTHON to run these tests",
            python.to_string_lossy()
        );
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pymodels.py"), MODELS).unwrap();
    Some(dir)
}

/// A config of `function` in `dir`: 73 blocks of 4096, the last one of 88 samples, in
/// chunks of 10_000 (rounded up to 3 blocks): 25 chunks.
fn config(dir: &Path, name: &str, function: &str, extra: &str) -> PathBuf {
    common::write_config(
        dir,
        &format!("{name}.toml"),
        &format!(
            "[simulation]\nname = \"{name}\"\nsamples = 295_000\nseed = 5\nchunk_size = 10_000\n\
             {extra}\n[model]\ntype = \"python\"\nentry = \"pymodels:{function}\"\n\
             quantities = [\"pi\"]\nreferences = {{ pi = 3.141592653589793 }}\n"
        ),
    )
}

/// The built-in pi with the same job.
fn builtin(dir: &Path, extra: &str) -> PathBuf {
    common::write_config(
        dir,
        "builtin.toml",
        &format!(
            "[simulation]\nname = \"builtin\"\nsamples = 295_000\nseed = 5\nchunk_size = 10_000\n\
             {extra}\n[model]\ntype = \"pi\"\n"
        ),
    )
}

/// `carlo ARGS...` run in `dir`, where workers find `pymodels`.
fn carlo(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(CARLO)
        .args(args)
        .current_dir(dir)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The columns that hold the result's bits, from a CSV summary.
fn result(csv: &str) -> Vec<String> {
    [
        "estimate",
        "std_error",
        "ci_low",
        "ci_high",
        "samples",
        "reference",
        "stop_reason",
    ]
    .iter()
    .map(|c| common::field(csv, c))
    .collect()
}

fn csv_of(dir: &Path, config: &Path, args: &[&str]) -> String {
    let mut all = vec!["run", config.to_str().unwrap()];
    all.extend(args);
    all.extend(["--out", "-", "--format", "csv", "--quiet"]);
    ok(carlo(dir, &all, &[]))
}

#[test]
fn a_python_pi_gives_the_same_bits_on_any_backend_and_worker_count() {
    let Some(dir) = setup() else { return };
    let dir = dir.path();
    let python = config(dir, "py", "pi", "");
    let reference = result(&csv_of(dir, &python, &[]));
    // The built-in pi, on other streams, agrees within 5 standard errors of the
    // difference (a correct pair lands further about once in 1.7 million).
    let builtin = result(&csv_of(dir, &builtin(dir, ""), &[]));
    let (a, b): (f64, f64) = (reference[0].parse().unwrap(), builtin[0].parse().unwrap());
    let (sa, sb): (f64, f64) = (reference[1].parse().unwrap(), builtin[1].parse().unwrap());
    assert!((a - b).abs() <= 5.0 * sa.hypot(sb), "{a} vs {b}");
    for args in [
        &["--backend", "sequential"][..],
        &["--backend", "threads", "--workers", "2"],
        &["--backend", "processes", "--workers", "1"],
        &["--backend", "processes", "--workers", "3"],
    ] {
        let csv = csv_of(dir, &python, args);
        assert_eq!(result(&csv), reference, "{args:?}");
        assert_eq!(common::field(&csv, "backend"), "processes");
    }
    // The note says why the backend changed.
    let out = carlo(
        dir,
        &["run", "py.toml", "--backend", "sequential", "--out", "-"],
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("note: model type python runs in its own worker processes: backend processes with 1 worker instead of sequential"),
        "{stderr}"
    );
    // A worker that aborts is replaced, the result unchanged.
    let out = carlo(
        dir,
        &[
            "run",
            "py.toml",
            "--workers",
            "2",
            "--out",
            "-",
            "--format",
            "csv",
            "--quiet",
        ],
        &[("CARLO_FAULT", "abort-at:4")],
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("SIGABRT"),
        "no warning"
    );
    assert_eq!(result(&ok(out)), reference);
}

#[test]
fn shards_merge_to_the_bits_of_one_run() {
    let Some(dir) = setup() else { return };
    let dir = dir.path();
    let python = config(dir, "py", "pi", "");
    let reference = result(&csv_of(dir, &python, &[]));
    let mut parts = Vec::new();
    for shard in ["1/3", "2/3", "3/3"] {
        let part = format!("part-{}.json", &shard[..1]);
        ok(carlo(
            dir,
            &[
                "run", "py.toml", "--shard", shard, "--out", &part, "--quiet",
            ],
            &[],
        ));
        parts.push(part);
    }
    let mut args = vec!["merge"];
    args.extend(parts.iter().map(String::as_str));
    args.extend(["--out", "-", "--format", "csv", "--quiet"]);
    assert_eq!(result(&ok(carlo(dir, &args, &[]))), reference);
}

#[test]
fn a_target_stops_at_the_same_check_on_any_worker_count() {
    let Some(dir) = setup() else { return };
    let dir = dir.path();
    let target = "target_abs_error = 0.01\ncheck_every = 16384";
    let python = config(dir, "py", "pi", target);
    let reference = result(&csv_of(dir, &python, &["--workers", "1"]));
    assert_eq!(reference[6], "target");
    let samples: u64 = reference[4].parse().unwrap();
    assert!(
        samples < 295_000 && samples.is_multiple_of(16384),
        "{samples}"
    );
    assert_eq!(
        result(&csv_of(dir, &python, &["--workers", "3"])),
        reference
    );
}

#[test]
fn scale_runs_python_workers_with_the_same_bits() {
    let Some(dir) = setup() else { return };
    let dir = dir.path();
    config(dir, "py", "pi", "");
    let out = ok(carlo(
        dir,
        &[
            "scale",
            "py.toml",
            "--workers",
            "1,2",
            "--backends",
            "processes",
            "--out",
            "scale.csv",
        ],
        &[],
    ));
    assert!(
        out.contains("every run gave the same estimate bits"),
        "{out}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn ctrl_c_saves_a_checkpoint_and_the_run_resumes_with_the_same_bits() {
    let Some(dir) = setup() else { return };
    let dir = dir.path();
    let python = config(dir, "py", "pi", "");
    let reference = result(&csv_of(dir, &python, &[]));
    let checkpoint = dir.join("py.checkpoint.json");
    let args = [
        "run",
        "py.toml",
        "--workers",
        "2",
        "--checkpoint",
        checkpoint.to_str().unwrap(),
        "--out",
        "-",
        "--format",
        "csv",
        "--quiet",
    ];
    let child = Command::new(CARLO)
        .args(args)
        .current_dir(dir)
        // Chunk 6 takes a while, so the run is still going when Ctrl-C comes.
        .env("CARLO_FAULT", "sleep-at:6:5000")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let workers = common::wait_for_children(child.id(), 2);
    std::thread::sleep(Duration::from_millis(1500));
    // SAFETY: sending a signal to a process this test started.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("progress saved to"), "{stderr}");
    common::assert_all_die(&workers, "after Ctrl-C");
    let resumed = ok(carlo(dir, &args, &[]));
    assert_eq!(result(&resumed), reference);
}

#[test]
fn an_exception_names_the_chunk_and_carries_the_traceback() {
    let Some(dir) = setup() else { return };
    let dir = dir.path();
    config(dir, "fails", "fails", "");
    let out = carlo(dir, &["run", "fails.toml", "--out", "-", "--quiet"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let first = stderr.lines().next().unwrap();
    assert!(first.starts_with("error: worker process "), "{stderr}");
    assert!(
        first
            .ends_with("chunk 24: pymodels:fails raised ArithmeticError: cannot handle 88 samples"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Traceback (most recent call last)"),
        "{stderr}"
    );
    assert!(stderr.contains("in helper"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_missing_interpreter_or_module_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    config(dir, "py", "pi", "");
    let out = carlo(
        dir,
        &["check", "py.toml"],
        &[("CARLO_PYTHON", "/no/such/python")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: cannot start /no/such/python")
            && stderr.contains("CARLO_PYTHON"),
        "{stderr}"
    );
    if setup().is_none() {
        return;
    }
    common::write_config(
        dir,
        "missing.toml",
        "[simulation]\nsamples = 100\nseed = 1\n[model]\ntype = \"python\"\n\
         entry = \"no_such_module:f\"\nquantities = [\"x\"]\n",
    );
    let out = carlo(dir, &["run", "missing.toml", "--out", "-"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Bad input, found when the job is made: exit code 2, pointing at the key.
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "line 6, column 9: model.entry: cannot load no_such_module:f: ModuleNotFoundError: \
             No module named 'no_such_module'"
        ),
        "{stderr}"
    );
}

#[test]
fn a_model_that_workers_cannot_load_is_bad_input_too() {
    let Some(dir) = setup() else { return };
    let dir = dir.path();
    // Loads when the job is made, fails in the worker processes.
    std::fs::write(
        dir.join("workers_only.py"),
        "import carlo._worker\n\
         if carlo._worker.ACTIVE:\n    raise ImportError('not in a worker')\n\
         def f(rng, n):\n    return rng.random(n)\n",
    )
    .unwrap();
    common::write_config(dir, "w.toml", &one_model("workers_only:f"));
    let out = carlo(dir, &["run", "w.toml", "--out", "-", "--workers", "1"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("model.entry: cannot load workers_only:f: ImportError: not in a worker")
            && stderr.contains("(in worker process "),
        "{stderr}"
    );
}

/// A config of the python model `entry`, 100 samples.
fn one_model(entry: &str) -> String {
    format!(
        "[simulation]\nsamples = 100\nseed = 1\n[model]\ntype = \"python\"\n\
         entry = \"{entry}\"\nquantities = [\"x\"]\n"
    )
}

#[test]
fn a_crash_message_quotes_the_workers_own_last_line() {
    // No runpy RuntimeWarning in a worker's stderr, to stand in for what it said.
    let Some(dir) = setup() else { return };
    let dir = dir.path();
    let config = config(dir, "py", "pi", "");
    let out = carlo(
        dir,
        &[
            "run",
            config.to_str().unwrap(),
            "--out",
            "-",
            "--workers",
            "1",
        ],
        &[("CARLO_FAULT", "abort-always:2")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("its last stderr line: carlo worker: CARLO_FAULT=abort-always:2"),
        "{stderr}"
    );
    assert!(!stderr.contains("RuntimeWarning"), "{stderr}");
}

#[test]
fn a_model_that_hangs_at_import_is_caught_when_the_job_is_made() {
    let Some(dir) = setup() else { return };
    let dir = dir.path();
    std::fs::write(
        dir.join("hangs.py"),
        "import threading\nthreading.Event().wait()\ndef f(rng, n):\n    return rng.random(n)\n",
    )
    .unwrap();
    common::write_config(dir, "h.toml", &one_model("hangs:f"));
    let start = std::time::Instant::now();
    let out = carlo(dir, &["check", "h.toml"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("model.entry: loading hangs:f made no progress for 60 s"),
        "{stderr}"
    );
    assert!(start.elapsed() < Duration::from_secs(120));
}
