//! Models: what is simulated, one chunk at a time.
//!
//! A [`Model`] turns a random stream and a sample count into chunk statistics. It is
//! immutable, holds no threads and does no I/O; the engine decides where and when
//! chunks run. The `[model]` table of a config is parsed into a [`ModelSpec`] (plain
//! data that can be hashed and sent to worker processes), and [`build`] turns a spec
//! into a validated model.

mod american;
mod asian;
mod barrier;
pub mod closed_form;
mod european;
mod normal;
mod option;
mod path;
mod pi;
mod tree;
mod zig_tables;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::rng::Stream;
use crate::stats::{Control, Moments};

pub use american::{American, AmericanParams};
pub use asian::{Asian, AsianParams, Average};
pub use barrier::{Barrier, BarrierKind, BarrierParams};
pub use european::{European, EuropeanParams};
pub use normal::normal;
pub use option::{Market, OptionParams, OptionType};
pub use pi::{Pi, PiParams};

/// A Monte Carlo model.
///
/// # Contract
/// - [`simulate`](Model::simulate) must be a pure function of the generator state and
///   the sample count: the same stream and count give the same bits, on any thread,
///   in any process. It may draw any amount of randomness from the stream it is given,
///   but from nothing else (no global generator, no clock).
/// - Each sample contributes one row of [`dim`](Model::dim) columns to the returned
///   statistics, which must count exactly `samples` rows. A model may compute the
///   statistics however it likes (pi counts hits), as long as the result equals what
///   pushing the rows into a [`crate::stats::Accumulator`] would give, up to rounding.
/// - [`quantities`](Model::quantities) is fixed for the model's lifetime and every
///   column it names is below `dim`.
pub trait Model: Send + Sync + fmt::Debug {
    /// Columns of each sample's row.
    fn dim(&self) -> usize;

    /// The quantities the model estimates, in output order.
    fn quantities(&self) -> &[Quantity];

    /// Draws `samples` samples from `rng` and returns their statistics.
    fn simulate(&self, rng: &mut Stream, samples: u64) -> Moments;
}

/// A quantity a model estimates: one row of the summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    /// Name in the `quantity` column (`pi`, `price`, `delta`, ...).
    pub name: &'static str,
    /// Column of the statistics that holds its samples.
    pub column: usize,
    /// A control variate to correct it with, if any.
    pub control: Option<Control>,
    /// The value to compare the estimate with (the `reference` column), where carlo
    /// can compute one, and how it was computed.
    pub reference: Option<(f64, ReferenceKind)>,
    /// An approximation that is not a reference (the `approx_reference` column), for
    /// example a continuous-monitoring closed form for a discretely monitored barrier.
    pub approx_reference: Option<f64>,
    /// A column holding the plain estimator's samples, when the quantity's own
    /// column holds variance-reduced ones (the first path of each antithetic pair):
    /// the `variance_reduction` column compares with its variance.
    pub plain: Option<usize>,
}

impl Quantity {
    /// A quantity read from `column`, with no control and no reference.
    pub fn new(name: &'static str, column: usize) -> Self {
        Quantity {
            name,
            column,
            control: None,
            reference: None,
            approx_reference: None,
            plain: None,
        }
    }

    /// The same quantity with an exact reference value.
    pub fn exact(self, value: f64) -> Self {
        Quantity {
            reference: Some((value, ReferenceKind::Exact)),
            ..self
        }
    }
}

/// How a [`Quantity`]'s reference was computed (the `reference_kind` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceKind {
    /// A closed form, exact up to rounding.
    Exact,
    /// A lattice (binomial tree) accurate to the digits it was built for.
    Tree,
}

impl ReferenceKind {
    /// The name written in the `reference_kind` column.
    pub fn name(self) -> &'static str {
        match self {
            ReferenceKind::Exact => "exact",
            ReferenceKind::Tree => "tree",
        }
    }
}

