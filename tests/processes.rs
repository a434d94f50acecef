//! The processes backend: same bits as sequential whatever happens to the workers
//! (tests/determinism.rs compares worker counts), and no worker outlives its parent.

mod common;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::thread::sleep;
use std::time::Duration;

use assert_cmd::cargo::cargo_bin_cmd;
use common::{assert_all_die, is_dead, state, wait_for_children};

use carlo::config::Job;
use carlo::engine::{Quiet, run_on};
use carlo::exec::{Event, Executor, Flow, Processes, Sequential, Work};
use carlo::model::{Context, ModelSpec, Registry};
use carlo::models::PiParams;

const CARLO: &str = env!("CARGO_BIN_EXE_carlo");

/// 101 chunks, the last one short.
fn pi_config(dir: &Path) -> std::path::PathBuf {
    common::write_config(
        dir,
        "pi.toml",
        "[simulation]\nsamples = 400_003\nseed = 11\nchunk_size = 4096\n[model]\ntype = \"pi\"\n",
    )
}

fn sequential(config: &Path) -> String {
    common::result_columns(&common::run_csv(config, &["--backend", "sequential"]))
}

/// `carlo run CONFIG --backend processes --workers N` with `CARLO_FAULT=fault`,
/// started but not waited for.
fn start(config: &Path, workers: u32, fault: &str) -> Child {
    Command::new(CARLO)
        .arg("run")
        .arg(config)
        .args(["--backend", "processes", "--workers", &workers.to_string()])
        .args(["--out", "-", "--format", "csv", "--quiet"])
        .env("CARLO_FAULT", fault)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("carlo starts")
}

fn run_with_fault(config: &Path, workers: u32, fault: &str) -> Output {
    start(config, workers, fault)
        .wait_with_output()
        .expect("carlo runs")
}

fn stdout_of_success(out: &Output) -> String {
    assert!(
        out.status.success(),
        "carlo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn kill(pid: u32, signal: i32) {
    // SAFETY: kill has no memory-safety preconditions.
    let rc = unsafe { libc::kill(pid as libc::pid_t, signal) };
    assert_eq!(rc, 0, "kill({pid}, {signal})");
}

#[test]
fn a_worker_killed_mid_run_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path());
    // The first worker gets chunks 0 and 1, the second 2 and 3: each sleeps inside
    // its second chunk with two chunks in flight, so whichever one is killed dies
    // holding work that must be run again.
    let run = start(&config, 2, "sleep-at:1:700,sleep-at:3:700");
    let workers = wait_for_children(run.id(), 2);
    sleep(Duration::from_millis(150));
    kill(workers[0], libc::SIGKILL);
    let out = run.wait_with_output().unwrap();
    let csv = stdout_of_success(&out);
    assert_eq!(common::result_columns(&csv), sequential(&config));
    assert!(is_dead(workers[0]));
}

#[test]
fn a_chunk_that_aborts_once_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path());
    for workers in [1, 3] {
        let out = run_with_fault(&config, workers, "abort-at:0,abort-at:57,abort-at:100");
        let csv = stdout_of_success(&out);
        assert_eq!(
            common::result_columns(&csv),
            sequential(&config),
            "x{workers}"
        );
    }
}

#[test]
fn a_chunk_that_always_aborts_ends_the_run_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path());
    let summary = dir.path().join("summary.csv");
    let out = Command::new(CARLO)
        .arg("run")
        .arg(&config)
        .args([
            "--backend",
            "processes",
            "--workers",
            "2",
            "--quiet",
            "--out",
        ])
        .arg(&summary)
        .env("CARLO_FAULT", "abort-always:42")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    // The first two deaths are reported as they happen, the third ends the run.
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{stderr}");
    for line in &lines[..2] {
        assert!(line.starts_with("warning: worker process"), "{stderr}");
        assert!(line.contains("running chunk 42"), "{stderr}");
    }
    assert!(
        lines[2].starts_with("error: chunk 42 took down a worker process 3 times"),
        "{stderr}"
    );
    assert!(stderr.contains("SIGABRT"), "{stderr}");
    // The worker's last stderr line.
    assert!(stderr.contains("aborting at chunk 42"), "{stderr}");
    assert!(!summary.exists());
}

