//! Statistics: per-block sufficient statistics, their exact merge, and the
//! estimates (with standard errors and confidence intervals) drawn from them.
//!
//! Determinism lives here as much as in the streams. A block's statistics are
//! doubles computed in one fixed order ([`BlockStats`]); blocks then merge into
//! [`ExactSums`], whose merge is exact integer addition, the same in any grouping
//! and order, rounded once when read into [`Moments`].

mod block;
mod chunk;
pub(crate) mod codec;
mod estimate;
pub mod exact;
pub mod interval;
mod moments;
pub mod replicates;

pub(crate) use block::BlockAccumulator;
pub use block::{Accumulator, BlockStats, RowAccumulator};
pub use chunk::ChunkStats;
pub use estimate::{Control, Estimate, MAX_CONFIDENCE, MIN_CONFIDENCE, estimate};
pub use exact::ExactSums;
pub use moments::Moments;
pub use replicates::Replicated;
