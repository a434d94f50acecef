//! CARLO_WORKER_DEPTH, the chunks in flight per worker process: a measuring knob
//! that changes who computes a chunk, never the result, and refuses what it cannot
//! mean.

mod common;

use assert_cmd::cargo_bin_cmd;

fn config(dir: &std::path::Path) -> std::path::PathBuf {
    common::write_config(
        dir,
        "pi.toml",
        "[simulation]\nname = \"pi\"\nsamples = 300_001\nseed = 9\nchunk_size = 1000\n\
         [model]\ntype = \"pi\"\n",
    )
}

#[test]
fn any_depth_gives_the_sequential_bits() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let reference = common::result_columns(&common::run_csv(&config, &["--backend", "sequential"]));
    for depth in ["1", "2", "5", "16"] {
        let out = cargo_bin_cmd!("carlo")
            .arg("run")
            .arg(&config)
            .args(["--backend", "processes", "--workers", "3", "--quiet"])
            .args(["--out", "-", "--format", "csv"])
            .env("CARLO_WORKER_DEPTH", depth)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let csv = String::from_utf8(out.stdout).unwrap();
        assert_eq!(common::result_columns(&csv), reference, "depth {depth}");
    }
}

#[test]
fn a_depth_out_of_range_is_refused_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let summary = dir.path().join("pi.csv");
    for bad in ["0", "17", "two", "-1", ""] {
        let out = cargo_bin_cmd!("carlo")
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
            .env("CARLO_WORKER_DEPTH", bad)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {stderr}");
        assert!(
            stderr.starts_with("error: ")
                && stderr.contains("CARLO_WORKER_DEPTH")
                && stderr.contains("1 to 16")
                && stderr.trim_end().lines().count() == 1,
            "{bad:?}: {stderr}"
        );
        assert!(!summary.exists(), "{bad:?} wrote a summary");
    }
}
