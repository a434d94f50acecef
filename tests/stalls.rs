//! The stall policy (DESIGN 6c): a worker that computes is reported, never killed; one
//! that makes no progress is caught; a worker's start and first chunk have their own
//! allowance; time while the whole job was stopped does not count; an explicit
//! `--chunk-timeout` is a hard limit. `CARLO_STALL_SECONDS` shrinks the policy's
//! minute to seconds, so no test here waits minutes.

mod common;

use std::time::{Duration, Instant};

use common::{CSV_OUT, csv, field, pi_config, run_within, stderr};

/// The summary's `worker_restarts`.
fn restarts(out: &std::process::Output) -> String {
    field(&String::from_utf8_lossy(&out.stdout), "worker_restarts")
}

/// `carlo run CONFIG --backend processes` with the summary on stdout (2 workers
/// unless `extra` says).
fn processes<'a>(config: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["run", config, "--backend", "processes"];
    if !extra.contains(&"--workers") {
        args.extend(["--workers", "2"]);
    }
    args.extend(extra);
    args.extend(CSV_OUT);
    args
}

fn sequential(config: &str) -> String {
    let mut args = vec!["run", config, "--backend", "sequential"];
    args.extend(CSV_OUT);
    csv(&run_within(&args, &[], Duration::from_secs(60)))
}

#[test]
fn a_worker_that_computes_is_reported_and_never_killed() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), 2_000_000, 20_000);
    let c = config.to_str().unwrap();
    // Chunk 3 computes for 5 s where the others take milliseconds, and no progress for
    // 2 s would be stuck: it is reported as computing, and left to finish.
    let out = run_within(
        &processes(c, &[]),
        &[
            ("CARLO_FAULT", "busy-at:3:5000"),
            ("CARLO_STALL_SECONDS", "2"),
        ],
        Duration::from_secs(60),
    );
    let err = stderr(&out);
    assert_eq!(csv(&out), sequential(c), "{err}");
    assert_eq!(restarts(&out), "0", "{err}");
    assert!(
        err.contains("chunk 3 on worker process") && err.contains("it is computing"),
        "{err}"
    );
    assert!(!err.contains("taken for stuck"), "{err}");
}

#[test]
fn a_worker_that_makes_no_progress_is_caught_within_the_quiet_limit() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), 2_000_000, 20_000);
    let c = config.to_str().unwrap();
    let start = Instant::now();
    let out = run_within(
        &processes(c, &[]),
        &[("CARLO_FAULT", "stall-at:3"), ("CARLO_STALL_SECONDS", "2")],
        Duration::from_secs(60),
    );
    let err = stderr(&out);
    assert_eq!(csv(&out), sequential(c), "{err}");
    assert_eq!(restarts(&out), "1", "{err}");
    assert!(
        err.contains("was taken for stuck and killed (chunk 3 on worker process")
            && err.contains("made no progress for 2."),
        "{err}"
    );
    assert!(start.elapsed() >= Duration::from_secs(2));
}

#[test]
fn a_first_chunk_that_warms_up_is_not_judged_by_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), 2_000_000, 20_000);
    let c = config.to_str().unwrap();
    // Every worker waits 3 s before its first chunk (a table loaded on first use),
    // where chunks take milliseconds and no progress for 5 s is stuck: no worker is
    // killed, not even the replacements of a worker that crashes.
    let out = run_within(
        &processes(c, &["--workers", "3"]),
        &[
            ("CARLO_FAULT", "warm-up:3000,abort-at:40"),
            ("CARLO_STALL_SECONDS", "5"),
        ],
        Duration::from_secs(90),
    );
    let err = stderr(&out);
    assert_eq!(csv(&out), sequential(c), "{err}");
    assert_eq!(restarts(&out), "1", "only the crash: {err}");
    assert!(!err.contains("taken for stuck"), "{err}");
}

#[test]
fn a_worker_that_hangs_while_starting_is_caught_and_the_chunk_timeout_shortens_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), 200_000, 20_000);
    let c = config.to_str().unwrap();
    // Every worker hangs before it answers (an import that never returns): caught by
    // the no-progress rule, three times, and the run ends naming the chunk.
    for (extra, env) in [
        (vec![], vec![("CARLO_STALL_SECONDS", "1")]),
        (vec!["--chunk-timeout", "0.5"], vec![]),
    ] {
        let mut env = env;
        env.push(("CARLO_FAULT", "stall-at-start"));
        let start = Instant::now();
        let out = run_within(&processes(c, &extra), &env, Duration::from_secs(40));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        let last = err.lines().last().unwrap_or_default();
        assert!(
            last.starts_with("error: chunk 0 stalled a worker process 3 times")
                && last.contains("starting"),
            "{last}"
        );
        assert!(start.elapsed() < Duration::from_secs(30), "{extra:?}");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn time_while_the_whole_job_is_stopped_does_not_count() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    // A run longer than the test: it is stopped with Ctrl-C at the end.
    let config = pi_config(dir.path(), 100_000_000_000, 20_000);
    let c = config.to_str().unwrap();
    let checkpoint = dir.path().join("c.ckpt");
    let mut args = processes(c, &["--checkpoint", checkpoint.to_str().unwrap()]);
    args.extend(["--checkpoint-interval", "0.05"]);
    // A process group of its own, as a job under a shell or Slurm has.
    let child = common::carlo()
        .args(&args)
        .env("CARLO_STALL_SECONDS", "3")
        .process_group(0)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    common::wait_until(Duration::from_secs(60), "progress saved", || {
        common::blocks_done(&checkpoint).is_some_and(|n| n > 20)
    });
    // Ctrl-Z for 8 s, then fg: every process of the job stopped, then continued.
    // SAFETY: signals to the process group this test started.
    unsafe {
        assert_eq!(libc::kill(-(pid as i32), libc::SIGSTOP), 0);
    }
    std::thread::sleep(Duration::from_secs(8));
    unsafe {
        assert_eq!(libc::kill(-(pid as i32), libc::SIGCONT), 0);
    }
    // Longer than the quiet limit after the job continues: a worker judged by the
    // stopped time would be killed by now.
    std::thread::sleep(Duration::from_secs(5));
    common::signal(pid, libc::SIGINT);
    let out = common::finish_within(child, "the resumed run", Duration::from_secs(60));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(!err.contains("taken for stuck"), "{err}");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&checkpoint).unwrap()).unwrap();
    assert_eq!(saved["content"]["state"]["restarts"], 0, "{err}");
}

#[cfg(target_os = "linux")]
#[test]
fn a_thread_that_makes_no_progress_is_reported_and_ctrl_c_still_stops_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), 2_000_000, 20_000);
    let c = config.to_str().unwrap();
    let mut args = vec!["run", c, "--backend", "threads", "--workers", "2"];
    args.extend(CSV_OUT);
    let mut child = common::spawn(
        &args,
        &[("CARLO_FAULT", "stall-at:5"), ("CARLO_STALL_SECONDS", "1")],
    );
    std::thread::sleep(Duration::from_secs(4));
    common::signal(child.id(), libc::SIGINT);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "it waits for the thread"
    );
    common::signal(child.id(), libc::SIGINT);
    let out = common::finish_within(child, "a second Ctrl-C", Duration::from_secs(10));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(
        err.contains("chunk 5 on a thread made no progress for 1.") && err.contains("press Ctrl-C"),
        "{err}"
    );
}
