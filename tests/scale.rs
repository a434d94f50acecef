//! `carlo scale`: a strong study measures every point, agrees on the bits, and
//! writes its CSV and plot.

mod common;

use assert_cmd::cargo::cargo_bin_cmd;

#[test]
fn strong_study_writes_csv_and_plot() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::write_config(
        dir.path(),
        "pi.toml",
        "[simulation]\nsamples = 300_001\nseed = 3\nchunk_size = 10_000\n[model]\ntype = \"pi\"\n",
    );
    let (csv, svg) = (dir.path().join("s.csv"), dir.path().join("s.svg"));
    cargo_bin_cmd!("carlo")
        .arg("scale")
        .arg(&config)
        .args([
            "--workers",
            "2,3",
            "--backends",
            "sequential,threads",
            "--repeats",
            "2",
        ])
        .arg("--out")
        .arg(&csv)
        .arg("--plot")
        .arg(&svg)
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "every run gave the same estimate bits",
        ));
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    for column in [
        "backend",
        "workers",
        "samples",
        "repeats",
        "wall_seconds",
        "wall_seconds_min",
        "wall_seconds_max",
        "samples_per_second",
        "speedup",
        "efficiency",
        "estimate",
        "cores",
        "cpu",
    ] {
        assert!(header.contains(&column), "no column {column}");
    }
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    // sequential x1, threads x1, x2, x3 (1 is added as the baseline).
    let points: Vec<(&str, &str)> = rows.iter().map(|r| (r[2], r[3])).collect();
    assert_eq!(
        points,
        [
            ("sequential", "1"),
            ("threads", "1"),
            ("threads", "2"),
            ("threads", "3")
        ]
    );
    let estimate = header.iter().position(|&c| c == "estimate").unwrap();
    assert!(rows.iter().all(|r| r[estimate] == rows[0][estimate]));
    let speedup = header.iter().position(|&c| c == "speedup").unwrap();
    assert_eq!(rows[1][speedup], "1");
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
}

#[test]
fn weak_study_grows_the_samples() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::write_config(
        dir.path(),
        "pi.toml",
        "[simulation]\nsamples = 50_000\nseed = 3\nchunk_size = 5_000\n[model]\ntype = \"pi\"\n",
    );
    let csv = dir.path().join("w.csv");
    cargo_bin_cmd!("carlo")
        .arg("scale")
        .arg(&config)
        .args([
            "--workers",
            "2",
            "--repeats",
            "1",
            "--weak",
            "--quiet",
            "--out",
        ])
        .arg(&csv)
        .assert()
        .success();
    let text = std::fs::read_to_string(&csv).unwrap();
    let samples: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(4).unwrap())
        .collect();
    assert_eq!(samples, ["50000", "100000"]);
}

#[test]
fn bad_study_flags_exit_2() {
    for flags in [
        &["--workers", "1,x"][..],
        &["--workers", "2", "--repeats", "0"],
        &["--workers", "2", "--backends", "warp-drive"],
    ] {
        let out = cargo_bin_cmd!("carlo")
            .args(["scale", "configs/pi.toml"])
            .args(flags)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{flags:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("--workers")
                || stderr.contains("--repeats")
                || stderr.contains("--backends"),
            "{stderr}"
        );
    }
}
