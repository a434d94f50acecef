//! Your own path model (examples/cliquet): a kernel on carlo's path machinery gets the
//! built-in path models' estimator, Sobol points, sweeps on common random numbers and
//! the same bits on every backend.

mod common;

use std::process::{Command, Output};

const CONFIG: &str = "examples/cliquet/cliquet.toml";

fn output(args: &[&str]) -> Output {
    Command::new(common::example("cliquet"))
        .args(args)
        .output()
        .expect("the example starts")
}

/// The summary rows of `run CONFIG ARGS` as `(quantity, estimate, std_error,
/// reference)`, and the CSV's result columns.
fn run(args: &[&str]) -> (Vec<(String, f64, f64, f64)>, String) {
    let mut all = vec!["run", CONFIG, "--out", "-", "--format", "csv", "--quiet"];
    all.extend(args);
    let out = output(&all);
    let csv = common::csv(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let rows = lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let num = |name: &str| f[at(name)].parse::<f64>().unwrap();
            (
                f[at("quantity")].to_string(),
                num("estimate"),
                num("std_error"),
                num("reference"),
            )
        })
        .collect();
    (rows, csv)
}

/// Within 4 standard errors of the exact price: a fixed seed, so this either always
/// passes or always fails; 4 SE is missed by chance 6e-5 of the time.
fn within_4_se(rows: &[(String, f64, f64, f64)]) {
    for (quantity, estimate, se, reference) in rows {
        assert!(
            (estimate - reference).abs() <= 4.0 * se,
            "{quantity}: {estimate} +- {se} against {reference}"
        );
    }
}

#[test]
fn the_cliquet_prices_within_4_se_on_pseudo_random_and_sobol_points() {
    let (rows, _) = run(&["--samples", "200_000"]);
    assert_eq!(rows.len(), 1);
    within_4_se(&rows);
    let (rows, _) = run(&["--samples", "262_144", "--set", "simulation.sampler=sobol"]);
    within_4_se(&rows);
}

#[test]
fn every_backend_gives_the_same_bits_and_a_sweep_point_its_own_runs() {
    let size = ["--samples", "100_000", "--chunk-size", "8192"];
    let (_, reference) = run(&[&size[..], &["--backend", "sequential"]].concat());
    for backend in ["threads", "processes"] {
        for workers in ["1", "3"] {
            let args = [&size[..], &["--backend", backend, "--workers", workers]].concat();
            assert_eq!(run(&args).1, reference, "{backend} x{workers}");
        }
    }
    let (sweep, _) = run(&[&size[..], &["--sweep", "model.cap=0.02,0.05"]].concat());
    let (own, _) = run(&size);
    assert_eq!(
        sweep[0].1.to_bits(),
        own[0].1.to_bits(),
        "{sweep:?} {own:?}"
    );
    within_4_se(&sweep);
}

#[test]
fn bad_keys_are_refused_naming_them() {
    for (set, key) in [
        ("model.cap=-0.5", "model.cap"),
        ("model.periods=0", "model.periods"),
        ("model.volatility=-1", "model.volatility"),
        ("model.rate=nan", "model.rate"),
        ("model.coupon=1", "coupon"),
    ] {
        let out = output(&["check", CONFIG, "--set", set]);
        let err = common::stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{set}: {err}");
        assert!(
            err.contains(key) && !err.contains("panicked"),
            "{set}: {err}"
        );
    }
}
