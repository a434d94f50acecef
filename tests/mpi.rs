//! The mpi backend: `mpirun -np N carlo run --backend mpi` gives the sequential bits,
//! however slow one rank is, only rank 0 writes, and ranks that do not run the same
//! job refuse to start instead of mixing or hanging. Built only with
//! `--features mpi`; needs `mpirun` on the PATH (Debian: openmpi-bin) and `timeout`
//! (coreutils).
#![cfg(feature = "mpi")]

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Longest any mpirun of these tests may take: far more than they need, so that only
/// a hang reaches it.
const LIMIT_SECONDS: u64 = 60;

/// Runs `mpirun` with `args` (as root if need be, more ranks than cores allowed: CI
/// machines have two) under `timeout`, with `env` set for every rank. A hang fails
/// the test instead of stalling the suite.
fn mpirun_raw(args: &[String], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new("timeout");
    command
        .args(["--kill-after=5", &LIMIT_SECONDS.to_string(), "mpirun"])
        .args(["--allow-run-as-root", "--oversubscribe"]);
    for (name, value) in env {
        command.env(name, value).args(["-x", name]);
    }
    command.args(args);
    let start = Instant::now();
    let out = command
        .output()
        .expect("mpirun is on the PATH (Debian package openmpi-bin)");
    assert!(
        out.status.code() != Some(124) && start.elapsed() < Duration::from_secs(LIMIT_SECONDS),
        "mpirun {args:?} hung: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The words of `carlo run CONFIG --backend mpi ARGS...`.
fn carlo_run(config: &Path, args: &[&str]) -> Vec<String> {
    let mut words = vec![
        env!("CARGO_BIN_EXE_carlo").to_string(),
        "run".into(),
        config.display().to_string(),
        "--backend".into(),
        "mpi".into(),
    ];
    words.extend(args.iter().map(|a| a.to_string()));
    words
}

/// `mpirun -np RANKS carlo run CONFIG --backend mpi ARGS...`.
fn mpirun(ranks: u32, config: &Path, args: &[&str]) -> Output {
    mpirun_env(ranks, config, args, &[])
}

/// [`mpirun`] with environment variables for every rank.
fn mpirun_env(ranks: u32, config: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut words = vec!["-np".to_string(), ranks.to_string()];
    words.extend(carlo_run(config, args));
    mpirun_raw(&words, env)
}

/// One rank per command line, in rank order (an MPMD mpirun: `-np 1 A : -np 1 B`).
fn mpirun_each(commands: &[Vec<String>]) -> Output {
    let mut words = Vec::new();
    for (i, command) in commands.iter().enumerate() {
        if i > 0 {
            words.push(":".to_string());
        }
        words.extend(["-np".to_string(), "1".to_string()]);
        words.extend(command.iter().cloned());
    }
    mpirun_raw(&words, &[])
}

const CSV: [&str; 5] = ["--out", "-", "--format", "csv", "--quiet"];

fn pi_config(dir: &Path) -> std::path::PathBuf {
    // 1_000_003 samples: 245 blocks in chunks of 10_000 (rounded up to 3 blocks), 82
    // chunks, the last one short, shared unevenly between 2 and 3 ranks.
    common::write_config(
        dir,
        "pi.toml",
        "[simulation]\nname = \"pi\"\nsamples = 1_000_003\nseed = 7\nchunk_size = 10_000\n[model]\ntype = \"pi\"\n",
    )
}

/// The summary of a successful run on `ranks` ranks, checked to be one CSV from rank 0.
fn summary(out: Output, ranks: u32) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{ranks} ranks: {stderr}");
    let csv = String::from_utf8(out.stdout).unwrap();
    // One header and one row: the other ranks printed nothing.
    assert_eq!(csv.lines().count(), 2, "{ranks} ranks wrote: {csv}");
    assert_eq!(common::field(&csv, "backend"), "mpi");
    assert_eq!(common::field(&csv, "workers"), ranks.to_string());
    csv
}

#[test]
fn ranks_give_the_sequential_bits() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path());
    let reference = common::result_columns(&common::run_csv(&config, &["--backend", "sequential"]));
    for ranks in [1, 2, 3] {
        let csv = summary(mpirun(ranks, &config, &CSV), ranks);
        assert_eq!(common::result_columns(&csv), reference, "{ranks} ranks");
    }
}