#[test]
fn an_invalid_fault_variable_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_with_fault(&pi_config(dir.path()), 2, "abort-at:soon");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.starts_with("error: CARLO_FAULT: "), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn no_worker_outlives_a_successful_parent() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path());
    let run = start(&config, 3, "sleep-at:0:300");
    let workers = wait_for_children(run.id(), 3);
    let out = run.wait_with_output().unwrap();
    stdout_of_success(&out);
    // The parent reaps its workers before it exits: they are gone, not zombies.
    for pid in &workers {
        assert_eq!(state(*pid), None, "worker {pid} outlived its parent");
    }
}

#[test]
fn no_worker_outlives_a_killed_parent() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path());
    let mut run = start(&config, 2, "sleep-at:0:20000,sleep-at:2:20000");
    let workers = wait_for_children(run.id(), 2);
    kill(run.id(), libc::SIGKILL);
    run.wait().unwrap();
    assert_all_die(&workers, "after their parent was SIGKILLed");
}

#[test]
fn a_worker_ignores_sigint_and_stops_at_end_of_input() {
    let mut worker = Command::new(CARLO)
        .arg("worker")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Give it time to install its signal disposition.
    sleep(Duration::from_millis(200));
    kill(worker.id(), libc::SIGINT);
    sleep(Duration::from_millis(100));
    assert_eq!(worker.try_wait().unwrap(), None, "SIGINT ended the worker");
    drop(worker.stdin.take());
    assert!(worker.wait().unwrap().success());
}

#[test]
fn scale_compares_threads_and_processes() {
    let dir = tempfile::tempdir().unwrap();
    cargo_bin_cmd!("carlo")
        .arg("scale")
        .arg(pi_config(dir.path()))
        .args([
            "--workers",
            "2",
            "--backends",
            "threads,processes",
            "--repeats",
            "1",
        ])
        .arg("--out")
        .arg(dir.path().join("scale.csv"))
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "every run gave the same estimate bits",
        ))
        .stdout(predicates::str::contains("processes x2"));
}

fn pi_job(samples: u64, chunk_size: u64, seed: u64) -> Job {
    let chunk_size = chunk_size.next_multiple_of(4096);
    Job {
        samples,
        seed,
        chunk_size,
        confidence: 0.95,
        model: ModelSpec::new("pi", &PiParams {}),
        target: None,
        sampler: Default::default(),
        sweep: Vec::new(),
    }
}

#[test]
fn one_executor_runs_several_jobs() {
    let mut processes = Processes::with_program(CARLO, 2).unwrap();
    for (samples, seed) in [(5003, 1), (5003, 1), (7001, 2)] {
        let job = pi_job(samples, 100, seed);
        let model = Registry::builtin()
            .build(&job.model, &Context::new(job.seed))
            .unwrap();
        let a = run_on("p", &job, model.as_ref(), &mut Sequential, &mut Quiet).unwrap();
        let b = run_on("p", &job, model.as_ref(), &mut processes, &mut Quiet).unwrap();
        assert_eq!(a.moments, b.moments);
        assert_eq!(processes.pids().len(), 2, "workers stay up between runs");
    }
    let pids = processes.pids();
    drop(processes);
    for pid in pids {
        assert_eq!(state(pid), None, "a dropped executor left worker {pid}");
    }
}

