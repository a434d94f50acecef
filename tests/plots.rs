//! The plots answer their questions from a real run: the convergence plot marks
//! the target and where and why the run stopped, and the scaling plot draws a
//! whisker on every point and says what a point above the ideal line means.

mod common;

use assert_cmd::cargo::cargo_bin_cmd;

fn pi_config(dir: &std::path::Path, extra: &str) -> std::path::PathBuf {
    common::write_config(
        dir,
        "pi.toml",
        &format!(
            "[simulation]\nsamples = 400_000\nseed = 11\nchunk_size = 1000\n{extra}\n\
             [model]\ntype = \"pi\"\n"
        ),
    )
}

/// Runs the config with `--trace` and `--plot`; returns the summary CSV, the
/// trace CSV and the SVG.
fn run_with_plot(config: &std::path::Path) -> (String, String, String) {
    let dir = config.parent().unwrap();
    let (trace, plot) = (dir.join("trace.csv"), dir.join("trace.svg"));
    let csv = common::run_csv(
        config,
        &[
            "--trace",
            trace.to_str().unwrap(),
            "--plot",
            plot.to_str().unwrap(),
        ],
    );
    let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap();
    (csv, read(&trace), read(&plot))
}

#[test]
fn a_run_that_meets_its_target_shows_the_target_and_the_stop() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), "target_abs_error = 0.01\ncheck_every = 24576");
    let (csv, trace, svg) = run_with_plot(&config);
    assert_eq!(common::field(&csv, "stop_reason"), "target");
    // The trace CSV's columns (0.3.0: points after whole blocks).
    assert_eq!(
        trace.lines().next().unwrap(),
        "blocks,samples,estimate,std_error,ci_low,ci_high"
    );
    let samples = common::field(&csv, "samples").parse::<u64>().unwrap();
    assert!(samples < 400_000);
    for label in [
        "stop: target met",
        "target band: final ± allowed half-width",
        "target: half-width ≤ 0.01",
        "stopped: the target was met",
        "reference 3.14159 (exact)",
    ] {
        assert!(svg.contains(label), "no {label:?} in the plot");
    }
}

#[test]
fn a_run_without_target_shows_that_it_drew_every_sample() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), "");
    let (_, _, svg) = run_with_plot(&config);
    assert!(svg.contains("stop: all samples drawn"));
    assert!(svg.contains("stopped: all 400,000 samples drawn"));
    assert!(!svg.contains("target"));
}

#[test]
fn the_scaling_plot_has_whiskers_and_reads_the_ideal_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), "");
    let (csv, svg) = (dir.path().join("s.csv"), dir.path().join("s.svg"));
    cargo_bin_cmd!("carlo")
        .arg("scale")
        .arg(&config)
        .args(["--workers", "2", "--backends", "threads,sequential"])
        .args(["--repeats", "3", "--quiet"])
        .arg("--out")
        .arg(&csv)
        .arg("--plot")
        .arg(&svg)
        .assert()
        .success();
    let points = std::fs::read_to_string(&csv).unwrap().lines().count() - 1;
    let svg = std::fs::read_to_string(&svg).unwrap();
    // One error bar per point and panel, each drawn with a circle at its median
    // (the markers are polygons).
    assert_eq!(svg.matches("<circle").count(), 2 * points);
    for label in [
        "Whiskers: fastest to slowest repeat",
        "Above the ideal line",
        "within timing noise",
        "ideal (speedup = workers)",
    ] {
        assert!(svg.contains(label), "no {label:?} in the plot");
    }
}
