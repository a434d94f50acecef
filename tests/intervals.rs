//! What an interval cannot do is said, never hidden: a dropped control variate gets a
//! `note` and a warning, a control on too few Sobol replicates is refused, and the
//! measured limits of randomized quasi-Monte Carlo warn at run time.

mod common;

use assert_cmd::cargo::cargo_bin_cmd;

fn european(simulation: &str, model: &str) -> String {
    format!(
        "[simulation]\n{simulation}\nseed = 5\n[model]\ntype = \"european\"\noption = \"call\"\n\
         spot = 100.0\nstrike = 100.0\nrate = 0.05\nvolatility = 0.2\nmaturity = 1.0\n{model}\n\
         [execution]\nbackend = \"sequential\"\n"
    )
}

/// Runs `text`, returning (exit code, stdout, stderr).
fn run(text: &str) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = common::write_config(dir.path(), "c.toml", text);
    let out = cargo_bin_cmd!("carlo")
        .arg("run")
        .arg(&path)
        .args(["--out", "-", "--format", "csv"])
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_dropped_control_is_noted_and_warned() {
    // Two samples cannot fit a coefficient: the plain estimate, said so.
    let (code, csv, stderr) = run(&european("samples = 2", "control_variate = true"));
    assert_eq!(code, Some(0), "{stderr}");
    let note = common::field(&csv, "note");
    assert!(note.contains("control variate was dropped"), "{csv}");
    assert!(
        stderr.contains("warning: price: the control variate was dropped"),
        "{stderr}"
    );
    // A run whose control is used has no note column at all.
    let (_, csv, _) = run(&european("samples = 1000", "control_variate = true"));
    assert!(!csv.lines().next().unwrap().contains("note"), "{csv}");
}

#[test]
fn a_control_on_few_replicates_is_refused() {
    let (code, _, stderr) = run(&european(
        "samples = 32768\nsampler = \"sobol\"\nreplicates = 8",
        "control_variate = true",
    ));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains("simulation.replicates"),
        "{stderr}"
    );
}

#[test]
fn measured_limits_warn() {
    // Fewer replicates than the default, and Greeks on a one-date Sobol path.
    let (code, _, stderr) = run(&european(
        "samples = 32768\nsampler = \"sobol\"\nreplicates = 8",
        "greeks = [\"delta\"]",
    ));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("simulation.replicates = 8"), "{stderr}");
    assert!(stderr.contains("one-date path"), "{stderr}");
    // The default replicates and no Greeks: neither.
    let (_, _, stderr) = run(&european("samples = 65536\nsampler = \"sobol\"", ""));
    assert!(
        !stderr.contains("one-date") && !stderr.contains("replicates ="),
        "{stderr}"
    );
}
