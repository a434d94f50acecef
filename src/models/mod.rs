//! The models carlo ships: pi, and the options room ([`options`]).
//!
//! Each is an [`Entry`](crate::model::Entry) of the registry like a user's own model;
//! [`Registry::builtin`](crate::model::Registry::builtin) lists them in the order
//! `carlo models` shows. What a model must implement is in [`crate::model`]; where its
//! random numbers come from is in [`crate::random`].

pub mod options;
pub mod pi;
pub mod reference;

use crate::model::{Registry, python};

pub use options::{
    American, AmericanParams, Asian, AsianParams, Average, Barrier, BarrierKind, BarrierParams,
    European, EuropeanParams, Greek, Market, OptionParams, OptionType,
};
pub use pi::{Pi, PiParams};

impl Registry {
    /// The models that come with carlo: pi, european, asian, barrier, american, and
    /// python (a proxy whose chunks run in Python worker processes).
    pub fn builtin() -> Self {
        let mut registry = Registry::new();
        registry
            .register(pi::entry())
            .register(options::european::entry())
            .register(options::asian::entry())
            .register(options::barrier::entry())
            .register(options::american::entry())
            .register(options::heston::entry())
            .register(options::basket::entry())
            .register(options::merton::entry())
            .register(options::lookback::entry())
            .register(python::entry());
        registry
    }
}
