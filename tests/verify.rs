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
/// 330 blocks of 4096, the last one short: 21 digest groups of 16 blocks.
const SAMPLES: &str = "1350003";

fn summary(dir: &Path, format: &str, extra: &[&str]) -> PathBuf {
    let out = dir.join(format!("asian.{format}"));
    let mut args = vec![
        "run",
        "configs/asian.toml",
        "--samples",
        SAMPLES,
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
    for key in ["seed = 42", "fixings = 12", "control_variate = true"] {
        assert!(job_text.contains(key), "{key} missing from\n{job_text}");
    }
    // The chunk size schedules work; it decides no bit (0.3.0).
    assert!(!job_text.contains("chunk_size"), "{job_text}");
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
        assert!(stdout.contains("1 row x 19 columns: the same"), "{stdout}");
        for column in [
            "estimate",
            "std_error",
            "ci_low",
            "ci_high",
            "samples",
            "seed",
        ] {
            assert!(
                stdout.contains(&format!(" {column},")),
                "{column}: {stdout}"
            );
        }
        let err = stderr(&out);
        assert!(err.contains("verified: the same, bit for bit"), "{err}");
        assert!(
            err.contains(&format!("on {backend} x3 (--backend and --workers")),
            "{err}"
        );
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
                SAMPLES,
                "--chunk-size",
                "20000",
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
    // The same job, fingerprint and digests as the single run (at other chunk sizes).
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
            SAMPLES,
            "--chunk-size",
            "65536",
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
    // Damage one group's digest; a check of every group (21 of them) finds it.
    let digests = dir.path().join("asian.chunks");
    let text = std::fs::read_to_string(&digests).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 22, "a comment and 21 groups");
    let mut edited: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    edited[8] = format!("{:016x}", u64::from_str_radix(lines[8], 16).unwrap() ^ 1);
    std::fs::write(&digests, edited.join("\n") + "\n").unwrap();
    let out = verify(&[c, "--chunks", "100"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("group 7 differs"), "{}", stderr(&out));
    // A whole check compares the digests too.
    let out = verify(&[c, "--quiet"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("1 group digests differ"),
        "{}",
        stderr(&out)
    );
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

/// The CSV summary at `path` as rows of fields, header first.
fn rows_of(path: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .unwrap();
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

fn write_rows(path: &Path, rows: &[Vec<String>]) {
    let mut w = csv::Writer::from_path(path).unwrap();
    for r in rows {
        w.write_record(r).unwrap();
    }
    w.flush().unwrap();
}

/// The index of `column` in a header.
fn col(rows: &[Vec<String>], column: &str) -> usize {
    rows[0].iter().position(|c| c == column).unwrap()
}

#[test]
fn spot_checks_take_their_chunk_count_from_the_job_and_refuse_to_check_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let csv = summary(dir.path(), "csv", &[]);
    let c = csv.to_str().unwrap();
    let digests = dir.path().join("asian.chunks");
    let text = std::fs::read_to_string(&digests).unwrap();
    // Nothing to check: refused, not verified.
    for (args, needle) in [
        (
            vec![c, "--chunks", "0"],
            "--chunks: 0 groups would check nothing",
        ),
        (
            vec![c, "--shard", "30/30"],
            "--shard: share 30/30 of the run's 21 digest groups is empty",
        ),
    ] {
        let out = verify(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    }
    // A forged estimate with an emptied or truncated digests file: refused, naming it.
    let rows = rows_of(&csv);
    let mut forged = rows.clone();
    forged[1][col(&rows, "estimate")] = "7.5".into();
    write_rows(&csv, &forged);
    let header = text.lines().next().unwrap().to_string();
    let truncated: String = text.lines().take(6).map(|l| format!("{l}\n")).collect();
    for damaged in [format!("{header}\n"), truncated, String::new()] {
        std::fs::write(&digests, &damaged).unwrap();
        let out = verify(&[c, "--chunks", "3"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("asian.chunks"), "{err}");
        assert!(!err.contains("verified"), "{err}");
    }
    // Digests of another job are refused too.
    std::fs::write(&digests, text.replacen("of job ", "of job 0", 1)).unwrap();
    let out = verify(&[c, "--chunks", "3"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // With good digests the spot-check passes but says what it did not check.
    std::fs::write(&digests, &text).unwrap();
    let out = verify(&[c, "--chunks", "3"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("spot-checked") && err.contains("3 of the run's 21 group digests"),
        "{err}"
    );
    assert!(
        err.contains("not that the summary's estimate is theirs"),
        "{err}"
    );
    // And the whole check catches the forged estimate.
    let out = verify(&[c, "--quiet"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("price estimate differs"),
        "{}",
        stderr(&out)
    );
}

/// A sweep of two strikes: two price rows and a difference row, labelled by strike.
fn sweep_summary(dir: &Path) -> PathBuf {
    let out = dir.join("sweep.csv");
    let run = carlo(&[
        "run",
        "configs/european.toml",
        "--samples",
        "40000",
        "--chunk-size",
        "10000",
        "--sweep",
        "model.strike=90,110",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    out
}

#[test]
fn every_column_the_job_decides_is_compared_and_rows_are_matched_by_label() {
    let dir = tempfile::tempdir().unwrap();
    let csv = sweep_summary(dir.path());
    let c = csv.to_str().unwrap();
    let rows = rows_of(&csv);
    assert_eq!(rows.len(), 4, "{rows:?}");
    let out = verify(&[c, "--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // Rows in another order, and values spelt as a spreadsheet writes them back (the
    // same doubles): still the same.
    let mut respelt = vec![
        rows[0].clone(),
        rows[3].clone(),
        rows[1].clone(),
        rows[2].clone(),
    ];
    for row in &mut respelt[1..] {
        let e = col(&rows, "std_error");
        let v: f64 = row[e].parse().unwrap();
        row[e] = format!("{v:e}");
        let s = col(&rows, "samples");
        row[s] = format!("{}.0", row[s]);
    }
    write_rows(&csv, &respelt);
    let out = verify(&[c, "--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // Each of these is caught, naming what differs.
    let strike = col(&rows, "strike");
    let swapped = {
        let mut r = rows.clone();
        let (a, b) = (r[1][strike].clone(), r[2][strike].clone());
        r[1][strike] = b;
        r[2][strike] = a;
        r
    };
    let edit = |column: &str, value: &str| {
        let mut r = rows.clone();
        r[1][col(&rows, column)] = value.into();
        r
    };
    let cases: Vec<(Vec<Vec<String>>, &str)> = vec![
        (swapped, "price at strike = 110 estimate"),
        (edit("seed", "43"), "price at strike = 90 seed"),
        (edit("confidence", "0.99"), "confidence"),
        (edit("model", "asian"), "model"),
        (edit("reference", "1"), "reference"),
        (edit("version", "0.3.99"), "version"),
        (edit("quantity", "delta"), "delta at strike = 90 (row)"),
        (rows[..3].to_vec(), "(row)"),
        (
            {
                let mut r = rows.clone();
                r.push(rows[1].clone());
                r
            },
            "(row)",
        ),
    ];
    for (edited, needle) in cases {
        write_rows(&csv, &edited);
        let out = verify(&[c]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{needle}: {err}");
        assert!(err.contains(needle), "{needle}: {err}");
    }
}

#[test]
fn damaged_json_summaries_are_refused_naming_the_file_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let json = summary(dir.path(), "json", &[]);
    let j = json.to_str().unwrap();
    let text = std::fs::read_to_string(&json).unwrap();
    let cases = [
        text.replace("\"fixings\": 12", "\"fixings\": null"),
        text.replace(
            "\"fixings\": 12",
            "\"fixings\": 100000000000000000000000000000",
        ),
        text.replace("\"strike\": 100.0", "\"strike\": null"),
        text.replace("\"seed\": 42,", "\"seed\": 1e400,"),
        text[..text.len() / 2].to_string(),
        "[1, 2]".into(),
        "[]".into(),
    ];
    for damaged in cases {
        std::fs::write(&json, &damaged).unwrap();
        let out = verify(&[j]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("asian.json"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn comparing_takes_time_linear_in_rows() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::pi_config(dir.path(), 1000, 100);
    let csv = dir.path().join("pi.csv");
    let out = carlo(&[
        "run",
        config.to_str().unwrap(),
        "--quiet",
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = rows_of(&csv);
    let mut many = vec![rows[0].clone()];
    for i in 0..200_000 {
        let mut r = rows[1].clone();
        r[col(&rows, "quantity")] = format!("q{i}");
        many.push(r);
    }
    write_rows(&csv, &many);
    let start = std::time::Instant::now();
    let out = verify(&[csv.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        start.elapsed() < std::time::Duration::from_secs(60),
        "{:?}",
        start.elapsed()
    );
    // It names a few of them, not 200,000.
    assert!(stderr(&out).len() < 2000, "{}", stderr(&out).len());
    assert!(stderr(&out).contains("more differ"), "{}", stderr(&out));
}

#[test]
fn a_job_that_runs_someone_elses_code_is_named_before_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let job = common::write_config(
        dir.path(),
        "theirs.job.toml",
        "[simulation]\nname = \"theirs\"\nsamples = 1000\nseed = 1\nchunk_size = 100\n\
         [model]\ntype = \"python\"\nentry = \"innocent_looking:simulate\"\nquantities = [\"x\"]\n",
    );
    // Stand-ins for a Python with carlo's package. The first loads the model (`-c
    // PROBE entry ...`: it prints the code's digest) for `carlo check`; the second
    // fails to import the module, as the job's code would first run: verify must name
    // the module before that, so its warning comes before the import's error.
    let stand_in = |name: &str, probe: &str| {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            format!("#!/bin/sh\n[ \"$1\" = -c ] && {{ {probe}; }}\nexit 3\n"),
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        path
    };
    let python = stand_in("python", "echo 0123456789abcdef0123456789abcdef; exit 0");
    let importing = stand_in(
        "python-importing",
        "echo \"ModuleNotFoundError: the import ran\" >&2; exit 2",
    );
    let check = cargo_bin_cmd!("carlo")
        .args(["check", job.to_str().unwrap()])
        .env("CARLO_PYTHON", &python)
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", stderr(&check));
    let text = String::from_utf8_lossy(&check.stdout).into_owned();
    let fingerprint = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("fingerprint "))
        .unwrap()
        .to_string();
    let summary = dir.path().join("theirs.csv");
    std::fs::write(
        &summary,
        format!("name,model,quantity,estimate,fingerprint\ntheirs,python,x,1,{fingerprint}\n"),
    )
    .unwrap();
    let out = cargo_bin_cmd!("carlo")
        .args(["verify", summary.to_str().unwrap()])
        .env("CARLO_PYTHON", &importing)
        .output()
        .unwrap();
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines[0].starts_with("warning: this job's model (type python)")
            && lines[0].contains("imports the Python module `innocent_looking`"),
        "{err}"
    );
    // The import's error comes after the warning, and is the job's bad input.
    assert!(
        lines[1..].iter().any(|l| l.contains("the import ran")),
        "{err}"
    );
    assert_eq!(out.status.code(), Some(2), "{err}");
}

/// A summary of another carlo minor version (0.2.0 drew other streams and merged
/// in chunk order) is refused before anything runs, naming the version that
/// reproduces it.
#[test]
fn a_summary_of_another_version_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let csv = summary(dir.path(), "csv", &[]);
    let mut rows = rows_of(&csv);
    let v = col(&rows, "version");
    for row in &mut rows[1..] {
        row[v] = "0.2.0".to_string();
    }
    write_rows(&csv, &rows);
    let out = verify(&[csv.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.starts_with("error: ") && err.contains("made by carlo 0.2.0"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}
