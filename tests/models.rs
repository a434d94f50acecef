//! Option models against known answers (QuantLib 1.44 values in
//! `../shared/reference/`, and carlo's own closed forms), parity relations, variance
//! reduction, and determinism across backends.
//!
//! Every statistical check uses a fixed seed, so it passes or fails the same way on
//! every run. "Within 4 standard errors": for an unbiased estimator the error over
//! its standard error is close to standard normal, and |Z| > 4 has probability
//! 6e-5, so a correct model fails one check in about 16 000 seeds while a bias of a
//! few standard errors (a wrong drift, a missing discount) is caught.

mod common;

use std::path::Path;

use carlo::config::{Experiment, Overrides};
use carlo::engine::{Quiet, run};
use carlo::model::{Quantity, Registry};
use carlo::models::options::closed_form;
use carlo::models::{Market, OptionType};
use carlo::stats::Estimate;

/// How far (in standard errors) an estimate may lie from an exact reference.
const Z: f64 = 4.0;

/// A config for `model` on the reference market, with `extra` model keys.
fn config(model: &str, option: &str, extra: &str, samples: u64, seed: u64) -> String {
    format!(
        "[simulation]\nsamples = {samples}\nseed = {seed}\nchunk_size = 8192\n\
         [model]\ntype = \"{model}\"\noption = \"{option}\"\nspot = 100.0\nstrike = 100.0\n\
         rate = 0.05\nvolatility = 0.2\nmaturity = 1.0\n{extra}\n\
         [execution]\nbackend = \"threads\"\nworkers = 2\n"
    )
}

fn market(option: OptionType) -> Market {
    Market {
        option,
        spot: 100.0,
        strike: 100.0,
        rate: 0.05,
        dividend: 0.0,
        volatility: 0.2,
        maturity: 1.0,
    }
}

/// Runs a config through the library; returns the price quantity and its estimate.
fn price(text: &str) -> (Quantity, Estimate) {
    let e = Experiment::parse(
        text,
        Path::new("t.toml"),
        &Overrides::default(),
        &Registry::builtin(),
    )
    .unwrap_or_else(|e| panic!("{e}\n{text}"));
    let report = run(&e, &mut Quiet).unwrap();
    let (q, est) = &report.estimates[0];
    assert_eq!(q.name, "price");
    (q.clone(), *est)
}

fn assert_near(est: &Estimate, reference: f64, what: &str) {
    let z = (est.estimate - reference) / est.std_error;
    assert!(
        z.abs() < Z,
        "{what}: {} +- {} is {z:.2} standard errors from {reference}",
        est.estimate,
        est.std_error
    );
}

const REDUCTIONS: [&str; 4] = [
    "",
    "antithetic = true",
    "control_variate = true",
    "antithetic = true\ncontrol_variate = true",
];

#[test]
fn european_prices_match_black_scholes() {
    // QuantLib's AnalyticEuropeanEngine values.
    for (option, ql) in [("call", 10.450584), ("put", 5.573526)] {
        for (i, reduction) in REDUCTIONS.iter().enumerate() {
            let (q, est) = price(&config(
                "european",
                option,
                reduction,
                200_000,
                11 + i as u64,
            ));
            let (reference, kind) = q.reference.expect("an exact reference");
            assert_eq!(kind.name(), "exact");
            assert!((reference - ql).abs() < 5e-7, "{option}: {reference}");
            assert_near(&est, reference, &format!("{option} [{reduction}]"));
        }
    }
}

#[test]
fn the_reference_column_is_the_closed_form() {
    let dir = tempfile::tempdir().unwrap();
    for (option, kind) in [("call", OptionType::Call), ("put", OptionType::Put)] {
        let text = config("european", option, "dividend = 0.02", 1000, 1)
            .replace("strike = 100.0", "strike = 95.0");
        let csv = common::run_csv(&common::write_config(dir.path(), "e.toml", &text), &[]);
        let reference: f64 = common::field(&csv, "reference").parse().unwrap();
        let exact = closed_form::black_scholes(&Market {
            strike: 95.0,
            dividend: 0.02,
            ..market(kind)
        });
        assert!(
            (reference - exact).abs() <= 1e-10 * exact,
            "{reference} vs {exact}"
        );
        assert_eq!(common::field(&csv, "reference_kind"), "exact");
    }
}

