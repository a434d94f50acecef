//! The options room: European, Asian, barrier and American options under geometric
//! Brownian motion, Heston, baskets, Merton's jumps and lookbacks, with what they
//! share.
//!
//! - [`market`]: the contract and market keys every option model reads, and their
//!   validation; the payoff shapes (option side, barrier kinds, averages);
//! - `path`: the vector loop every model's sample loop is made of (exact GBM
//!   steps on the lanes, the columns of a sample's row);
//! - [`path_estimator`]: the path-by-path estimator (Greeks of the path models,
//!   randomized quasi-Monte Carlo, sweeps);
//! - [`path_model`]: the path machinery of the models beyond Black-Scholes (Heston,
//!   baskets, jumps, lookbacks);
//! - one module per model: [`european`], [`asian`], [`barrier`], [`american`],
//!   [`heston`], [`basket`], [`merton`], [`lookback`];
//! - the references: [`closed_form`] (Black-Scholes, geometric Asian, continuous
//!   barrier), the Greeks' closed forms ([`greeks`]), and where there is no closed
//!   form, [`barrier_reference`] and [`bermudan_reference`] (recursive quadrature over
//!   the dates, on the Gauss-Legendre panels of `quadrature`) and
//!   [`american_reference`] (finite differences).
//!
//! Nothing here imports a model from a reference or the estimator: references and the
//! estimator read the payoff shapes of [`market`], and the models call them.

pub mod american;
pub mod american_reference;
pub mod asian;
pub mod barrier;
mod barrier_greeks;
pub mod barrier_reference;
pub mod basket;
pub mod bermudan_reference;
pub mod closed_form;
pub mod european;
pub mod greeks;
pub mod heston;
pub mod lookback;
pub mod market;
pub mod merton;
pub(crate) mod path;
pub mod path_estimator;
pub mod path_model;
mod quadrature;
#[cfg(test)]
mod testdata;

pub use american::{American, AmericanParams};
pub use asian::{Asian, AsianParams};
pub use barrier::{Barrier, BarrierParams};
pub use basket::BasketParams;
pub use european::{European, EuropeanParams};
pub use greeks::Greek;
pub use heston::HestonParams;
pub use lookback::LookbackParams;
pub use market::{Average, BarrierKind, Market, OptionParams, OptionType};
pub use merton::MertonParams;
pub use path_estimator::Paths;
pub use path_model::{PathKernel, PathModel, PathNormals};
