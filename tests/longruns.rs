//! Long runs: stopping on a target error, checkpoints (resume after SIGKILL and
//! Ctrl-C), and the convergence trace. Each keeps the promise: the same bits as an
//! uninterrupted run on any backend.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin_cmd;

/// A pi config whose per-sample standard deviation is about 1.642 (4 times a
/// Bernoulli(pi/4)), so the half-width after n samples is about 3.22 / sqrt(n).
fn pi_config(dir: &Path, samples: u64, chunk: u64, extra: &str) -> PathBuf {
    common::write_config(
        dir,
        "pi.toml",
        &format!(
            "[simulation]\nsamples = {samples}\nseed = 11\nchunk_size = {chunk}\n{extra}\n\
             [model]\ntype = \"pi\"\n"
        ),
    )
}

fn float(csv: &str, column: &str) -> f64 {
    common::field(csv, column).parse().unwrap()
}

fn half_width(csv: &str) -> f64 {
    0.5 * (float(csv, "ci_high") - float(csv, "ci_low"))
}

#[test]
fn a_target_stops_every_backend_at_the_same_check_with_the_same_bits() {
    let dir = tempfile::tempdir().unwrap();
    // A half-width of 0.01 needs about 104_000 samples: the run must stop at one of
    // the checks (every 8192 samples, two blocks) well before its 400_000 maximum.
    let target = 0.01;
    let config = pi_config(
        dir.path(),
        400_000,
        1000,
        &format!("target_abs_error = {target}\ncheck_every = 8192"),
    );
    let reference = common::run_csv(&config, &["--backend", "sequential"]);
    for (backend, workers) in [
        ("threads", "1"),
        ("threads", "2"),
        ("threads", "3"),
        ("processes", "2"),
    ] {
        let csv = common::run_csv(&config, &["--backend", backend, "--workers", workers]);
        assert_eq!(
            common::result_columns(&csv),
            common::result_columns(&reference),
            "{backend} x{workers}"
        );
    }
    assert_eq!(common::field(&reference, "stop_reason"), "target");
    let samples: u64 = common::field(&reference, "samples").parse().unwrap();
    assert!(
        samples < 400_000 && samples.is_multiple_of(8192),
        "{samples}"
    );
    assert!(half_width(&reference) <= target);
    // The check before did not meet the target: a run capped there ends on its
    // maximum, with a wider interval, and its stop reason says so.
    let before = (samples - 8192).to_string();
    let capped = common::run_csv(&config, &["--samples", &before]);
    assert_eq!(common::field(&capped, "stop_reason"), "samples");
    assert!(half_width(&capped) > target);
}

#[test]
fn a_relative_target_is_met_relative_to_the_estimate() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(
        dir.path(),
        400_000,
        1000,
        "target_rel_error = 0.004\ncheck_every = 20480",
    );
    let csv = common::run_csv(&config, &["--workers", "2"]);
    assert_eq!(common::field(&csv, "stop_reason"), "target");
    assert!(half_width(&csv) <= 0.004 * float(&csv, "estimate"));
    let samples: u64 = common::field(&csv, "samples").parse().unwrap();
    assert!(
        samples < 400_000 && samples.is_multiple_of(20480),
        "{samples}"
    );
}

#[test]
fn an_unreachable_target_stops_at_the_maximum() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), 50_500, 1000, "target_abs_error = 1e-6");
    let csv = common::run_csv(&config, &["--workers", "3"]);
    assert_eq!(common::field(&csv, "stop_reason"), "samples");
    assert_eq!(common::field(&csv, "samples"), "50500");
    let plain = common::run_csv(&pi_config(dir.path(), 50_500, 1000, ""), &[]);
    assert_eq!(common::field(&plain, "stop_reason"), "samples");
    assert_eq!(
        common::field(&csv, "estimate"),
        common::field(&plain, "estimate")
    );
}

fn lines(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn the_trace_has_powers_of_two_and_ends_on_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    // 9 blocks of 4096, the last one short, in chunks of 1000 (rounded up to one
    // block).
    let config = pi_config(dir.path(), 36_500, 1000, "");
    let mut traces = Vec::new();
    for (i, backend) in [["--backend", "sequential"], ["--workers", "3"]]
        .iter()
        .enumerate()
    {
        let trace = dir.path().join(format!("trace{i}.csv"));
        let plot = dir.path().join(format!("trace{i}.svg"));
        let csv = common::run_csv(
            &config,
            &[
                backend[0],
                backend[1],
                "--trace",
                trace.to_str().unwrap(),
                "--plot",
                plot.to_str().unwrap(),
            ],
        );
        let rows = lines(&trace);
        assert_eq!(
            rows[0],
            [
                "blocks",
                "samples",
                "estimate",
                "std_error",
                "ci_low",
                "ci_high"
            ]
        );
        let blocks: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
        assert_eq!(blocks, ["1", "2", "4", "8", "9"]);
        assert_eq!(rows[3][1], "16384");
        let last = rows.last().unwrap();
        assert_eq!(last[1], "36500");
        for (i, column) in ["estimate", "std_error", "ci_low", "ci_high"]
            .iter()
            .enumerate()
        {
            assert_eq!(last[2 + i], common::field(&csv, column), "{column}");
        }
        let svg = std::fs::read_to_string(&plot).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("reference"),
            "{svg}"
        );
        traces.push(rows);
    }
    assert_eq!(traces[0], traces[1]);
}

