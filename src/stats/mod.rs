//! Statistics: per-chunk sufficient statistics, their in-order merge, and the
//! estimates (with standard errors and confidence intervals) drawn from them.
//!
//! Determinism lives here as much as in the streams: floating-point addition is not
//! associative, so chunk statistics are only ever combined by [`InOrder`], one
//! sequential fold in ascending chunk order, never in the order workers finish.
//! [`ExactSums`] (0.3.0's block statistics) lifts that: their merge is exact integer
//! addition, the same in any order, and rounded once when read.

mod block;
mod chunk;
pub(crate) mod codec;
mod estimate;
pub mod exact;
pub mod interval;
mod merge;
mod moments;
pub mod replicates;

pub(crate) use block::BlockAccumulator;
pub use block::{Accumulator, BlockStats, RowAccumulator};
pub use chunk::ChunkStats;
pub use estimate::{Control, Estimate, MAX_CONFIDENCE, MIN_CONFIDENCE, estimate};
pub use exact::ExactSums;
pub use merge::InOrder;
pub use moments::Moments;
pub use replicates::Replicated;
