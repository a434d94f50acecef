//! The references against the values of `testdata/` (QuantLib 1.44, mpmath, scipy,
//! numpy; `testdata/generate.py`). Each test prints its worst error
//! (`cargo test --lib models::reference -- --nocapture`).

use std::time::Instant;

use super::basket::{BasketParams, Correlation, arithmetic_approx, arithmetic_levy, geometric};
use super::curve::{Curve, black_scholes};
use super::heston::HestonParams;
use super::lookback::{self, LookbackParams, Strike};
use super::merton::MertonParams;
use crate::models::options::OptionType;

/// The data lines of a testdata file, split on whitespace.
fn rows(text: &str) -> Vec<Vec<&str>> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_whitespace().collect())
        .collect()
}

fn num(s: &str) -> f64 {
    s.parse().unwrap_or_else(|_| panic!("not a number: {s}"))
}

fn option(s: &str) -> OptionType {
    match s {
        "C" => OptionType::Call,
        "P" => OptionType::Put,
        _ => panic!("{s}"),
    }
}

/// The largest absolute error, with the case it was seen at.
#[derive(Default)]
struct Worst {
    err: f64,
    at: String,
}

impl Worst {
    fn see(&mut self, got: f64, want: f64, at: impl FnOnce() -> String) {
        let e = (got - want).abs();
        if e > self.err || e.is_nan() {
            self.err = e;
            self.at = at();
        }
    }
}

#[test]
fn heston_against_quantlib_and_scipy() {
    let (mut vs_ql, mut vs_sp, mut ql_sp) = (Worst::default(), Worst::default(), Worst::default());
    let cases = rows(include_str!("testdata/heston.txt"));
    assert!(cases.len() >= 100);
    let start = Instant::now();
    for r in &cases {
        let f: Vec<f64> = r[1..].iter().map(|s| num(s)).collect();
        let p = HestonParams {
            option: option(r[0]),
            spot: f[0],
            strike: f[1],
            rate: f[2],
            dividend: f[3],
            maturity: f[4],
            v0: f[5],
            kappa: f[6],
            theta: f[7],
            xi: f[8],
            rho: f[9],
        };
        let got = p.price().unwrap_or_else(|e| panic!("{p:?}: {e}"));
        vs_ql.see(got, f[10], || format!("{p:?}"));
        vs_sp.see(got, f[11], || format!("{p:?}"));
        ql_sp.see(f[10], f[11], || format!("{p:?}"));
    }
    eprintln!(
        "heston: {} cases, {:.2?} each (debug build); worst vs QuantLib {:.2e} at {}; vs scipy {:.2e} at {}; QuantLib vs scipy {:.2e}",
        cases.len(),
        start.elapsed() / cases.len() as u32,
        vs_ql.err,
        vs_ql.at,
        vs_sp.err,
        vs_sp.at,
        ql_sp.err
    );
    assert!(vs_sp.err < 1e-8, "vs scipy {} at {}", vs_sp.err, vs_sp.at);
    assert!(
        vs_ql.err < 1e-8,
        "vs QuantLib {} at {}",
        vs_ql.err,
        vs_ql.at
    );
}

#[test]
fn merton_against_mpmath() {
    let mut w = Worst::default();
    let cases = rows(include_str!("testdata/merton.txt"));
    for r in &cases {
        let f: Vec<f64> = r[1..].iter().map(|s| num(s)).collect();
        let p = MertonParams {
            option: option(r[0]),
            spot: f[0],
            strike: f[1],
            rate: f[2],
            dividend: f[3],
            volatility: f[4],
            maturity: f[5],
            jump_intensity: f[6],
            jump_mean: f[7],
            jump_volatility: f[8],
        };
        w.see(p.price().unwrap(), f[9], || format!("{p:?}"));
    }
    eprintln!(
        "merton: {} cases, worst vs mpmath {:.2e} at {}",
        cases.len(),
        w.err,
        w.at
    );
    assert!(w.err < 1e-10, "{} at {}", w.err, w.at);
}

