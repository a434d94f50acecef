//! Every SIMD level gives the same bits: each shipped config, run with `CARLO_SIMD`
//! forcing scalar, AVX2 and AVX-512 in turn (those this CPU has), prints the same CSV
//! result columns; and a level this CPU lacks, or a misspelt one, is refused.

mod common;

use std::path::PathBuf;

use assert_cmd::cargo::cargo_bin_cmd;
use carlo::math::Level;
use predicates::prelude::*;

fn configs() -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("configs")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    found.sort();
    assert!(!found.is_empty(), "no configs found");
    found
}

/// The CSV of `config` with `CARLO_SIMD=level`, on one thread (the level, not the
/// backend, is what differs).
fn run_at(config: &PathBuf, level: Level) -> String {
    let out = cargo_bin_cmd!("carlo")
        .env("CARLO_SIMD", level.name())
        .arg("run")
        .arg(config)
        .args(["--samples", "262144", "--backend", "sequential"])
        .args(["--out", "-", "--format", "csv", "--quiet"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} at {level}: {}",
        config.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_shipped_config_prints_the_same_csv_at_every_simd_level() {
    let levels = Level::available();
    for config in configs() {
        let scalar = common::result_columns(&run_at(&config, Level::Scalar));
        for &level in &levels[1..] {
            assert_eq!(
                common::result_columns(&run_at(&config, level)),
                scalar,
                "{}: {level} and scalar differ",
                config.display()
            );
        }
    }
    // Not a vacuous pass on the machines the project is measured on.
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        assert_eq!(levels.len(), 3);
    }
}

#[test]
fn a_simd_level_that_cannot_run_is_refused() {
    let config = PathBuf::from("configs/pi.toml");
    let mut bad = vec!["sse9".to_string()];
    bad.extend(
        Level::ALL
            .iter()
            .filter(|l| !l.is_available())
            .map(|l| l.name().to_string()),
    );
    for value in bad {
        cargo_bin_cmd!("carlo")
            .env("CARLO_SIMD", &value)
            .arg("run")
            .arg(&config)
            .args(["--samples", "1000", "--out", "-", "--quiet"])
            .assert()
            .code(2)
            .stderr(
                predicate::str::contains("CARLO_SIMD")
                    .or(predicate::str::contains("not available on this CPU")),
            );
    }
}
