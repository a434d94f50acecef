//! The mpi backend: `mpirun -np N carlo run --backend mpi` gives the sequential bits,
//! and only rank 0 writes. Built only with `--features mpi`; needs `mpirun` on the
//! PATH (Debian: openmpi-bin).
#![cfg(feature = "mpi")]

mod common;

use std::path::Path;
use std::process::Command;

/// `mpirun -np RANKS carlo run CONFIG --backend mpi ARGS...`, as root if need be, with
/// more ranks than cores allowed (CI machines have two).
fn mpirun(ranks: u32, config: &Path, args: &[&str]) -> std::process::Output {
    Command::new("mpirun")
        .args(["--allow-run-as-root", "--oversubscribe", "-np"])
        .arg(ranks.to_string())
        .arg(env!("CARGO_BIN_EXE_carlo"))
        .arg("run")
        .arg(config)
        .args(["--backend", "mpi"])
        .args(args)
        .output()
        .expect("mpirun is on the PATH (Debian package openmpi-bin)")
}

fn pi_config(dir: &Path) -> std::path::PathBuf {
    // 1_000_003 samples in chunks of 10_000: 101 chunks, the last one short, split
    // unevenly between 2 and 3 ranks.
    common::write_config(
        dir,
        "pi.toml",
        "[simulation]\nname = \"pi\"\nsamples = 1_000_003\nseed = 7\nchunk_size = 10_000\n[model]\ntype = \"pi\"\n",
    )
}

#[test]
fn ranks_give_the_sequential_bits() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path());
    let reference = common::result_columns(&common::run_csv(&config, &["--backend", "sequential"]));
    for ranks in [2, 3] {
        let out = mpirun(
            ranks,
            &config,
            &["--out", "-", "--format", "csv", "--quiet"],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{ranks} ranks: {stderr}");
        let csv = String::from_utf8(out.stdout).unwrap();
        // One header and one row: the other ranks printed nothing.
        assert_eq!(csv.lines().count(), 2, "{ranks} ranks wrote: {csv}");
        assert_eq!(common::result_columns(&csv), reference, "{ranks} ranks");
        assert_eq!(common::field(&csv, "backend"), "mpi");
        assert_eq!(common::field(&csv, "workers"), ranks.to_string());
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
