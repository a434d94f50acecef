//! Your own path model on carlo's path machinery: a cliquet (ratchet) option.
//!
//! A cliquet pays, at maturity, the sum of its periods' returns, each clamped to
//! `[floor, cap]`: with `n` periods of length `T / n` and `R_i = S_{t_i} / S_{t_{i-1}}
//! - 1`, it pays `notional * sum_i min(cap, max(floor, R_i))`. Under geometric
//! Brownian motion each return is a lognormal of its own, so the price is exact:
//! `E[clamp(R, f, c)] = f + C(1 + f) - C(1 + c)`, with `C(k)` the undiscounted
//! Black-Scholes call on `e^X`, `X ~ N((r - q - s^2 / 2) dt, s^2 dt)`, at strike `k`.
//!
//! The model is its kernel (what one path does with its normals, walked eight paths
//! at a time on the lanes) and its parameters (checked, turned into a scenario). carlo's
//! [`PathModel`](carlo::models::options::PathModel) does the rest: the block's normals,
//! antithetic pairs, `sampler = "sobol"` through a Brownian bridge, `--sweep` on common
//! random numbers, every backend with the same bits.
//!
//! ```sh
//! cargo build --release --example cliquet
//! target/release/examples/cliquet run examples/cliquet/cliquet.toml
//! target/release/examples/cliquet run examples/cliquet/cliquet.toml --set simulation.sampler=sobol
//! target/release/examples/cliquet run examples/cliquet/cliquet.toml --sweep model.cap=0.05,0.1
//! ```

use std::process::ExitCode;

use carlo::Error;
use carlo::math::{Lanes, exp_lanes, normal_cdf};
use carlo::model::{Entry, Quantity, Registry};
use carlo::models::options::path_model::{self, KernelParams, Scenario};
use carlo::models::options::{PathKernel, PathNormals};
use serde::{Deserialize, Serialize};

/// The `[model]` keys of `type = "cliquet"` (all required but `antithetic`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CliquetParams {
    spot: f64,
    rate: f64,
    dividend: f64,
    volatility: f64,
    maturity: f64,
    /// Reset dates, equally spaced, the last at maturity.
    periods: u64,
    floor: f64,
    cap: f64,
    notional: f64,
    #[serde(default)]
    antithetic: bool,
}

/// One path: a normal per period.
#[derive(Debug, Clone)]
struct CliquetKernel {
    periods: usize,
    /// Each period's log-drift and standard deviation.
    drift: f64,
    vol: f64,
    floor: f64,
    cap: f64,
    /// Notional times the discount factor to today.
    scale: f64,
}

impl PathKernel for CliquetKernel {
    fn normals(&self) -> usize {
        self.periods
    }

    fn values(&self) -> usize {
        1 // the discounted payoff
    }

    /// Hand-written hot loop (carlo's own `exp`, so every SIMD level gives the same
    /// bits): per period one exp, a subtraction and a clamp.
    #[inline(always)]
    unsafe fn walk<V: Lanes>(&self, z: PathNormals<'_>, out: &mut [V]) {
        // SAFETY: the caller guarantees the instruction set of `V`.
        unsafe {
            let (drift, vol) = (V::splat(self.drift), V::splat(self.vol));
            let (floor, cap, one) = (V::splat(self.floor), V::splat(self.cap), V::splat(1.0));
            let mut sum = V::splat(0.0);
            for j in 0..self.periods {
                let growth = exp_lanes(drift.add(vol.mul(z.get::<V>(j))));
                sum = sum.add(growth.sub(one).max(floor).min(cap));
            }
            out[0] = V::splat(self.scale).mul(sum);
        }
    }
}

impl KernelParams for CliquetParams {
    type Kernel = CliquetKernel;
    const NORMALS_KEY: &'static str = "model.periods";

    fn scenario(&self) -> Result<Scenario<CliquetKernel>, Error> {
        let positive = [
            ("spot", self.spot),
            ("volatility", self.volatility),
            ("maturity", self.maturity),
            ("notional", self.notional),
        ];
        for (key, value) in positive {
            if !(value.is_finite() && value > 0.0) {
                let why = format!("must be positive and finite, found {value}");
                return Err(Error::parameter(&format!("model.{key}"), why));
            }
        }
        for (key, value) in [("rate", self.rate), ("dividend", self.dividend)] {
            if !value.is_finite() {
                let why = format!("must be finite, found {value}");
                return Err(Error::parameter(&format!("model.{key}"), why));
            }
        }
        if !(1..=1000).contains(&self.periods) {
            let why = format!("must be between 1 and 1000, found {}", self.periods);
            return Err(Error::parameter("model.periods", why));
        }
        if !(self.floor > -1.0 && self.floor < self.cap && self.cap.is_finite()) {
            let why = format!(
                "needs -1 < floor < cap, found {} and {}",
                self.floor, self.cap
            );
            return Err(Error::parameter("model.cap", why));
        }
        let dt = self.maturity / self.periods as f64;
        let (mu, sd) = (
            (self.rate - self.dividend) * dt,
            self.volatility * dt.sqrt(),
        );
        let scale = self.notional * (-self.rate * self.maturity).exp();
        // The undiscounted call on one period's growth e^X at strike k.
        let call = |k: f64| {
            let d1 = (mu - k.ln()) / sd + sd / 2.0;
            mu.exp() * normal_cdf(d1) - k * normal_cdf(d1 - sd)
        };
        let period = self.floor + call(1.0 + self.floor) - call(1.0 + self.cap);
        Ok(Scenario {
            kernel: CliquetKernel {
                periods: self.periods as usize,
                drift: mu - sd * sd / 2.0,
                vol: sd,
                floor: self.floor,
                cap: self.cap,
                scale,
            },
            quantities: vec![Quantity::new("price", 0).exact(scale * self.periods as f64 * period)],
        })
    }

    fn antithetic(&self) -> bool {
        self.antithetic
    }
}

fn main() -> ExitCode {
    let entry = Entry::new(
        "cliquet",
        "cliquet option under GBM: sum of clamped period returns (exact reference)",
        |p: &CliquetParams, c| path_model::build(p, c),
    )
    .quasi_monte_carlo()
    .sweeps(path_model::build_sweep::<CliquetParams>)
    .key("spot", "float > 0", "spot price today; required")
    .key(
        "rate",
        "float",
        "risk-free rate, continuously compounded; required",
    )
    .key("dividend", "float", "continuous dividend yield; required")
    .key("volatility", "float > 0", "per square-root year; required")
    .key("maturity", "float > 0", "years to the payment; required")
    .key(
        "periods",
        "integer 1..=1000",
        "reset dates, equally spaced; required",
    )
    .key(
        "floor",
        "float > -1",
        "each period's return is at least this; required",
    )
    .key("cap", "float > floor", "and at most this; required")
    .key("notional", "float > 0", "the payoff's scale; required")
    .key(
        "antithetic",
        "bool, default false",
        "a sample averages a path and its mirror",
    );
    carlo::app::main(Registry::builtin().with(entry))
}