#[test]
fn a_trace_with_a_target_ends_at_the_stop() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(
        dir.path(),
        400_000,
        1000,
        "target_abs_error = 0.01\ncheck_every = 98304",
    );
    let trace = dir.path().join("trace.csv");
    let csv = common::run_csv(&config, &["--trace", trace.to_str().unwrap()]);
    let rows = lines(&trace);
    let last = rows.last().unwrap();
    assert_eq!(last[1], common::field(&csv, "samples"));
    // Checks every 24 blocks of 4096 samples.
    let blocks: u64 = last[0].parse().unwrap();
    assert!(blocks.is_multiple_of(24));
    // Every row before the last is a power of two below the stop.
    for row in &rows[1..rows.len() - 1] {
        let b: u64 = row[0].parse().unwrap();
        assert!(b.is_power_of_two() && b < blocks, "{row:?}");
    }
}

// ---- Checkpoints -------------------------------------------------------------

/// A run slow enough to be interrupted (about a second on two idle cores), in
/// many chunks so that checkpoints hold real progress.
const SLOW_SAMPLES: u64 = 100_000_000;
const SLOW_CHUNK: u64 = 20_000;

fn start(config: &Path, checkpoint: Option<&Path>, out: &Path) -> Child {
    start_on("threads", config, checkpoint, out)
}

fn start_on(backend: &str, config: &Path, checkpoint: Option<&Path>, out: &Path) -> Child {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("carlo"));
    cmd.arg("run")
        .arg(config)
        .args(["--backend", backend, "--workers", "2", "--quiet", "--out"])
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(path) = checkpoint {
        cmd.arg("--checkpoint")
            .arg(path)
            .args(["--checkpoint-interval", "0.02"]);
    }
    cmd.spawn().expect("carlo starts")
}

fn complete(checkpoint: &Path) -> bool {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(checkpoint).unwrap()).unwrap();
    json["content"]["complete"].as_bool().unwrap()
}

/// Polls `ready` every 5 ms for up to a minute (a loaded machine can be slow).
fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// True once `pid` catches SIGINT (its handler is installed), from /proc.
fn catches_sigint(pid: u32) -> bool {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return false;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (2 - 1)) != 0)
}

fn interrupt(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[cfg(target_os = "linux")]
#[test]
fn a_run_killed_again_and_again_resumes_to_the_same_bits() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), SLOW_SAMPLES, SLOW_CHUNK, "");
    let reference = common::run_csv(&config, &["--workers", "2"]);
    let checkpoint = dir.path().join("run.ckpt");
    let out = dir.path().join("out.csv");
    let mut kills_mid_run = 0;
    // Kill right after the first save with progress, then later and later.
    for extra_ms in [0, 60, 150] {
        let before = common::blocks_done(&checkpoint).unwrap_or(0);
        let mut child = start(&config, Some(&checkpoint), &out);
        wait_for("a checkpoint with progress", || {
            common::blocks_done(&checkpoint).is_some_and(|n| n > before)
        });
        std::thread::sleep(Duration::from_millis(extra_ms));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        if !complete(&checkpoint) {
            kills_mid_run += 1;
            assert!(!out.exists(), "a killed run wrote its summary");
        }
    }
    // The first kill comes a few milliseconds into a run of about a second.
    assert!(kills_mid_run >= 1);
    let resumed = common::run_csv(&config, &["--checkpoint", checkpoint.to_str().unwrap()]);
    assert_eq!(
        common::result_columns(&resumed),
        common::result_columns(&reference)
    );
    assert!(complete(&checkpoint), "a finished run marks its checkpoint");
    // Finished: the same command reprints the summary, timings included.
    let again = common::run_csv(&config, &["--checkpoint", checkpoint.to_str().unwrap()]);
    assert_eq!(again, resumed);
}

#[cfg(target_os = "linux")]
#[test]
fn ctrl_c_saves_a_checkpoint_exits_130_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), SLOW_SAMPLES, SLOW_CHUNK, "");
    let checkpoint = dir.path().join("run.ckpt");
    let out = dir.path().join("out.csv");
    let child = start(&config, Some(&checkpoint), &out);
    wait_for("a checkpoint with progress", || {
        common::blocks_done(&checkpoint).is_some_and(|n| n > 0)
    });
    interrupt(&child);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("interrupted by SIGINT after"), "{stderr}");
    assert!(
        stderr.contains("run the same command again")
            && stderr.contains(checkpoint.to_str().unwrap()),
        "{stderr}"
    );
    assert!(!out.exists(), "an interrupted run wrote its summary");
    let saved = common::blocks_done(&checkpoint).unwrap();
    assert!(saved > 0 && !complete(&checkpoint));
    let resumed = common::run_csv(
        &config,
        &[
            "--checkpoint",
            checkpoint.to_str().unwrap(),
            "--backend",
            "sequential",
        ],
    );
    let reference = common::run_csv(&config, &["--workers", "3"]);
    assert_eq!(
        common::result_columns(&resumed),
        common::result_columns(&reference)
    );
}