#[test]
fn baskets_against_mpmath_quantlib_and_monte_carlo() {
    let (mut geo, mut choi_ql, mut levy_ql) =
        (Worst::default(), Worst::default(), Worst::default());
    let (mut choi_mc_se, mut ql_mc_se): (f64, f64) = (0.0, 0.0);
    for r in rows(include_str!("testdata/basket.txt")) {
        let n = num(r[1]) as usize;
        let arr = |i: usize| -> Vec<f64> {
            r[6 + i * n..6 + (i + 1) * n]
                .iter()
                .map(|s| num(s))
                .collect()
        };
        let p = BasketParams {
            option: option(r[0]),
            spots: arr(0),
            weights: arr(1),
            volatilities: arr(2),
            dividends: arr(3),
            correlation: Correlation::Uniform(num(r[2])),
            rate: num(r[3]),
            maturity: num(r[4]),
            strike: num(r[5]),
        };
        let tail: Vec<f64> = r[6 + 4 * n..].iter().map(|s| num(s)).collect();
        let (want_geo, ql, mc, se) = (tail[0], tail[1], tail[2], tail[3]);
        geo.see(geometric(&p).unwrap(), want_geo, || format!("{p:?}"));
        let start = Instant::now();
        let choi = arithmetic_approx(&p).unwrap();
        let took = start.elapsed();
        let levy = arithmetic_levy(&p).unwrap();
        eprintln!(
            "basket {:?} n={n}: carlo Choi {choi:.9} ({took:.1?}), QuantLib Choi {ql:.9}, \
             MC {mc:.6} +- {se:.6}, Levy {levy:.6} ({:+.2}%)",
            p.option,
            100.0 * (levy - ql) / ql
        );
        // converged in lambda: doubling the nodes per standard deviation moves nothing
        if n <= 3 {
            let (b, l) = (
                &p,
                crate::models::reference::basket::cholesky(&p.correlation.matrix(n).unwrap())
                    .unwrap(),
            );
            let t = b.maturity;
            let g: Vec<f64> = (0..n)
                .map(|i| {
                    b.weights[i] / b.weights.iter().sum::<f64>()
                        * b.spots[i]
                        * crate::math::exp((b.rate - b.dividends[i]) * t)
                })
                .collect();
            let lc: Vec<Vec<f64>> = (0..n)
                .map(|i| {
                    l[i].iter()
                        .map(|x| x * b.volatilities[i] * t.sqrt())
                        .collect()
                })
                .collect();
            let fine = crate::math::exp(-b.rate * t)
                * super::choi::basket_option(
                    b.option,
                    &g,
                    &lc,
                    b.strike,
                    2.0 * super::choi::LAMBDA,
                );
            eprintln!("  lambda doubled: {fine:.9} ({:+.1e})", fine - choi);
            assert!((fine - choi).abs() < 5e-8, "{fine} vs {choi}");
        }
        choi_ql.see(choi, ql, || format!("{p:?}"));
        levy_ql.see(levy, ql, || format!("{p:?}"));
        choi_mc_se = choi_mc_se.max((choi - mc).abs() / se);
        ql_mc_se = ql_mc_se.max((ql - mc).abs() / se);
    }
    eprintln!(
        "basket: geometric worst vs mpmath {:.2e}; Choi worst vs QuantLib's {:.2e} at {}; \
         Levy worst vs QuantLib's Choi {:.3e} at {}; vs MC: carlo's Choi up to {:.1} SE, QuantLib's {:.1} SE",
        geo.err, choi_ql.err, choi_ql.at, levy_ql.err, levy_ql.at, choi_mc_se, ql_mc_se
    );
    assert!(geo.err < 1e-12);
    assert!(ql_mc_se < 4.0 && choi_mc_se < 4.0);
    assert!(choi_ql.err < 1e-5, "{} at {}", choi_ql.err, choi_ql.at);
    // Levy is a cruder approximation: this bounds what the docs state (the worst case
    // is a 3-year put on four assets of volatility 0.3 to 0.6)
    assert!(levy_ql.err < 1.3, "{}", levy_ql.err);
}

fn lookback_params(r: &[&str]) -> LookbackParams {
    let f: Vec<f64> = r[1..7].iter().map(|s| num(s)).collect();
    let (opt, strike) = match r[0] {
        "FXC" => (OptionType::Call, Strike::Fixed(f[1])),
        "FXP" => (OptionType::Put, Strike::Fixed(f[1])),
        "FLC" => (OptionType::Call, Strike::Floating),
        "FLP" => (OptionType::Put, Strike::Floating),
        k => panic!("{k}"),
    };
    LookbackParams {
        option: opt,
        strike,
        spot: f[0],
        rate: f[2],
        dividend: f[3],
        volatility: f[4],
        maturity: f[5],
    }
}

#[test]
fn lookback_continuous_against_quantlib() {
    let (mut w, mut near) = (Worst::default(), Worst::default());
    let mut zero_carry = 0;
    for r in rows(include_str!("testdata/lookback.txt")) {
        let p = lookback_params(&r);
        let got = lookback::continuous(&p).unwrap();
        let want = num(r[7]);
        if !want.is_finite() {
            // QuantLib divides by the carry r - q; carlo takes the limit (tested for
            // continuity in lookback::tests::zero_carry_is_continuous)
            assert!(p.rate == p.dividend && got.is_finite() && got > 0.0);
            zero_carry += 1;
            continue;
        }
        if (p.rate - p.dividend).abs() < 1e-6 {
            // QuantLib's sigma^2 / (2b) [...] loses ~1e-16 / |b| to cancellation
            near.see(got, want, || format!("{p:?}"));
            continue;
        }
        w.see(got, want, || format!("{p:?}"));
    }
    eprintln!(
        "lookback continuous: worst vs QuantLib {:.2e} at {}; {:.2e} where |r - q| < 1e-6 \
         ({zero_carry} cases of zero carry, NaN or inf in QuantLib)",
        w.err, w.at, near.err
    );
    assert!(near.err < 1e-6, "{} at {}", near.err, near.at);
    assert!(w.err < 1e-10, "{} at {}", w.err, w.at);
}

