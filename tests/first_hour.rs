//! A user's first hour: warnings for values that are valid but probably not meant,
//! every recovered worker crash reported, errors that point at the mistake.

mod common;

use std::path::Path;
use std::process::Output;

use assert_cmd::cargo::cargo_bin_cmd;

fn carlo(args: &[&str], env: &[(&str, &str)]) -> Output {
    cargo_bin_cmd!("carlo")
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const EUROPEAN: &str = "configs/european.toml";

#[test]
fn percentages_are_warned_about_and_change_nothing() {
    let plain = carlo(
        &[
            "run",
            EUROPEAN,
            "--samples",
            "20000",
            "--out",
            "-",
            "--format",
            "csv",
            "--quiet",
        ],
        &[],
    );
    let cases = [
        (
            "model.volatility=20",
            "model.volatility = 20 is 2000% a year",
        ),
        ("model.rate=5", "model.rate = 5 is 500% a year"),
        ("model.dividend=-2", "model.dividend = -2 is -200% a year"),
    ];
    for (set, needle) in cases {
        // --quiet silences notes, never warnings.
        let out = carlo(
            &[
                "run",
                EUROPEAN,
                "--samples",
                "20000",
                "--set",
                set,
                "--out",
                "-",
                "--quiet",
            ],
            &[],
        );
        assert!(out.status.success(), "{set}: {}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{set}: {}", stderr(&out));
        let check = carlo(&["check", EUROPEAN, "--set", set], &[]);
        assert!(check.status.success());
        assert!(
            stderr(&check).contains(needle),
            "check {set}: {}",
            stderr(&check)
        );
    }
    assert!(stderr(&plain).is_empty(), "{}", stderr(&plain));
}

#[test]
fn an_estimate_without_noise_is_warned_about() {
    // A 2000% volatility: every simulated path ends worthless (the growth factor
    // underflows), so the estimate has a standard error of 0, 600 of them below
    // the Black-Scholes price.
    let out = carlo(
        &[
            "run",
            EUROPEAN,
            "--samples",
            "20000",
            "--set",
            "model.volatility=20",
        ],
        &[],
    );
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("price: all 20000 samples gave 0"), "{err}");
    // A sound run says nothing.
    let good = carlo(
        &[
            "run",
            EUROPEAN,
            "--samples",
            "200000",
            "--out",
            "-",
            "--quiet",
        ],
        &[],
    );
    assert!(stderr(&good).is_empty(), "{}", stderr(&good));
}

/// The `worker_restarts` column of a summary CSV.
fn restarts(csv: &str) -> String {
    common::field(csv, "worker_restarts")
}

#[test]
fn every_recovered_crash_is_reported_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::write_config(
        dir.path(),
        "pi.toml",
        "[simulation]\nsamples = 1000000\nseed = 3\nchunk_size = 50000\n[model]\ntype = \"pi\"\n",
    );
    let c = config.to_str().unwrap();
    let csv_args = ["--out", "-", "--format", "csv", "--quiet"];
    let clean = carlo(
        &[
            &["run", c, "--backend", "processes", "--workers", "2"][..],
            &csv_args,
        ]
        .concat(),
        &[],
    );
    assert_eq!(restarts(&String::from_utf8_lossy(&clean.stdout)), "0");
    let out = carlo(
        &[
            &["run", c, "--backend", "processes", "--workers", "2"][..],
            &csv_args,
        ]
        .concat(),
        &[("CARLO_FAULT", "abort-at:3,abort-at:9")],
    );
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "one line per crash: {err}");
    // Workers run their queues independently, so on a loaded machine chunk 9 may
    // crash before chunk 3: the lines may come in either order.
    for chunk in [3, 9] {
        let running = format!("running chunk {chunk};");
        let line = lines
            .iter()
            .find(|line| line.contains(&running))
            .unwrap_or_else(|| panic!("no line names chunk {chunk}: {err}"));
        assert!(line.starts_with("warning: worker process"), "{line}");
        assert!(line.contains("SIGABRT"), "{line}");
        assert!(
            line.contains(&format!("abort-at:{chunk}")),
            "the last stderr line: {line}"
        );
    }
    let csv = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(restarts(&csv), "2");
    assert_eq!(
        common::result_columns(&csv),
        common::result_columns(&String::from_utf8_lossy(&clean.stdout)),
        "a recovered crash changes no result"
    );
    // JSON carries it too.
    let json = carlo(
        &[
            "run",
            c,
            "--backend",
            "processes",
            "--out",
            "-",
            "--format",
            "json",
            "--quiet",
        ],
        &[("CARLO_FAULT", "abort-at:1")],
    );
    let rows: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(rows[0]["worker_restarts"], 1);
}

