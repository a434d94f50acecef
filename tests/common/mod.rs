//! Helpers shared by the behaviour tests.
#![allow(dead_code)] // each test file uses a different subset

use std::path::Path;

use assert_cmd::cargo::cargo_bin_cmd;

/// Columns that may differ between runs of the same job: timings and where it ran.
pub const EXECUTION_COLUMNS: [&str; 4] =
    ["wall_seconds", "samples_per_second", "backend", "workers"];

/// Runs `carlo run CONFIG ARGS... --out - --format csv --quiet` and returns stdout,
/// failing the test on a non-zero exit.
pub fn run_csv(config: &Path, args: &[&str]) -> String {
    let out = cargo_bin_cmd!("carlo")
        .arg("run")
        .arg(config)
        .args(args)
        .args(["--out", "-", "--format", "csv", "--quiet"])
        .output()
        .expect("carlo starts");
    assert!(
        out.status.success(),
        "carlo run {} {args:?} failed: {}",
        config.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("CSV is UTF-8")
}

/// The CSV with the execution columns removed, so that two runs of the same job
/// compare equal as strings exactly when their results have the same bits.
pub fn result_columns(csv: &str) -> String {
    let header: Vec<&str> = csv.lines().next().expect("a header").split(',').collect();
    let keep: Vec<usize> = (0..header.len())
        .filter(|&i| !EXECUTION_COLUMNS.contains(&header[i]))
        .collect();
    csv.lines()
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            keep.iter().map(|&i| cells[i]).collect::<Vec<_>>().join(",")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The value of `column` in the first data row of `csv`.
pub fn field(csv: &str, column: &str) -> String {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let row: Vec<&str> = lines.next().expect("a row").split(',').collect();
    let i = header
        .iter()
        .position(|&c| c == column)
        .unwrap_or_else(|| panic!("no column {column} in {csv}"));
    row[i].to_string()
}

/// Writes `text` to `name` in `dir` and returns its path.
pub fn write_config(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("temp dir is writable");
    path
}