#[test]
fn european_put_call_parity_from_one_seed() {
    let text = |option| config("european", option, "dividend = 0.03", 100_000, 5);
    let (_, call) = price(&text("call"));
    let (_, put) = price(&text("put"));
    let m = market(OptionType::Call);
    let forward_gap = m.spot * (-0.03f64).exp() - m.strike * (-m.rate).exp();
    // From one seed the call and put share their paths, so their errors are
    // correlated; the standard error of C - P is at most the sum of the two
    // (triangle inequality for standard deviations), whatever the correlation.
    let combined = call.std_error + put.std_error;
    let gap = call.estimate - put.estimate - forward_gap;
    assert!(
        gap.abs() < Z * combined,
        "C - P misses parity by {gap} ({combined})"
    );
}

#[test]
fn variance_reduction_lowers_the_error_and_reports_the_ratio() {
    // The same seed draws the same normals with every switch, and the first path of
    // each antithetic pair is the plain run's path: the reported ratio must equal
    // the ratio of the squared standard errors of the two runs.
    let (_, plain) = price(&config("european", "call", "", 100_000, 3));
    assert_eq!(plain.variance_ratio, 1.0);
    for reduction in &REDUCTIONS[1..] {
        let (_, reduced) = price(&config("european", "call", reduction, 100_000, 3));
        let observed = (plain.std_error / reduced.std_error).powi(2);
        assert!(
            (reduced.variance_ratio - observed).abs() < 1e-6 * observed,
            "[{reduction}] reported {} vs observed {observed}",
            reduced.variance_ratio
        );
        // Antithetic pairs halve the variance of an at-the-money call at equal
        // paths (about 4x at equal samples); the terminal spot control gives ~7x.
        assert!(observed > 3.0, "[{reduction}] only {observed}x");
    }
}

#[test]
fn geometric_asian_prices_match_the_closed_form() {
    for (option, kind) in [("call", OptionType::Call), ("put", OptionType::Put)] {
        let exact = closed_form::geometric_asian(&market(kind), 12);
        for (i, reduction) in REDUCTIONS.iter().enumerate() {
            let extra = format!("fixings = 12\naverage = \"geometric\"\n{reduction}");
            let (q, est) = price(&config("asian", option, &extra, 50_000, 21 + i as u64));
            assert_eq!(
                q.reference.map(|(v, k)| (v, k.name())),
                Some((exact, "exact"))
            );
            assert_near(&est, exact, &format!("geometric {option} [{reduction}]"));
        }
    }
    // QuantLib's closed form on the exact grid t_i = i / 12 (reference/README.md).
    assert!((closed_form::geometric_asian(&market(OptionType::Call), 12) - 5.940200).abs() < 5e-7);
}

#[test]
fn arithmetic_asian_matches_quantlib_and_parity() {
    let extra = |reduction| format!("fixings = 12\naverage = \"arithmetic\"\n{reduction}");
    let (q, call) = price(&config(
        "asian",
        "call",
        &extra("control_variate = true"),
        50_000,
        4,
    ));
    assert_eq!(q.reference, None);
    // QuantLib's Monte Carlo price on the same grid, 6.15606 +- 0.00036: its own
    // error adds to ours.
    let se = call.std_error.hypot(0.00036);
    assert!((call.estimate - 6.15606).abs() < Z * se, "{call:?}");
    // Parity from one seed: C - P = exp(-rT) (E[A] - K), with E[A] exact. The
    // standard error of C - P is at most the sum of the two (triangle inequality).
    let (_, put) = price(&config(
        "asian",
        "put",
        &extra("control_variate = true"),
        50_000,
        4,
    ));
    let m = market(OptionType::Call);
    let parity = (-m.rate).exp() * (closed_form::arithmetic_asian_mean(&m, 12) - m.strike);
    let gap = call.estimate - put.estimate - parity;
    assert!(
        gap.abs() < Z * (call.std_error + put.std_error),
        "parity gap {gap}"
    );
}