#[test]
fn stop_abandons_running_chunks_and_the_next_run_starts_fresh() {
    let job = pi_job(200_000, 100, 5);
    let model = Registry::builtin()
        .build(&job.model, &Context::new(job.seed))
        .unwrap();
    let plan = job.plan();
    let work = Work {
        job: &job,
        model: model.as_ref(),
        plan: &plan,
    };
    let mut processes = Processes::with_program(CARLO, 2).unwrap();
    let mut reported = 0;
    processes
        .execute(
            &work,
            std::slice::from_ref(&(0..plan.chunks())),
            &mut |event| {
                if matches!(event, Event::Done(..)) {
                    reported += 1;
                }
                Flow::Stop
            },
        )
        .unwrap();
    assert_eq!(reported, 1);
    assert!(processes.pids().is_empty(), "stopped workers are killed");
    let a = run_on("p", &job, model.as_ref(), &mut Sequential, &mut Quiet).unwrap();
    let b = run_on("p", &job, model.as_ref(), &mut processes, &mut Quiet).unwrap();
    assert_eq!(a.moments, b.moments);
}

/// Runs a small pi job on workers that are `program`, expecting an error.
fn error_with_program(program: &Path) -> String {
    let job = pi_job(1000, 100, 1);
    let model = Registry::builtin()
        .build(&job.model, &Context::new(job.seed))
        .unwrap();
    let mut attempts = 0;
    loop {
        let mut processes = Processes::with_program(program, 2).unwrap();
        let err = run_on("p", &job, model.as_ref(), &mut processes, &mut Quiet)
            .unwrap_err()
            .to_string();
        // A script just written can be briefly "busy" while another test thread's
        // fork still holds its write descriptor (a known Linux race): try again.
        attempts += 1;
        if !err.contains("Text file busy") || attempts == 5 {
            return err;
        }
        sleep(Duration::from_millis(50));
    }
}

#[test]
fn programs_that_are_not_workers_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let script = |name: &str, body: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        let mut perms = std::fs::metadata(&path).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&path, perms).unwrap();
        path
    };
    let cases = [
        // Echoes the requests back: not replies.
        (script("echo", "exec cat"), "malformed message"),
        (
            script("chatty", "echo 'running 3 tests'; exec cat"),
            "running 3 tests",
        ),
        // Dies mid-line, every time.
        (
            script("truncated", "printf '{\"type\":\"ready\"'; echo 'oops' >&2"),
            "took down a worker process 3 times",
        ),
        (
            script("noisy", "echo oops >&2; exit 0"),
            "its last stderr line: oops",
        ),
        (
            script("silent", "exit 3"),
            "exited with code 3, it wrote nothing",
        ),
        (
            script(
                "old",
                "read hello; echo '{\"type\":\"ready\",\"v\":0}'; exec cat",
            ),
            "protocol version 0",
        ),
        // The same reply in two writes: the parent must join the pieces.
        (
            script(
                "split",
                "read hello; printf '{\"type\":\"rea'; sleep 0.2; echo 'dy\",\"v\":0}'; exec cat",
            ),
            "protocol version 0",
        ),
        (dir.path().join("missing"), "cannot start worker process"),
        // A worker that refuses the job as bad input: its message, as the input error
        // it is (exit 2 from the CLI), not a worker failure.
        (
            script(
                "refuses",
                "read hello; echo '{\"type\":\"error\",\"message\":\"no module named x\",\"input\":true}'",
            ),
            "no module named x",
        ),
    ];
    for (program, needle) in cases {
        let err = error_with_program(&program);
        assert!(err.contains(needle), "{}: {err}", program.display());
    }
    // The refusal is an input error: the worker's words, then which worker said them.
    let job = pi_job(1000, 100, 1);
    let model = job.build_model(&Registry::builtin()).unwrap();
    let mut processes = Processes::with_program(dir.path().join("refuses"), 1).unwrap();
    let err = run_on("p", &job, model.as_ref(), &mut processes, &mut Quiet).unwrap_err();
    assert!(err.is_input(), "{err}");
    let message = err.to_string();
    let pid = message
        .strip_prefix("no module named x (in worker process ")
        .and_then(|rest| rest.strip_suffix(')'));
    assert!(
        pid.is_some_and(|p| p.parse::<u32>().is_ok()),
        "only the worker's words and its pid: {message}"
    );
}
