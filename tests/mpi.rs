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
    // 1_000_003 samples in chunks of 10_000: 101 chunks, the last one short, shared
    // unevenly between 2 and 3 ranks.
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
        &["rank 1 was asked to run chunks 0..101, rank 0 no chunks"],
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
