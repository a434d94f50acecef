//! The European basket option on correlated geometric Brownian motions: one exact
//! step to expiry per path, the assets' normals correlated by the Cholesky factor of
//! the correlation matrix.
//!
//! Asset `i`'s log-spot at expiry is `ln S_i + (r - q_i - sigma_i^2 / 2) T + sigma_i
//! sqrt(T) sum_{k <= i} L_ik z_k`, with `L L^T` the correlation matrix and `z` the
//! path's `n` independent normals (one date of `n` factors for `sampler = "sobol"`).
//! Weights are normalised to sum to one ([`crate::models::reference::basket`]).
//!
//! - `average = "geometric"`: pays on `G = prod S_i(T)^{a_i}`, lognormal; the reference
//!   is exact, the control variate the discounted `G` (mean known exactly).
//! - `average = "arithmetic"`: pays on `A = sum a_i S_i(T)`; the control variate is
//!   the geometric basket's option on the same path, whose exact price is its mean, and
//!   the `approx_reference` is Choi's method (QuantLib's `ChoiBasketEngine`), within
//!   about 1e-7 of the spot in typical cases.

use serde::{Deserialize, Serialize};

use super::market::{Average, OptionType};
use super::path_model::{KernelParams, PathKernel, PathNormals, Scenario};
use crate::Error;
use crate::math::{self, Lanes, exp_lanes};
use crate::model::{Entry, Quantity};
use crate::models::reference::basket::{self, BasketParams as Reference, Correlation};
use crate::stats::Control;

/// The `[model]` keys of `type = "basket"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasketParams {
    /// `call` or `put`.
    pub option: OptionType,
    /// Spot prices today, one per asset.
    pub spots: Vec<f64>,
    /// Weights of the assets (normalised to sum to one).
    pub weights: Vec<f64>,
    /// Volatilities, one per asset.
    pub volatilities: Vec<f64>,
    /// Continuous dividend yields, one per asset (default: none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dividends: Vec<f64>,
    /// One correlation for every pair, or the full matrix.
    pub correlation: Correlation,
    /// Strike on the basket.
    pub strike: f64,
    /// Risk-free rate, continuously compounded.
    pub rate: f64,
    /// Years to expiry.
    pub maturity: f64,
    /// The basket's average (default arithmetic).
    #[serde(default = "arithmetic")]
    pub average: Average,
    /// Each sample averages a path and its mirror image (default false).
    #[serde(default)]
    pub antithetic: bool,
    /// Correct the estimate with the model's control variate (default false).
    #[serde(default)]
    pub control_variate: bool,
}

fn arithmetic() -> Average {
    Average::Arithmetic
}

/// Most assets a basket may hold.
pub const MAX_ASSETS: usize = 100;

/// The registry entry of `type = "basket"`.
pub(crate) fn entry() -> Entry {
    Entry::new(
        "basket",
        "European call or put on a basket of correlated assets (reference: exact for \
         the geometric average; approx_reference: Choi's method for the arithmetic one)",
        |p: &BasketParams, c| super::path_model::build(p, c),
    )
    .quasi_monte_carlo()
    .sweeps(super::path_model::build_sweep::<BasketParams>)
    .key("option", "\"call\" | \"put\"", "required")
    .key(
        "spots",
        "list of floats > 0",
        "spot of each asset; required",
    )
    .key(
        "weights",
        "list of floats >= 0",
        "one per asset, normalised to sum to 1; required",
    )
    .key(
        "volatilities",
        "list of floats >= 0",
        "one per asset; required",
    )
    .key(
        "dividends",
        "list of floats, default all 0",
        "continuous dividend yield of each asset",
    )
    .key(
        "correlation",
        "float in [-1, 1], or a matrix",
        "every pair's correlation, or the full symmetric matrix (positive definite); \
         required",
    )
    .key("strike", "float > 0", "strike on the basket; required")
    .key(
        "rate",
        "float",
        "risk-free rate, continuously compounded; required",
    )
    .key("maturity", "float > 0", "years to expiry; required")
    .key(
        "average",
        "\"arithmetic\" | \"geometric\", default arithmetic",
        "the control variate is the geometric basket's option (arithmetic) or the \
         discounted geometric basket (geometric)",
    )
    .key(
        "antithetic",
        "bool, default false",
        "a sample averages a path and its mirror",
    )
    .key(
        "control_variate",
        "bool, default false",
        "correct with the model's control variate",
    )
}

impl BasketParams {
    /// The reference's view of the keys (missing dividends are zeros).
    fn reference(&self) -> Reference {
        Reference {
            option: self.option,
            spots: self.spots.clone(),
            weights: self.weights.clone(),
            volatilities: self.volatilities.clone(),
            dividends: if self.dividends.is_empty() {
                vec![0.0; self.spots.len()]
            } else {
                self.dividends.clone()
            },
            correlation: self.correlation.clone(),
            rate: self.rate,
            maturity: self.maturity,
            strike: self.strike,
        }
    }
}