/// `carlo check` of `text` fails with exit 2 and an error containing every needle.
fn points_at(text: &str, needles: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let config = common::write_config(dir.path(), "c.toml", text);
    let out = carlo(&["check", config.to_str().unwrap()], &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for needle in needles {
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
}

const ASIAN: &str = "[simulation]\nsamples = 1000\nseed = 1\n\n[model]\ntype = \"asian\"\n\
option = \"call\"\nspot = 100\nstrike = 100\nrate = 0.05\nvolatility = 0.2\nmaturity = 1\n\
fixings = 12\naverage = \"arithmetic\"\n";

#[test]
fn model_errors_point_at_their_line_and_suggest_the_key_meant() {
    points_at(
        &ASIAN.replace("volatility = 0.2", "vol = 0.2"),
        &[
            "line 11, column 1",
            "unknown key `vol`",
            "did you mean `volatility`",
            "| vol = 0.2",
        ],
    );
    points_at(
        &ASIAN.replace("fixings = 12", "fixings = 1.5"),
        &["line 13, column 11", "1.5", "| fixings = 1.5"],
    );
    points_at(
        &ASIAN.replace("\"arithmetic\"", "\"harmonic\""),
        &["line 14", "harmonic", "arithmetic", "geometric"],
    );
    points_at(
        &ASIAN.replace("volatility = 0.2", "volatility = -0.2"),
        &["line 11, column 14", "model.volatility", "positive"],
    );
    points_at(
        &ASIAN.replace("fixings = 12\n", ""),
        &["line 5", "[model] type asian needs the key `fixings`"],
    );
    points_at(
        &ASIAN.replace("type = \"asian\"", "type = \"asain\""),
        &[
            "line 6",
            "unknown model type `asain`",
            "did you mean `asian`",
        ],
    );
}

#[test]
fn flags_of_other_tools_suggest_carlos() {
    for (typed, meant) in [
        ("--threads", "--workers"),
        ("--jobs", "--workers"),
        ("--paths", "--samples"),
        ("--output", "--out"),
        ("--resume", "--checkpoint"),
    ] {
        let out = carlo(&["run", "configs/pi.toml", typed, "2"], &[]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(&format!("'{meant}'")), "{typed}: {err}");
        assert!(err.contains("Usage: carlo run [OPTIONS] <CONFIG>"), "{err}");
    }
    let out = carlo(&["run", "--config", "configs/pi.toml"], &[]);
    assert!(
        stderr(&out).contains("carlo run CONFIG"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_american_reference_is_the_bermudan_price_of_its_dates() {
    let csv = common::run_csv(Path::new("configs/american.toml"), &["--samples", "20000"]);
    let reference: f64 = common::field(&csv, "reference").parse().unwrap();
    let american: f64 = common::field(&csv, "approx_reference").parse().unwrap();
    assert_eq!(common::field(&csv, "reference_kind"), "quadrature");
    // 50 dates: the Bermudan put, below the American one.
    assert!((reference - 6.078635).abs() < 1e-6, "{reference}");
    assert!((american - 6.090371).abs() < 1e-5, "{american}");
}