/// The `[model]` table of a config: which model, with which parameters.
///
/// Plain data: it is what a run's fingerprint hashes and what worker processes
/// receive, so it must hold every parameter that can change a result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ModelSpec {
    /// Estimate pi from points in the unit square.
    Pi(PiParams),
    /// A European call or put.
    European(EuropeanParams),
    /// An Asian call or put on an arithmetic or geometric average.
    Asian(AsianParams),
    /// A discretely monitored barrier call or put.
    Barrier(BarrierParams),
    /// An American call or put (Longstaff-Schwartz).
    American(AmericanParams),
    /// A model defined outside carlo and run through the library API
    /// ([`crate::engine::run_on`]). It has no config form, so configs cannot name it
    /// and [`build`] refuses it: it can run on threads, not in worker processes.
    #[serde(skip_deserializing)]
    External {
        /// The name written in the `model` column.
        name: String,
    },
}

impl ModelSpec {
    /// The model's name, as written in `type` and in the `model` column.
    pub fn kind(&self) -> &str {
        match self {
            ModelSpec::Pi(_) => "pi",
            ModelSpec::European(_) => "european",
            ModelSpec::Asian(_) => "asian",
            ModelSpec::Barrier(_) => "barrier",
            ModelSpec::American(_) => "american",
            ModelSpec::External { name } => name,
        }
    }
}

/// Builds the model a spec describes, checking its parameters.
///
/// `seed` is the run's seed, for models with an auxiliary pass drawn from their own
/// stream family. Errors name the offending `model.` key.
pub fn build(spec: &ModelSpec, seed: u64) -> Result<Box<dyn Model>, Error> {
    Ok(match spec {
        ModelSpec::Pi(params) => Box::new(Pi::new(params)?),
        ModelSpec::European(params) => Box::new(European::new(params)?),
        ModelSpec::Asian(params) => Box::new(Asian::new(params)?),
        ModelSpec::Barrier(params) => Box::new(Barrier::new(params)?),
        ModelSpec::American(params) => Box::new(American::new(params, seed)?),
        ModelSpec::External { name } => {
            return Err(Error::parameter(
                "model.type",
                format!(
                    "model '{name}' is defined outside carlo and cannot be built from a config"
                ),
            ));
        }
    })
}

/// A parameter of a model, for `carlo models`.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    /// Name in the `[model]` table.
    pub name: &'static str,
    /// Value type and default, as a user would write it.
    pub value: &'static str,
    /// What it means.
    pub doc: &'static str,
}

/// A model's entry in the catalogue printed by `carlo models`.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// The `type` that selects it.
    pub kind: &'static str,
    /// One line on what it estimates.
    pub summary: &'static str,
    /// Its parameters.
    pub keys: &'static [Key],
}

/// Every model carlo knows, in the order `carlo models` lists them.
pub fn catalogue() -> Vec<Entry> {
    vec![
        pi::ENTRY,
        european::ENTRY,
        asian::ENTRY,
        barrier::ENTRY,
        american::ENTRY,
    ]
}

/// The catalogue keys of [`OptionParams`], followed by a model's own keys.
macro_rules! option_keys {
    ($($extra:expr),* $(,)?) => {
        &[
            $crate::model::Key { name: "option", value: "\"call\" | \"put\"", doc: "required" },
            $crate::model::Key { name: "spot", value: "float > 0", doc: "spot price today; required" },
            $crate::model::Key { name: "strike", value: "float > 0", doc: "strike; required" },
            $crate::model::Key { name: "rate", value: "float", doc: "risk-free rate, continuously compounded; required" },
            $crate::model::Key { name: "dividend", value: "float, default 0", doc: "continuous dividend yield" },
            $crate::model::Key { name: "volatility", value: "float > 0", doc: "per square-root year; required" },
            $crate::model::Key { name: "maturity", value: "float > 0", doc: "years to expiry; required" },
            $crate::model::Key { name: "antithetic", value: "bool, default false", doc: "a sample averages a path and its mirror" },
            $crate::model::Key { name: "control_variate", value: "bool, default false", doc: "correct with the model's control variate" },
            $($extra),*
        ]
    };
}
use option_keys;
