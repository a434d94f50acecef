//! Every shipped config runs, so none can rot; the committed example summaries are
//! what the configs print; and running a config leaves a clone clean.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;

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

#[test]
fn every_shipped_config_checks_and_runs() {
    for path in configs() {
        cargo_bin_cmd!("carlo")
            .arg("check")
            .arg(&path)
            .assert()
            .success();
        let csv = common::run_csv(&path, &["--samples", "65536"]);
        assert!(csv.starts_with("name,model,quantity,estimate,"), "{csv}");
    }
}

/// The summary path a config names, from `carlo check`.
fn summary_of(config: &Path) -> PathBuf {
    let out = cargo_bin_cmd!("carlo")
        .arg("check")
        .arg(config)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text
        .lines()
        .find_map(|l| l.split_once("summary to ").map(|(_, p)| p.to_string()))
        .unwrap_or_else(|| panic!("no summary path in {text}"));
    PathBuf::from(line)
}

#[test]
fn committed_examples_are_what_the_shipped_configs_print() {
    for config in configs() {
        let summary = summary_of(&config);
        let example = Path::new("results/examples").join(summary.file_name().unwrap());
        let committed = std::fs::read_to_string(&example).unwrap_or_else(|e| {
            panic!(
                "{} names its summary {}, but {} is missing ({e}); run bash \
                 results/regenerate.sh",
                config.display(),
                summary.display(),
                example.display()
            )
        });
        let fresh = common::run_csv(&config, &[]);
        assert_eq!(
            common::result_columns(&fresh),
            common::result_columns(&committed),
            "{} no longer prints {}: regenerate it (bash results/regenerate.sh)",
            config.display(),
            example.display()
        );
    }
}

#[test]
fn the_first_command_of_the_readme_leaves_the_clone_clean() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let first = readme
        .lines()
        .find(|l| l.starts_with("cargo run --release -- run "))
        .expect("the README opens with `cargo run --release -- run CONFIG`");
    let config = first
        .trim_start_matches("cargo run --release -- run ")
        .trim();
    let status = || {
        std::process::Command::new("git")
            .args(["status", "--porcelain", "--untracked-files=all", "results"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    };
    let Some(before) = status() else {
        eprintln!("skipped: not a git checkout");
        return;
    };
    cargo_bin_cmd!("carlo")
        .args(["run", config, "--quiet"])
        .assert()
        .success();
    assert_eq!(status().unwrap(), before, "`{first}` changed what git sees");
}