#[test]
fn a_slow_rank_changes_no_bit() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path());
    let reference = common::result_columns(&common::run_csv(&config, &["--backend", "sequential"]));
    // Whoever takes chunk 3 sleeps: the others take the rest of the chunks meanwhile,
    // and the fold still runs in chunk order.
    for ranks in [2, 3] {
        let out = mpirun_env(ranks, &config, &CSV, &[("CARLO_FAULT", "sleep-at:3:700")]);
        let csv = summary(out, ranks);
        assert_eq!(common::result_columns(&csv), reference, "{ranks} ranks");
    }
}

#[test]
fn a_target_stops_ranks_at_the_sequential_check_with_the_same_bits() {
    let dir = tempfile::tempdir().unwrap();
    // A half-width of 0.01 needs about 104_000 samples: the run stops at one of the
    // checks (every 8 chunks of 1000) well before its 400_000 maximum, while the
    // ranks have chunks beyond it in hand.
    let config = common::write_config(
        dir.path(),
        "target.toml",
        "[simulation]\nsamples = 400_000\nseed = 11\nchunk_size = 1000\n\
         target_abs_error = 0.01\ncheck_every = 8\n[model]\ntype = \"pi\"\n",
    );
    let reference = common::run_csv(&config, &["--backend", "sequential"]);
    assert_eq!(common::field(&reference, "stop_reason"), "target");
    assert!(common::field(&reference, "samples").parse::<u64>().unwrap() < 400_000);
    for (ranks, fault) in [
        (2, ""),
        (3, ""),
        (2, "sleep-at:5:500"),
        (3, "sleep-at:40:500"),
    ] {
        let out = mpirun_env(ranks, &config, &CSV, &[("CARLO_FAULT", fault)]);
        let csv = summary(out, ranks);
        assert_eq!(
            common::result_columns(&csv),
            common::result_columns(&reference),
            "{ranks} ranks, fault {fault:?}"
        );
    }
}

#[test]
fn ranks_can_run_a_shard() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path());
    let reference = common::result_columns(&common::run_csv(&config, &["--backend", "sequential"]));
    let parts: Vec<_> = (1..=2)
        .map(|i| dir.path().join(format!("part-{i}.json")))
        .collect();
    let shard = |i: usize| {
        let out = mpirun(
            2,
            &config,
            &[
                "--shard",
                &format!("{}/2", i + 1),
                "--quiet",
                "--out",
                parts[i].to_str().unwrap(),
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    shard(0);
    shard(1);
    let out = assert_cmd::cargo::cargo_bin_cmd!("carlo")
        .arg("merge")
        .args(&parts)
        .args(["--out", "-", "--format", "csv"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let csv = String::from_utf8(out.stdout).unwrap();
    assert_eq!(common::result_columns(&csv), reference);
}

/// Asserts that an mpirun of ranks that disagree failed with exit code 2, wrote no
/// summary, and said `expected` (on every rank's stderr).
fn refused(out: Output, summary: &Path, expected: &[&str]) {
    // Only rank 0 says it: the lines are not repeated.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for text in expected {
        assert!(stderr.contains(text), "{text:?} not in {stderr}");
    }
    assert!(
        !summary.exists(),
        "a refused run wrote {}",
        summary.display()
    );
}

#[test]
fn ranks_with_different_jobs_refuse_to_run() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path());
    let european = common::write_config(
        dir.path(),
        "european.toml",
        "[simulation]\nname = \"pi\"\nsamples = 1_000_003\nseed = 7\nchunk_size = 10_000\n\
         [model]\ntype = \"european\"\noption = \"call\"\nspot = 100.0\nstrike = 100.0\n\
         rate = 0.05\nvolatility = 0.2\nmaturity = 1.0\n",
    );
    let out = dir.path().join("summary.csv");
    let out = out.to_str().unwrap();
    let run = |config: &Path, extra: &[&str]| {
        let mut args = vec!["--quiet", "--out", out];
        args.extend(extra);
        carlo_run(config, &args)
    };
    let cases: [(Vec<Vec<String>>, &[&str]); 4] = [
        (
            vec![run(&config, &[]), run(&config, &["--seed", "8"])],
            &[
                "MPI ranks do not agree",
                "rank 1 has seed 8, rank 0 7",
                "job fingerprint",
            ],
        ),
        (
            vec![
                run(&config, &[]),
                run(&config, &[]),
                run(&config, &["--samples", "2e6"]),
            ],
            &["rank 2 has samples 2000000, rank 0 1000003"],
        ),
        // Different models, with statistics of different widths.
        (
            vec![run(&config, &[]), run(&european, &[])],
            &["rank 1 has model.type \"european\", rank 0 \"pi\""],
        ),
        (
            vec![
                run(&european, &["--seed", "9"]),
                run(&config, &[]),
                run(&config, &[]),
            ],
            &[
                "the 3 MPI ranks do not agree",
                "rank 1 has model.type \"pi\", rank 0 \"european\"",
                "rank 1 has model.type \"pi\", rank 0 \"european\", rank 1 has seed 7, rank 0 9",
                "rank 2 has model.type",
            ],
        ),
    ];
    for (commands, expected) in cases {
        refused(mpirun_each(&commands), Path::new(out), expected);
    }
    // Refused before a chunk: no checkpoint is left behind, and only rank 0 says why.
    let checkpoint = dir.path().join("refused.ckpt");
    let c = checkpoint.to_str().unwrap();
    let out = mpirun_each(&[
        run(&config, &["--checkpoint", c]),
        run(&config, &["--checkpoint", c, "--seed", "8"]),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!checkpoint.exists(), "a refused start wrote {c}");
    assert_eq!(stderr.matches("do not agree").count(), 1, "{stderr}");
}

#[test]
fn ranks_resumed_from_different_checkpoints_refuse_to_run() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path());
    let finished = dir.path().join("finished.json");
    let fresh = dir.path().join("fresh.json");
    common::run_csv(
        &config,
        &[
            "--backend",
            "sequential",
            "--checkpoint",
            finished.to_str().unwrap(),
        ],
    );
    let out = dir.path().join("summary.csv");
    let run = |checkpoint: &Path| {
        carlo_run(
            &config,
            &[
                "--quiet",
                "--out",
                out.to_str().unwrap(),
                "--checkpoint",
                checkpoint.to_str().unwrap(),
            ],
        )
    };
    refused(
        mpirun_each(&[run(&finished), run(&fresh)]),
        &out,
        &["rank 1 was asked to run chunks 0..82, rank 0 no chunks"],
    );
    // Both finished: nothing to run, and rank 0 reports the checkpoint's summary.
    let both = mpirun_each(&[run(&finished), run(&finished)]);
    assert!(
        both.status.success(),
        "{}",
        String::from_utf8_lossy(&both.stderr)
    );
    assert!(out.exists());
}