#[test]
fn the_geometric_control_cuts_the_arithmetic_asian_error() {
    let extra = |reduction| format!("fixings = 12\naverage = \"arithmetic\"\n{reduction}");
    let (_, plain) = price(&config("asian", "call", &extra(""), 20_000, 8));
    let (_, controlled) = price(&config(
        "asian",
        "call",
        &extra("control_variate = true"),
        20_000,
        8,
    ));
    // QuantLib's geometric control cuts the standard error about 24x (a variance
    // ratio near 600); demand at least 10x in standard error from the same paths.
    let ratio = plain.std_error / controlled.std_error;
    assert!(ratio > 10.0, "standard error only {ratio}x smaller");
    assert!((controlled.variance_ratio - ratio * ratio).abs() < 1e-6 * ratio * ratio);
}

fn barrier(
    option: &str,
    kind: &str,
    h: f64,
    steps: u64,
    extra: &str,
    samples: u64,
    seed: u64,
) -> String {
    let extra = format!("barrier = {h}\nkind = \"{kind}\"\nsteps = {steps}\n{extra}");
    config("barrier", option, &extra, samples, seed)
}

#[test]
fn up_and_out_call_matches_quantlib_discrete_monitoring() {
    let (q, est) = price(&barrier("call", "up-and-out", 120.0, 252, "", 40_000, 6));
    // The quadrature over the 252 dates (a dense quadrature and mpmath agree to
    // 1e-10, src/models/options/testdata/references.csv); no approximation beside it.
    let (reference, kind) = q.reference.expect("a quadrature reference");
    assert_eq!(kind.name(), "quadrature");
    assert!((reference - 1.3267700381387706).abs() < 1e-9, "{reference}");
    assert_eq!(q.approx_reference, None);
    // QuantLib's Monte Carlo with the barrier checked on the same 252 dates:
    // 1.323495 +- 0.0107541; both errors count.
    let se = est.std_error.hypot(0.0107541);
    assert!((est.estimate - 1.323495).abs() < Z * se, "{est:?}");
    assert!(
        (est.estimate - reference).abs() < Z * est.std_error,
        "{est:?}"
    );
}

#[test]
fn barrier_puts_agree_with_their_quadrature_references() {
    // The references are exact to 1e-9: only the estimate's error counts.
    for (kind, h) in [
        ("down-and-out", 85.0),
        ("down-and-in", 85.0),
        ("up-and-out", 115.0),
    ] {
        let (q, est) = price(&barrier("put", kind, h, 50, "rebate = 2.0", 40_000, 12));
        let (reference, _) = q.reference.expect("a quadrature reference");
        assert!(
            (est.estimate - reference).abs() < Z * est.std_error,
            "{kind}: {est:?} vs {reference}"
        );
    }
}

#[test]
fn barrier_in_out_parity_from_one_seed() {
    // Path by path, in + out = vanilla + rebate (one of the two pays the rebate),
    // so from one seed in + out differs from the exact vanilla price plus the
    // discounted rebate only by the vanilla estimate's error, which is at most the
    // sum of the two standard errors.
    for option in ["call", "put"] {
        for (up, h) in [("up", 115.0), ("down", 90.0)] {
            let run = |inout| {
                price(&barrier(
                    option,
                    &format!("{up}-and-{inout}"),
                    h,
                    20,
                    "rebate = 3.0",
                    20_000,
                    2,
                ))
                .1
            };
            let (knock_in, knock_out) = (run("in"), run("out"));
            let kind = if option == "call" {
                OptionType::Call
            } else {
                OptionType::Put
            };
            let vanilla = closed_form::black_scholes(&market(kind)) + 3.0 * (-0.05f64).exp();
            let gap = knock_in.estimate + knock_out.estimate - vanilla;
            let se = knock_in.std_error + knock_out.std_error;
            assert!(gap.abs() < Z * se, "{option} {up}: gap {gap}, se {se}");
        }
    }
}

#[test]
fn the_european_control_helps_a_far_down_and_out_call() {
    let text = |extra| barrier("call", "down-and-out", 80.0, 20, extra, 20_000, 5);
    let (_, plain) = price(&text(""));
    let (q, controlled) = price(&text("control_variate = true"));
    assert_eq!(
        q.control.unwrap().mean,
        closed_form::black_scholes(&market(OptionType::Call))
    );
    assert!(
        plain.std_error / controlled.std_error > 1.5,
        "{plain:?} vs {controlled:?}"
    );
}

