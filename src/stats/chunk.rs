//! What one chunk of a run reports: its blocks' statistics, merged exactly per
//! decision interval, and each block's digest.
//!
//! A run takes decisions (a trace point, a target check, the end) after fixed block
//! counts, on the statistics of exactly the blocks before them. A chunk may span a
//! decision point, so it reports one [`ExactSums`] per decision interval it touches
//! (named by the interval's end), and the engine adds each to its interval's: merging
//! is exact, so neither the chunk size nor the order chunks finish in changes a bit.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::ExactSums;

/// A chunk's statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkStats {
    /// The chunk's blocks.
    pub blocks: Range<u64>,
    /// `(end, sums)`: the exact statistics of the chunk's blocks in the decision
    /// interval that ends before block `end`, ascending by `end`.
    pub parts: Vec<(u64, ExactSums)>,
    /// Each block's digest ([`super::BlockStats::digest`]), in block order.
    pub digests: Vec<u64>,
}

impl ChunkStats {
    /// Nothing yet for the chunk of `blocks`.
    pub fn new(blocks: Range<u64>) -> Self {
        ChunkStats {
            blocks,
            parts: Vec::new(),
            digests: Vec::new(),
        }
    }

    /// Samples in every part.
    pub fn count(&self) -> u64 {
        self.parts.iter().map(|(_, s)| s.count()).sum()
    }

    /// All the chunk's statistics in one.
    pub fn total(&self, dim: usize) -> ExactSums {
        let mut all = ExactSums::new(dim);
        for (_, s) in &self.parts {
            all.merge(s);
        }
        all
    }

    /// Checks statistics received or read back: `dim` columns, a digest per block,
    /// parts ascending within the chunk, plausible sums where `plausible`.
    pub fn check(&self, dim: usize, plausible: bool) -> Result<(), String> {
        let blocks = self.blocks.end.saturating_sub(self.blocks.start);
        if self.blocks.start >= self.blocks.end {
            return Err(format!("a chunk of no block ({:?})", self.blocks));
        }
        if self.digests.len() as u64 != blocks {
            return Err(format!(
                "{} block digests for the {blocks} blocks {:?}",
                self.digests.len(),
                self.blocks
            ));
        }
        let mut last = self.blocks.start;
        for (end, sums) in &self.parts {
            if *end <= last {
                return Err(format!("its parts end at {end} after {last}"));
            }
            last = *end;
            sums.check(dim, plausible)?;
        }
        if last < self.blocks.end {
            return Err(format!(
                "its last part ends at block {last}, before the chunk's end {}",
                self.blocks.end
            ));
        }
        Ok(())
    }
}
