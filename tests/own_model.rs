//! Your own model: a program that registers a model next to the built-in ones and
//! calls `carlo::app::main` (examples/random_walk) gets every backend, shards,
//! checkpoints and `--set` for it, with the same bits everywhere, and a checkpoint or
//! partial of other parameters is refused.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const CONFIG: &str = "examples/random_walk/random-walk.toml";

/// 31 chunks, the last one short: small enough for a test, enough for the workers
/// to share.
const SIZE: [&str; 4] = ["--samples", "60_001", "--chunk-size", "2_000"];

fn walk() -> Command {
    Command::new(common::example("random_walk"))
}

/// `random_walk ARGS...` with `env` set.
fn output(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = walk();
    cmd.args(args).envs(env.iter().copied());
    cmd.output().expect("the example starts")
}

/// The summary CSV of `run CONFIG SIZE ARGS`, execution columns removed.
fn run(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut all = vec!["run", CONFIG];
    all.extend(SIZE);
    all.extend(args);
    all.extend(["--out", "-", "--format", "csv", "--quiet"]);
    let out = output(&all, env);
    assert!(
        out.status.success(),
        "{all:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    common::result_columns(&String::from_utf8(out.stdout).unwrap())
}

fn failure(args: &[&str]) -> String {
    let out = output(args, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn the_program_lists_and_checks_its_model() {
    let out = output(&["models"], &[]);
    let text = String::from_utf8(out.stdout).unwrap();
    for kind in ["random-walk", "pi", "european", "american"] {
        assert!(text.contains(kind), "models does not list {kind}:\n{text}");
    }
    let out = output(&["check", CONFIG], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reference = run(&["--backend", "sequential"], &[]);
    let quantities: Vec<&str> = reference
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap())
        .collect();
    assert_eq!(quantities, ["max", "final", "positive"]);
}

#[test]
fn every_backend_and_worker_count_gives_the_same_bits() {
    let reference = run(&["--backend", "sequential"], &[]);
    for workers in ["1", "2", "3"] {
        for backend in ["threads", "processes"] {
            let csv = run(&["--backend", backend, "--workers", workers], &[]);
            assert_eq!(csv, reference, "{backend} x{workers}");
        }
    }
    let aborted = run(
        &["--backend", "processes", "--workers", "2"],
        &[("CARLO_FAULT", "abort-at:3")],
    );
    assert_eq!(aborted, reference, "a worker aborted at chunk 3");
}

#[cfg(target_os = "linux")]
#[test]
fn a_worker_killed_mid_run_changes_nothing() {
    let reference = run(&["--backend", "sequential"], &[]);
    let mut cmd = walk();
    cmd.args(["run", CONFIG])
        .args(SIZE)
        .args(["--backend", "processes", "--workers", "2", "--out", "-"])
        .args(["--format", "csv", "--quiet"])
        // Chunk 5 takes a second, so the run is still going when a worker is killed.
        .env("CARLO_FAULT", "sleep-at:5:1000")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    let workers = common::wait_for_children(child.id(), 2);
    std::thread::sleep(Duration::from_millis(200));
    // SAFETY: sending a signal to a pid this test started.
    assert_eq!(unsafe { libc::kill(workers[0] as i32, libc::SIGKILL) }, 0);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = common::result_columns(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(csv, reference);
}

fn shard_parts(dir: &Path, count: u64, extra: &[&str]) -> Vec<PathBuf> {
    (1..=count)
        .map(|i| {
            let part = dir.join(format!("part-{i}.json"));
            let shard = format!("{i}/{count}");
            let mut args = vec!["run", CONFIG, "--shard", &shard, "--quiet"];
            args.extend(SIZE);
            // The last shard gets `extra`, to make partials of another job.
            if i == count {
                args.extend(extra);
            }
            args.extend(["--out", part.to_str().unwrap()]);
            let out = output(&args, &[]);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            part
        })
        .collect()
}

#[test]
fn three_shards_merge_to_the_bits_of_one_run() {
    let reference = run(&["--backend", "sequential"], &[]);
    let dir = tempfile::tempdir().unwrap();
    let parts = shard_parts(dir.path(), 3, &[]);
    let mut args = vec!["merge"];
    args.extend(parts.iter().map(|p| p.to_str().unwrap()));
    args.extend(["--out", "-", "--format", "csv"]);
    let out = output(&args, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let merged = common::result_columns(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(merged, reference);
}

#[test]
fn partials_of_other_parameters_are_refused_naming_the_parameter() {
    let dir = tempfile::tempdir().unwrap();
    let parts = shard_parts(dir.path(), 2, &["--set", "model.steps=50"]);
    let mut args = vec!["merge"];
    args.extend(parts.iter().map(|p| p.to_str().unwrap()));
    args.extend(["--out", "-"]);
    let stderr = failure(&args);
    assert!(stderr.contains("model.steps 100 vs 50"), "{stderr}");
}

#[cfg(target_os = "linux")]
#[test]
fn a_run_killed_and_resumed_from_its_checkpoint_keeps_every_bit() {
    let reference = run(&["--backend", "sequential"], &[]);
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = dir.path().join("walk.ckpt");
    let ckpt = checkpoint.to_str().unwrap();
    let mut cmd = walk();
    cmd.args(["run", CONFIG])
        .args(SIZE)
        .args(["--backend", "processes", "--workers", "2", "--quiet"])
        .args(["--checkpoint", ckpt, "--checkpoint-interval", "0.02"])
        .arg("--out")
        .arg(dir.path().join("out.csv"))
        // Chunk 12 holds the run long enough to kill it after some progress.
        .env("CARLO_FAULT", "sleep-at:12:30000")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while common::blocks_done(&checkpoint).is_none_or(|n| n < 5) {
        assert!(Instant::now() < deadline, "no progress was saved");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL: no destructor, no last save
    child.wait().unwrap();
    assert!(!dir.path().join("out.csv").exists());
    let done = common::blocks_done(&checkpoint).unwrap();
    assert!(done < 31, "the run finished before it was killed");
    let resumed = run(&["--checkpoint", ckpt], &[]);
    assert_eq!(resumed, reference);

    // The same checkpoint with other parameters of the same model is refused.
    let mut args = vec!["run", CONFIG, "--checkpoint", ckpt];
    args.extend(SIZE);
    args.extend(["--set", "model.steps=200", "--out", "-"]);
    let stderr = failure(&args);
    assert!(
        stderr.contains("model.steps 100 there, 200 here"),
        "{stderr}"
    );
}

#[test]
fn set_overrides_model_keys_with_the_files_checks() {
    let base = ["check", CONFIG, "--set"];
    let cases = [
        ("model.step=5", "did you mean `steps`"),
        ("model.steps=many", "model.steps=many"),
        ("model.volatility=-1", "model.volatility"),
        ("simulation.confidence=1.5", "simulation.confidence"),
        ("colour=red", "--set"),
    ];
    for (set, needle) in cases {
        let mut args = base.to_vec();
        args.push(set);
        let stderr = failure(&args);
        assert!(stderr.contains(needle), "{set}: {stderr}");
        assert!(stderr.contains("--set"), "{set}: {stderr}");
    }
    // A valid override changes the job and its exact references.
    let csv = run(&["--set", "model.drift=0", "--backend", "sequential"], &[]);
    let final_row = csv.lines().find(|l| l.contains(",final,")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let reference = header.iter().position(|&c| c == "reference").unwrap();
    assert_eq!(final_row.split(',').nth(reference), Some("0"));
}