#[cfg(target_os = "linux")]
#[test]
fn ctrl_c_without_a_checkpoint_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), SLOW_SAMPLES, SLOW_CHUNK, "");
    let out = dir.path().join("out.csv");
    let child = start(&config, None, &out);
    wait_for("the Ctrl-C handler", || catches_sigint(child.id()));
    interrupt(&child);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted") && stderr.contains("--checkpoint"),
        "{stderr}"
    );
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

/// On the processes backend Ctrl-C reaches the whole process group, as from a
/// terminal: the workers ignore it, and the parent saves and ends them. (That a
/// resume gives the same bits is the business of the tests above.)
#[cfg(target_os = "linux")]
#[test]
fn ctrl_c_on_worker_processes_saves_and_leaves_no_worker() {
    let dir = tempfile::tempdir().unwrap();
    // Ten times the slow run, so that it is surely interrupted; it never completes.
    let config = pi_config(dir.path(), 10 * SLOW_SAMPLES, SLOW_CHUNK, "");
    let checkpoint = dir.path().join("run.ckpt");
    let out = dir.path().join("out.csv");
    let mut child = {
        use std::os::unix::process::CommandExt;
        // Its own process group, so that the whole group can be signalled.
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("carlo"));
        cmd.arg("run")
            .arg(&config)
            .args(["--backend", "processes", "--workers", "2", "--quiet"])
            .arg("--out")
            .arg(&out)
            .arg("--checkpoint")
            .arg(&checkpoint)
            .args(["--checkpoint-interval", "0.02"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0);
        cmd.spawn().unwrap()
    };
    let workers = common::wait_for_children(child.id(), 2);
    wait_for("a checkpoint with progress", || {
        common::blocks_done(&checkpoint).is_some_and(|n| n > 0)
    });
    let status = Command::new("kill")
        .args(["-INT", "--", &format!("-{}", child.id())])
        .status()
        .unwrap();
    assert!(status.success());
    let code = child.wait().unwrap().code();
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("run the same command again"), "{stderr}");
    common::assert_all_die(&workers, "after Ctrl-C");
    assert!(!out.exists());
    assert!(!complete(&checkpoint) && common::blocks_done(&checkpoint).unwrap() > 0);
}

#[test]
fn a_checkpoint_of_another_run_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), 20_000, 1000, "");
    let checkpoint = dir.path().join("run.ckpt");
    let path = checkpoint.to_str().unwrap();
    common::run_csv(&config, &["--checkpoint", path]);
    let saved = std::fs::read_to_string(&checkpoint).unwrap();
    let out = dir.path().join("out.csv");
    let garbage = dir.path().join("notes.txt");
    std::fs::write(&garbage, "my notes").unwrap();
    let cases: [(&[&str], &str, &str); 3] = [
        (&["--seed", "12"], path, "seed 11 there, 12 here"),
        (
            &["--samples", "30000"],
            path,
            "samples 20000 there, 30000 here",
        ),
        (&[], garbage.to_str().unwrap(), "not a carlo checkpoint"),
    ];
    for (flags, checkpoint_arg, needle) in cases {
        let output = cargo_bin_cmd!("carlo")
            .arg("run")
            .arg(&config)
            .args(flags)
            .args(["--checkpoint", checkpoint_arg, "--out"])
            .arg(&out)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{flags:?}: {stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(checkpoint_arg),
            "{stderr}"
        );
        assert!(stderr.contains(needle), "{flags:?}: {stderr}");
        assert!(!out.exists(), "{flags:?}: wrote a summary");
    }
    // Refusing touched neither file.
    assert_eq!(std::fs::read_to_string(&checkpoint).unwrap(), saved);
    assert_eq!(std::fs::read_to_string(&garbage).unwrap(), "my notes");
    // The chunk size is not part of the run (0.3.0): its checkpoint is taken.
    let plain = common::run_csv(&config, &[]);
    let other = common::run_csv(&config, &["--chunk-size", "500", "--checkpoint", path]);
    assert_eq!(
        common::result_columns(&other),
        common::result_columns(&plain)
    );
}

#[test]
fn a_target_is_part_of_the_run_a_checkpoint_belongs_to() {
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = dir.path().join("run.ckpt");
    let path = checkpoint.to_str().unwrap();
    common::run_csv(
        &pi_config(dir.path(), 20_000, 1000, ""),
        &["--checkpoint", path],
    );
    let targeted = pi_config(dir.path(), 20_000, 1000, "target_abs_error = 0.1");
    cargo_bin_cmd!("carlo")
        .arg("run")
        .arg(&targeted)
        .args(["--checkpoint", path, "--out", "-"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("target none there"));
}