#[test]
fn a_rank_that_cannot_run_stops_them_all() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path());
    let out = dir.path().join("summary.csv");
    let run = carlo_run(&config, &["--quiet", "--out", out.to_str().unwrap()]);
    let mut broken = vec!["env".to_string(), "CARLO_FAULT=nonsense".to_string()];
    broken.extend(run.iter().cloned());
    refused(
        mpirun_each(&[run.clone(), broken]),
        &out,
        &["rank 1 cannot run: CARLO_FAULT"],
    );
    // A rank whose config cannot even be read ends before MPI starts: mpirun ends
    // the others.
    let missing = carlo_run(&dir.path().join("missing.toml"), &["--quiet"]);
    let both = mpirun_each(&[run, missing]);
    assert!(!both.status.success());
    assert!(!out.exists());
}

/// A pi run of many chunks, as `pi.toml` in `dir`, for runs that are stopped.
fn long_pi(dir: &Path) -> std::path::PathBuf {
    common::write_config(
        dir,
        "long.toml",
        "[simulation]\nname = \"long\"\nsamples = 100_000_000_000\nseed = 7\n\
         chunk_size = 10_000\n[model]\ntype = \"pi\"\n",
    )
}

#[test]
fn a_stuck_rank_ends_the_job_naming_it_after_saving_what_the_others_finished() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path());
    let checkpoint = dir.path().join("c.ckpt");
    let c = checkpoint.to_str().unwrap();
    let reference = common::result_columns(&common::run_csv(&config, &["--backend", "sequential"]));
    // No progress for 2 s (the policy's minute, shortened), or past --chunk-timeout.
    for (env, extra, needle) in [
        (
            vec![("CARLO_FAULT", "stall-at:5"), ("CARLO_STALL_SECONDS", "2")],
            vec![],
            "made no progress for 2.",
        ),
        (
            vec![("CARLO_FAULT", "sleep-at:5:60000")],
            vec!["--chunk-timeout", "1"],
            "over the chunk timeout of 1.0 s",
        ),
    ] {
        let _ = std::fs::remove_file(&checkpoint);
        let mut args = vec!["--checkpoint", c];
        args.extend(&extra);
        args.extend(CSV);
        let start = Instant::now();
        let out = mpirun_env(3, &config, &args, &env);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(start.elapsed() < Duration::from_secs(30), "{err}");
        let line = err
            .lines()
            .find(|l| l.starts_with("error: MPI rank"))
            .unwrap_or_else(|| panic!("{err}"));
        assert!(
            line.contains("was taken for stuck: chunk 5 on MPI rank") && line.contains(needle),
            "{line}"
        );
        assert_eq!(err.matches("was taken for stuck").count(), 1, "{err}");
        assert!(err.contains("note: progress saved to"), "{err}");
        // The saved chunks resume (without the fault) to the sequential bits.
        let resumed = mpirun(
            2,
            &config,
            &["--checkpoint", c, "--out", "-", "--format", "csv"],
        );
        assert_eq!(common::result_columns(&summary(resumed, 2)), reference);
    }
}

