//! carlo: a Monte Carlo engine whose answer does not depend on where it ran.
//!
//! A run is a [`config::Job`] (model, samples, seed, chunk size, confidence). Its
//! samples are cut into chunks; chunk `i` draws from random stream `i` alone
//! ([`rng`]), and chunk statistics are merged in chunk order ([`stats::InOrder`]), so
//! the same job gives the same bits on every backend and worker count.
//!
//! # Quick start
//!
//! ```
//! use std::path::Path;
//! use carlo::config::{Experiment, Overrides};
//!
//! let config = r#"
//!     [simulation]
//!     samples = 1_000_000
//!     seed = 42
//!     [model]
//!     type = "pi"
//! "#;
//! let experiment = Experiment::parse(config, Path::new("pi.toml"), &Overrides::default())?;
//! let report = carlo::engine::run(&experiment, &mut carlo::engine::Quiet)?;
//! let (quantity, pi) = &report.estimates[0];
//! assert_eq!(quantity.name, "pi");
//! assert!((pi.estimate - std::f64::consts::PI).abs() < 4.0 * pi.std_error);
//! # Ok::<(), carlo::Error>(())
//! ```
//!
//! Data flows one way: [`config`] -> [`plan`] -> [`exec`] runs [`model`] chunks on
//! [`rng`] streams -> [`stats`] -> [`engine`] -> [`output`].

#![deny(missing_docs)]

pub mod checkpoint;
pub mod config;
pub mod engine;
mod error;
pub mod exec;
pub mod math;
pub mod model;
pub mod output;
pub mod plan;
pub mod progress;
pub mod rng;
pub mod scale;
pub mod shard;
pub mod stats;
pub mod trace;

pub use error::Error;