fn american(option: &str, extra: &str, samples: u64, seed: u64) -> String {
    let extra = format!("steps = 50\n{extra}");
    config("american", option, &extra, samples, seed)
}

#[test]
fn american_put_lies_just_below_its_bermudan_reference() {
    for reduction in ["", "control_variate = true", "antithetic = true"] {
        let (q, est) = price(&american("put", reduction, 40_000, 14));
        let (bermudan, kind) = q.reference.expect("a quadrature reference");
        assert_eq!(kind.name(), "quadrature");
        // The Bermudan put with these 50 dates (a dense quadrature gives
        // 6.078635046403, references.csv), below the American put (QuantLib's
        // QdFpAmericanEngine: 6.090370607), now in approx_reference.
        assert!(
            (bermudan - 6.078635046403).abs() < 1e-9,
            "bermudan {bermudan}"
        );
        let american = q.approx_reference.expect("the American price");
        assert!((american - 6.090370607).abs() < 1e-5, "american {american}");
        // Longstaff-Schwartz estimates the value of one exercise rule among those
        // of the Bermudan option, so it is biased low, never high: the fitted rule
        // loses about 0.01 (6.0688 +- 0.0033 with 2e6 paths). So: at most 4
        // standard errors above the reference, and at most 0.03 (0.5%) plus 4
        // standard errors below it.
        let z = (est.estimate - bermudan) / est.std_error;
        assert!(
            z < Z,
            "[{reduction}] {est:?} above the reference {bermudan}"
        );
        assert!(
            est.estimate > bermudan - 0.03 - Z * est.std_error,
            "[{reduction}] {est:?}"
        );
    }
}

#[test]
fn american_call_without_dividends_is_european() {
    // Early exercise never pays; a fitted rule can only lose by exercising.
    let (q, est) = price(&american("call", "control_variate = true", 40_000, 15));
    let european = closed_form::black_scholes(&market(OptionType::Call));
    assert!((q.reference.unwrap().0 - european).abs() < 1e-3);
    assert!(est.estimate < european + Z * est.std_error, "{est:?}");
    assert!(
        est.estimate > european - 0.02 - Z * est.std_error,
        "{est:?}"
    );
}

/// Configs of every model that must give the same bits on every backend.
fn determinism_configs() -> Vec<(&'static str, String)> {
    let both = "antithetic = true\ncontrol_variate = true";
    vec![
        ("european", config("european", "put", both, 30_001, 9)),
        ("european plain", config("european", "call", "", 30_001, 9)),
        (
            "barrier",
            barrier(
                "put",
                "down-and-in",
                95.0,
                9,
                &format!("rebate = 1.0\n{both}"),
                30_001,
                9,
            ),
        ),
        (
            "american",
            config(
                "american",
                "put",
                &format!("steps = 10\ncalibration_paths = 2000\n{both}"),
                30_001,
                9,
            ),
        ),
        (
            "asian",
            config(
                "asian",
                "call",
                &format!("fixings = 7\naverage = \"arithmetic\"\n{both}"),
                30_001,
                9,
            ),
        ),
        (
            "pi",
            "[simulation]\nsamples = 30001\nseed = 9\nchunk_size = 8192\n[model]\ntype = \"pi\"\n"
                .to_string(),
        ),
        (
            "heston",
            format!(
                "[simulation]\nsamples = 30001\nseed = 9\nchunk_size = 8192\n[model]\n\
                 type = \"heston\"\noption = \"put\"\nspot = 100.0\nstrike = 100.0\n\
                 rate = 0.05\nmaturity = 1.0\nv0 = 0.04\nkappa = 1.5\ntheta = 0.04\n\
                 xi = 0.5\nrho = -0.7\nsteps = 7\ngreeks = [\"delta\"]\n{both}\n"
            ),
        ),
        (
            "basket",
            format!(
                "[simulation]\nsamples = 30001\nseed = 9\nchunk_size = 8192\n[model]\n\
                 type = \"basket\"\noption = \"call\"\nspots = [100.0, 90.0, 110.0]\n\
                 weights = [0.5, 0.3, 0.2]\nvolatilities = [0.2, 0.3, 0.25]\n\
                 correlation = 0.4\nstrike = 100.0\nrate = 0.05\nmaturity = 1.0\n{both}\n"
            ),
        ),
        (
            "merton",
            config(
                "merton",
                "call",
                &format!(
                    "jump_intensity = 1.0\njump_mean = -0.1\njump_volatility = 0.15\n\
                     greeks = [\"vega\"]\n{both}"
                ),
                30_001,
                9,
            ),
        ),
        (
            "lookback",
            config(
                "lookback",
                "put",
                &format!("strike_type = \"fixed\"\nsteps = 9\n{both}"),
                30_001,
                9,
            ),
        ),
    ]
}