/// One path of the basket: the assets' terminal log-spots from the path's normals.
#[derive(Debug, Clone)]
pub struct BasketKernel {
    /// `ln S_i + (r - q_i - sigma_i^2 / 2) T`.
    mean: Vec<f64>,
    /// Row `i` of the Cholesky factor scaled by `sigma_i sqrt(T)`, entries `k <= i`,
    /// rows one after the other.
    factor: Vec<f64>,
    /// Normalised weights.
    weights: Vec<f64>,
    average: Average,
    strike: f64,
    phi: f64,
    discount: f64,
    control: bool,
}

impl PathKernel for BasketKernel {
    fn normals(&self) -> usize {
        self.weights.len()
    }

    fn factors(&self) -> usize {
        self.weights.len()
    }

    fn values(&self) -> usize {
        1 + usize::from(self.control)
    }

    /// Hand-written hot loop: per asset its correlated normal (a row of the Cholesky
    /// factor), its weighted log-spot and, for the arithmetic average, one `exp`; one
    /// `exp` for the geometric average.
    #[inline(always)]
    unsafe fn walk<V: Lanes>(&self, z: PathNormals<'_>, out: &mut [V]) {
        // SAFETY: the caller guarantees the instruction set of `V`.
        unsafe {
            let zero = V::splat(0.0);
            let arithmetic = self.average == Average::Arithmetic;
            let (mut sum, mut log_sum) = (zero, zero);
            let mut row = 0;
            for (i, (&mean, &a)) in self.mean.iter().zip(&self.weights).enumerate() {
                let mut w = zero;
                for k in 0..=i {
                    w = w.add(V::splat(self.factor[row + k]).mul(z.get::<V>(k)));
                }
                row += i + 1;
                let x = V::splat(mean).add(w);
                let a = V::splat(a);
                log_sum = log_sum.add(a.mul(x));
                if arithmetic {
                    sum = sum.add(a.mul(exp_lanes(x)));
                }
            }
            let (strike, phi, discount) = (
                V::splat(self.strike),
                V::splat(self.phi),
                V::splat(self.discount),
            );
            let geometric = exp_lanes(log_sum);
            let geometric_option = discount.mul(phi.mul(geometric.sub(strike)).max(zero));
            if arithmetic {
                out[0] = discount.mul(phi.mul(sum.sub(strike)).max(zero));
                if self.control {
                    out[1] = geometric_option;
                }
            } else {
                out[0] = geometric_option;
                if self.control {
                    out[1] = discount.mul(geometric);
                }
            }
        }
    }
}

impl KernelParams for BasketParams {
    type Kernel = BasketKernel;
    const NORMALS_KEY: &'static str = "model.spots";

    fn scenario(&self) -> Result<Scenario<BasketKernel>, Error> {
        let n = self.spots.len();
        if n == 0 {
            return Err(Error::parameter(
                "model.spots",
                "is empty: give the spot of each asset".to_string(),
            ));
        }
        if n > MAX_ASSETS {
            return Err(Error::parameter(
                "model.spots",
                format!("at most {MAX_ASSETS} assets, found {n}"),
            ));
        }
        if !self.dividends.is_empty() && self.dividends.len() != n {
            return Err(Error::parameter(
                "model.dividends",
                format!(
                    "has {} entries but spots has {n}: give one per asset (or none for all 0)",
                    self.dividends.len()
                ),
            ));
        }
        let reference = self.reference();
        let cholesky = reference.validate()?;
        let t = self.maturity;
        let total: f64 = self.weights.iter().sum();
        let weights: Vec<f64> = self.weights.iter().map(|w| w / total).collect();
        let root_t = t.sqrt();
        let mut mean = Vec::with_capacity(n);
        let mut factor = Vec::with_capacity(n * (n + 1) / 2);
        for i in 0..n {
            let sigma = reference.volatilities[i];
            let q = reference.dividends[i];
            // carlo's own ln: the path's bits depend on it
            mean.push(math::ln(self.spots[i]) + (self.rate - q - 0.5 * sigma * sigma) * t);
            factor.extend(cholesky[i][..=i].iter().map(|l| l * sigma * root_t));
        }
        let discount = math::exp(-self.rate * t);
        let geometric = basket::geometric(&reference)?;
        let mut price = Quantity::new("price", 0);
        match self.average {
            Average::Geometric => {
                price = price.exact(geometric);
                if self.control_variate {
                    price.control = Some(Control {
                        column: 1,
                        mean: discount * basket::geometric_mean(&reference)?,
                    });
                }
            }
            Average::Arithmetic => {
                price.approx_reference = Some(basket::arithmetic_approx(&reference)?);
                if self.control_variate {
                    price.control = Some(Control {
                        column: 1,
                        mean: geometric,
                    });
                }
            }
        }
        Ok(Scenario {
            kernel: BasketKernel {
                mean,
                factor,
                weights,
                average: self.average,
                strike: self.strike,
                phi: self.option.sign(),
                discount,
                control: self.control_variate,
            },
            quantities: vec![price],
        })
    }

    fn antithetic(&self) -> bool {
        self.antithetic
    }
}
