//! Reproducing a seeded run from its summary alone: every summary names its job (a
//! fingerprint column, a job file beside it, the job inside JSON), and `carlo verify`
//! runs it again and compares every bit.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::cargo::cargo_bin_cmd;

fn carlo(args: &[&str]) -> Output {
    cargo_bin_cmd!("carlo").args(args).output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs the Asian config (a model with a control variate and an exact reference)
/// into `dir`, returning its summary path.
fn summary(dir: &Path, format: &str, extra: &[&str]) -> PathBuf {
    let out = dir.join(format!("asian.{format}"));
    let mut args = vec![
        "run",
        "configs/asian.toml",
        "--samples",
        "200003",
        "--chunk-size",
        "10000",
    ];
    args.extend([
        "--quiet",
        "--format",
        format,
        "--out",
        out.to_str().unwrap(),
    ]);
    args.extend(extra);
    let run = carlo(&args);
    assert!(run.status.success(), "{}", stderr(&run));
    out
}

fn verify(args: &[&str]) -> Output {
    carlo(&[&["verify"][..], args].concat())
}

#[test]
fn a_summary_names_its_job_and_the_job_file_reproduces_it() {
    let dir = tempfile::tempdir().unwrap();
    let csv = summary(dir.path(), "csv", &[]);
    let text = std::fs::read_to_string(&csv).unwrap();
    let job = dir.path().join("asian.job.toml");
    let fingerprint = common::field(&text, "fingerprint");
    assert_eq!(fingerprint.len(), 16);
    // The job file is a config: every key that decides the bits, defaults filled in.
    let job_text = std::fs::read_to_string(&job).unwrap();
    for key in [
        "seed = 42",
        "chunk_size = 10000",
        "fixings = 12",
        "control_variate = true",
    ] {
        assert!(job_text.contains(key), "{key} missing from\n{job_text}");
    }
    let again = common::run_csv(&job, &[]);
    assert_eq!(
        common::result_columns(&again).replace("asian.job", "asian"),
        common::result_columns(&text)
    );
    assert_eq!(common::field(&again, "fingerprint"), fingerprint);
    // JSON carries the job in each row.
    let json = summary(dir.path(), "json", &[]);
    let rows: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(rows[0]["fingerprint"], fingerprint.as_str());
    assert_eq!(rows[0]["job"]["model"]["fixings"], 12);
}

#[test]
fn a_summary_verifies_on_every_backend() {
    let dir = tempfile::tempdir().unwrap();
    let csv = summary(dir.path(), "csv", &["--backend", "threads"]);
    let json = summary(dir.path(), "json", &[]);
    for (path, backend) in [
        (&csv, "sequential"),
        (&csv, "threads"),
        (&csv, "processes"),
        (&json, "processes"),
    ] {
        let out = verify(&[
            path.to_str().unwrap(),
            "--backend",
            backend,
            "--workers",
            "3",
        ]);
        assert_eq!(out.status.code(), Some(0), "{backend}: {}", stderr(&out));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(stdout.matches("  same").count(), 5, "{stdout}");
        assert!(stderr(&out).contains("verified"), "{}", stderr(&out));
    }
}

#[test]
fn an_edited_estimate_fails_naming_the_quantity_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let csv = summary(dir.path(), "csv", &[]);
    let text = std::fs::read_to_string(&csv).unwrap();
    let estimate = common::field(&text, "estimate");
    let edited = estimate.replacen(&estimate[estimate.len() - 1..], "0", 1);
    let edited = if edited == estimate {
        format!("{estimate}1")
    } else {
        edited
    };
    std::fs::write(&csv, text.replacen(&estimate, &edited, 1)).unwrap();
    let out = verify(&[csv.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("price estimate differs"),
        "{}",
        stderr(&out)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("DIFFERS: recomputed"));
}

#[test]
fn an_edited_job_fails_naming_the_fingerprints() {
    let dir = tempfile::tempdir().unwrap();
    let csv = summary(dir.path(), "csv", &[]);
    let job = dir.path().join("asian.job.toml");
    let text = std::fs::read_to_string(&job).unwrap();
    std::fs::write(&job, text.replace("strike = 100.0", "strike = 95.0")).unwrap();
    let out = verify(&[csv.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("says it is of job") && err.contains("but its job"),
        "{err}"
    );
    // A missing job file is named too.
    std::fs::remove_file(&job).unwrap();
    let out = verify(&[csv.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("asian.job.toml"), "{}", stderr(&out));
}

#[test]
fn merged_shards_and_resumed_runs_verify_like_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let whole = summary(dir.path(), "csv", &[]);
    let parts: Vec<String> = (1..=3)
        .map(|i| {
            let part = dir.path().join(format!("p{i}.json"));
            let shard = format!("{i}/3");
            let run = carlo(&[
                "run",
                "configs/asian.toml",
                "--samples",
                "200003",
                "--chunk-size",
                "10000",
                "--shard",
                &shard,
                "--quiet",
                "--out",
                part.to_str().unwrap(),
            ]);
            assert!(run.status.success(), "{}", stderr(&run));
            part.display().to_string()
        })
        .collect();
    let merged = dir.path().join("merged.csv");
    let mut args = vec!["merge"];
    args.extend(parts.iter().map(String::as_str));
    args.extend(["--quiet", "--out", merged.to_str().unwrap()]);
    let out = carlo(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    // The same job, fingerprint and chunk digests as the single run.
    let job =
        |stem: &str| std::fs::read_to_string(dir.path().join(format!("{stem}.job.toml"))).unwrap();
    assert_eq!(job("merged"), job("asian"));
    let chunks =
        |stem: &str| std::fs::read_to_string(dir.path().join(format!("{stem}.chunks"))).unwrap();
    assert_eq!(chunks("merged"), chunks("asian"));
    let out = verify(&[merged.to_str().unwrap(), "--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(whole.exists());

    // A run stopped after each checkpoint and resumed until done writes them too.
    let resumed = dir.path().join("resumed.csv");
    let checkpoint = dir.path().join("resumed.ckpt");
    let mut sessions = 0;
    loop {
        let out = carlo(&[
            "run",
            "configs/asian.toml",
            "--samples",
            "200003",
            "--chunk-size",
            "10000",
            "--quiet",
            "--backend",
            "sequential",
            "--out",
            resumed.to_str().unwrap(),
            "--checkpoint",
            checkpoint.to_str().unwrap(),
            "--checkpoint-interval",
            "0.001",
            "--checkpoint-exit-code",
            "85",
        ]);
        sessions += 1;
        match out.status.code() {
            Some(85) => assert!(sessions < 100, "it never finished"),
            Some(0) => break,
            other => panic!("exit {other:?}: {}", stderr(&out)),
        }
    }
    assert!(sessions > 1, "the run was never stopped");
    assert_eq!(job("resumed"), job("asian"));
    assert_eq!(chunks("resumed"), chunks("asian"));
    let out = verify(&[resumed.to_str().unwrap(), "--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn a_spot_check_recomputes_chunks_and_catches_an_edited_one() {
    let dir = tempfile::tempdir().unwrap();
    let csv = summary(dir.path(), "csv", &[]);
    let c = csv.to_str().unwrap();
    for args in [
        vec![c, "--chunks", "5"],
        vec![c, "--shard", "2/4", "--backend", "processes"],
    ] {
        let out = verify(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    }
    // Damage one chunk's digest; a check of every chunk (21 of them) finds it.
    let digests = dir.path().join("asian.chunks");
    let text = std::fs::read_to_string(&digests).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 22, "a comment and 21 chunks");
    let mut edited: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    edited[8] = format!("{:016x}", u64::from_str_radix(lines[8], 16).unwrap() ^ 1);
    std::fs::write(&digests, edited.join("\n") + "\n").unwrap();
    let out = verify(&[c, "--chunks", "100"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("chunk 7 differs"), "{}", stderr(&out));
}

#[test]
fn seeds_beyond_toml_integers_round_trip_through_the_job_file() {
    let dir = tempfile::tempdir().unwrap();
    let csv = summary(dir.path(), "csv", &["--seed", "18446744073709551615"]);
    let job = std::fs::read_to_string(dir.path().join("asian.job.toml")).unwrap();
    assert!(job.contains("seed = \"18446744073709551615\""), "{job}");
    let out = verify(&[csv.to_str().unwrap(), "--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