/// A model added to the registry without a determinism config would go unchecked.
#[test]
fn every_builtin_model_has_a_determinism_config() {
    let covered: std::collections::BTreeSet<String> = determinism_configs()
        .iter()
        .map(|(name, _)| name.split(' ').next().unwrap().to_string())
        .collect();
    assert_eq!(covered, common::builtin_model_types());
}

#[test]
fn every_model_gives_the_same_bits_on_every_backend() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in determinism_configs() {
        // chunk 4000 does not divide the sample count: the last chunk is short.
        let text = text.replace("chunk_size = 8192", "chunk_size = 4000");
        let path = common::write_config(dir.path(), "d.toml", &text);
        let reference =
            common::result_columns(&common::run_csv(&path, &["--backend", "sequential"]));
        for workers in ["1", "2", "3"] {
            let csv = common::run_csv(&path, &["--backend", "threads", "--workers", workers]);
            assert_eq!(
                common::result_columns(&csv),
                reference,
                "{name}, threads x{workers}"
            );
        }
    }
}

#[test]
fn references_stay_exact_where_estimates_are_nearly_deterministic() {
    // A tiny volatility and maturity, in the money: with its control variate the
    // estimate is exact to rounding, so a reference that carried the rounding of
    // ln(spot) (about 5e-14) lay thousands of standard errors away.
    for (option, strike) in [("call", "90.0"), ("put", "110.0")] {
        let text = config("european", option, "", 200_000, 3)
            .replace("volatility = 0.2", "volatility = 1e-4")
            .replace("maturity = 1.0", "maturity = 1e-4")
            .replace("strike = 100.0", &format!("strike = {strike}"));
        let (q, est) = price(&text);
        let reference = q.reference.unwrap().0;
        let gap = (est.estimate - reference).abs();
        assert!(
            gap <= 4.0 * est.std_error || gap <= 4e-15,
            "{option}: {} +- {} vs {reference}",
            est.estimate,
            est.std_error
        );
    }
}

#[test]
fn an_estimate_without_randomness_far_from_its_reference_is_called_untrustworthy() {
    let dir = tempfile::tempdir().unwrap();
    let text = config(
        "american",
        "put",
        "steps = 50\nbasis_degree = 3\ncalibration_paths = 20000",
        100_000,
        1,
    )
    .replace("rate = 0.05", "rate = 0.05\ndividend = 1e5");
    let path = common::write_config(dir.path(), "absurd.toml", &text);
    let out = common::run_within(
        &["run", path.to_str().unwrap(), "--out", "-", "--quiet"],
        &[],
        std::time::Duration::from_secs(120),
    );
    assert!(out.status.success(), "{}", common::stderr(&out));
    let err = common::stderr(&out);
    assert!(
        err.contains("(a standard error of 0), but its quadrature reference is")
            && err.contains("cannot be trusted"),
        "{err}"
    );
    // The percentage warning quotes the number, not 300 digits of it.
    let text = text.replace("dividend = 1e5", "dividend = 1e300");
    let path = common::write_config(dir.path(), "absurder.toml", &text);
    let out = common::run_within(
        &["run", path.to_str().unwrap(), "--out", "-", "--quiet"],
        &[],
        std::time::Duration::from_secs(120),
    );
    let err = common::stderr(&out);
    assert!(
        err.contains("model.dividend = 1e300 is 1e302% a year"),
        "{err}"
    );
    assert!(err.lines().all(|l| l.len() < 400), "{err}");
}