/// The pid of rank `rank` among the children of mpirun `parent`.
fn rank_pid(parent: u32, rank: u32) -> u32 {
    let start = Instant::now();
    loop {
        for child in common::children(parent) {
            let env = std::fs::read(format!("/proc/{child}/environ")).unwrap_or_default();
            let wanted = format!("OMPI_COMM_WORLD_RANK={rank}");
            if env.split(|&b| b == 0).any(|v| v == wanted.as_bytes()) {
                return child;
            }
        }
        assert!(start.elapsed() < Duration::from_secs(20), "no rank {rank}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `mpirun -np RANKS carlo run CONFIG --backend mpi ARGS` started, not awaited.
fn spawn_mpirun(
    ranks: u32,
    config: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> std::process::Child {
    let mut command = Command::new("mpirun");
    command.args([
        "--allow-run-as-root",
        "--oversubscribe",
        "-np",
        &ranks.to_string(),
    ]);
    for (name, value) in env {
        command.env(name, value).args(["-x", name]);
    }
    command
        .args(carlo_run(config, args))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn a_stopped_rank_is_caught_and_a_stopped_job_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let config = long_pi(dir.path());
    let checkpoint = dir.path().join("c.ckpt");
    let mut args = vec!["--checkpoint", checkpoint.to_str().unwrap()];
    args.extend(["--checkpoint-interval", "0.1"]);
    args.extend(CSV);
    let env = [("CARLO_STALL_SECONDS", "2")];
    let child = spawn_mpirun(3, &config, &args, &env);
    let rank2 = rank_pid(child.id(), 2);
    common::wait_until(Duration::from_secs(30), "progress saved", || {
        common::blocks_done(&checkpoint).is_some_and(|n| n > 10)
    });
    common::signal(rank2, libc::SIGSTOP);
    let out = common::finish_within(child, "mpirun with a stopped rank", Duration::from_secs(40));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error: MPI rank 2 was taken for stuck"),
        "{err}"
    );
}

#[test]
fn under_mpirun_a_stopping_signal_saves_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let config = long_pi(dir.path());
    for (signal, name, code) in [
        (libc::SIGTERM, "SIGTERM", 1),
        (libc::SIGUSR1, "SIGUSR1", 138),
    ] {
        let checkpoint = dir.path().join(format!("{name}.ckpt"));
        let mut args = vec!["--checkpoint", checkpoint.to_str().unwrap()];
        args.extend(["--checkpoint-interval", "0.1"]);
        args.extend(CSV);
        let child = spawn_mpirun(2, &config, &args, &[]);
        common::wait_until(Duration::from_secs(30), "progress saved", || {
            common::blocks_done(&checkpoint).is_some_and(|n| n > 10)
        });
        common::signal(child.id(), signal);
        let out = common::finish_within(child, name, Duration::from_secs(30));
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        // mpirun's own code: 1 after a SIGTERM whatever the ranks do (documented), the
        // ranks' 138 after a forwarded SIGUSR1.
        assert_eq!(out.status.code(), Some(code), "{name}: {err}");
        let line = err
            .lines()
            .find(|l| l.starts_with(&format!("interrupted by {name} after")))
            .unwrap_or_else(|| panic!("{name}: {err}"));
        assert!(line.contains("run the same command again"), "{line}");
        assert_eq!(err.matches("interrupted by").count(), 1, "{err}");
        let saved = common::blocks_done(&checkpoint).unwrap();
        assert!(saved > 10, "{name}: {saved}");
    }
}