#[test]
fn lookback_discrete_against_quadrature_and_monte_carlo() {
    let (mut quad, mut bgk) = (Worst::default(), Worst::default());
    let mut worst_se: f64 = 0.0;
    for r in rows(include_str!("testdata/lookback_discrete.txt")) {
        let p = lookback_params(&r);
        let steps = num(r[7]) as u64;
        let (want, se) = (num(r[8]), num(r[9]));
        let got = lookback::discrete(&p, steps).unwrap();
        if r[10] == "scipy-dblquad" {
            quad.see(got, want, || format!("{p:?}"));
        } else {
            worst_se = worst_se.max((got - want).abs() / se);
            bgk.see(lookback::discrete_bgk(&p, steps).unwrap(), got, || {
                format!("{p:?} steps {steps}")
            });
        }
    }
    eprintln!(
        "lookback discrete: worst vs 2-date scipy quadrature {:.2e} at {}; vs Monte Carlo {:.2} SE; \
         BGK vs exact discrete worst {:.3e} at {}",
        quad.err, quad.at, worst_se, bgk.err, bgk.at
    );
    assert!(quad.err < 1e-8, "{} at {}", quad.err, quad.at);
    assert!(worst_se < 4.0);
}

#[test]
fn curve_against_quantlib() {
    let mut w = Worst::default();
    let list = |s: &str| -> Vec<f64> { s.split(',').map(num).collect() };
    for r in rows(include_str!("testdata/curve.txt")) {
        let table = |t: &str, v: &str| Curve::Table {
            times: list(t),
            values: list(v),
        };
        let got = black_scholes(
            option(r[0]),
            num(r[1]),
            num(r[2]),
            &table(r[3], r[4]),
            &table(r[5], r[6]),
            &table(r[7], r[8]),
            num(r[9]),
        )
        .unwrap();
        w.see(got, num(r[10]), || r.join(" "));
    }
    eprintln!("curve: worst vs QuantLib {:.2e} at {}", w.err, w.at);
    assert!(w.err < 1e-11, "{} at {}", w.err, w.at);
}

/// `cargo test --release --lib models::reference::known_answers::timing -- --ignored --nocapture`
#[test]
#[ignore = "timing: run in a release build"]
fn timing() {
    let time = |name: &str, reps: u32, f: &mut dyn FnMut() -> f64| {
        let start = Instant::now();
        let mut acc = 0.0;
        for _ in 0..reps {
            acc += f();
        }
        eprintln!(
            "{name}: {:.1?} per evaluation ({acc:.6})",
            start.elapsed() / reps
        );
    };
    let mut h = HestonParams {
        option: OptionType::Call,
        spot: 100.0,
        strike: 100.0,
        rate: 0.03,
        dividend: 0.0,
        maturity: 1.0,
        v0: 0.04,
        kappa: 1.5,
        theta: 0.04,
        xi: 0.5,
        rho: -0.7,
    };
    time("heston T=1", 200, &mut || h.price().unwrap());
    h.maturity = 0.05;
    h.strike = 130.0;
    time("heston T=0.05 K=130", 50, &mut || h.price().unwrap());
    let m = MertonParams {
        option: OptionType::Call,
        spot: 100.0,
        strike: 100.0,
        rate: 0.05,
        dividend: 0.0,
        volatility: 0.2,
        maturity: 1.0,
        jump_intensity: 1.0,
        jump_mean: -0.1,
        jump_volatility: 0.15,
    };
    time("merton", 1000, &mut || m.price().unwrap());
    let l = LookbackParams {
        option: OptionType::Call,
        strike: Strike::Fixed(100.0),
        spot: 100.0,
        rate: 0.05,
        dividend: 0.0,
        volatility: 0.3,
        maturity: 1.0,
    };
    time("lookback continuous", 1000, &mut || {
        lookback::continuous(&l).unwrap()
    });
    let b = BasketParams {
        option: OptionType::Call,
        spots: vec![100.0; 5],
        weights: vec![0.2; 5],
        volatilities: vec![0.2, 0.25, 0.3, 0.35, 0.4],
        dividends: vec![0.0; 5],
        correlation: Correlation::Uniform(0.5),
        rate: 0.05,
        maturity: 1.0,
        strike: 100.0,
    };
    time("basket geometric, 5 assets", 1000, &mut || {
        geometric(&b).unwrap()
    });
    time("basket Choi, 5 assets", 5, &mut || {
        arithmetic_approx(&b).unwrap()
    });
    time("basket Levy, 5 assets", 1000, &mut || {
        arithmetic_levy(&b).unwrap()
    });
    for steps in [12, 52, 250, 1000] {
        time(&format!("lookback discrete, {steps} dates"), 2, &mut || {
            lookback::discrete(&l, steps).unwrap()
        });
    }
}
