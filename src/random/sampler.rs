//! Samplers: where a run's random numbers come from.
//!
//! `mc` (the default) draws every chunk from its own pseudo-random stream
//! ([`crate::random::stream`](mod@crate::random::stream)). `sobol` is randomized quasi-Monte Carlo: `replicates`
//! independent scrambles of the Sobol sequence ([`crate::random::qmc`]), each read in ranges of
//! point indices, so that the run's estimate is the mean of the replicate means and its
//! interval is Student's t on them.
//!
//! # How a sobol run is cut into chunks
//! Chunk `c` holds points `b * chunk_size .. (b + 1) * chunk_size` of replicate
//! `c % R`, with `b = c / R`: chunks go round the replicates, so that after every `R`
//! chunks (a *round*) each replicate holds the same prefix of its point sequence. The
//! points a chunk reads depend on its index alone, so every backend, worker count,
//! shard split and resume gives the same bits. `samples` counts every point of every
//! replicate (equal samples mean equal cost against `mc`); it must be a multiple of `R`,
//! and each replicate's points a multiple of the chunk size. A target error is checked
//! only after whole rounds (`check_every` is a multiple of `R`).

use serde::{Deserialize, Serialize};

/// Default number of independent randomizations of a `sobol` run.
pub const DEFAULT_REPLICATES: u64 = 16;

/// Fewest replicates a run with a control variate may have: the coefficient is
/// fitted on the replicate means, and with fewer its error makes the interval too
/// short (4 replicates of an Asian option with its control covered 0.90 at 95%, and
/// 8 of a European option with its control 0.90, over 1000 seeds).
pub const MIN_CONTROL_REPLICATES: u64 = 16;

/// Points per replicate from which the coverage study found the skew-corrected
/// interval of one-sided payoffs honest (a European call at 16 x 4096 points: 0.948
/// at 95%; at 16 x 256, 0.932; at 16 x 64, 0.92). Since 0.3.0 a replicate is whole
/// blocks of 4096 points, so no run has fewer.
pub const SOBOL_INTERVAL_POINTS: u64 = 4096;

/// Most replicates a run may have: each chunk's statistics hold one block of columns
/// per replicate (see [`crate::stats::Replicated`]).
pub const MAX_REPLICATES: u64 = 32;

/// Where a run's random numbers come from (`[simulation] sampler`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sampler {
    /// Pseudo-random streams: eight lanes per block (`xoshiro256++/lanes-v1`).
    #[default]
    Mc,
    /// Scrambled Sobol points, `replicates` independent randomizations.
    Sobol {
        /// Independent randomizations (at least 2).
        replicates: u64,
    },
}

impl Sampler {
    /// True for the default sampler, which a job leaves out of its fingerprint.
    pub fn is_mc(&self) -> bool {
        *self == Sampler::Mc
    }

    /// The name in the `sampler` key and column.
    pub fn name(&self) -> &'static str {
        match self {
            Sampler::Mc => "mc",
            Sampler::Sobol { .. } => "sobol",
        }
    }

    /// Replicates of a sobol run, `None` for mc.
    pub fn replicates(&self) -> Option<u64> {
        match *self {
            Sampler::Mc => None,
            Sampler::Sobol { replicates } => Some(replicates),
        }
    }
}
