//! The plan of a run: its blocks, the decision points between them, and the chunks
//! the blocks are grouped into for scheduling.
//!
//! The block is the unit of randomness and of statistics ([`crate::random::lanes`]):
//! block `b` holds samples `b * BLOCK ..`, every block full but possibly the last. A
//! chunk is the unit of scheduling only: any whole number of blocks, chosen per run
//! (`chunk_size`), and never part of the result, because blocks merge exactly in any
//! grouping. Chunk `i` of a plan holds the blocks [`chunk`](Plan::chunk)`(i)`.
//!
//! A plan normally covers the whole run; one resumed from a checkpoint covers only the
//! blocks not done yet ([`Plan::resume`]), cut into chunks of the new run's size, so a
//! run resumes at any chunk size.

use std::ops::Range;

use crate::random::lanes::BLOCK;

/// Samples per block, as a `u64`.
const B: u64 = BLOCK as u64;

/// Blocks of a run cut into chunks of `chunk_blocks` blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    samples: u64,
    chunk_blocks: u64,
    /// The block ranges to run, ascending and disjoint, each cut into chunks from its
    /// start; `firsts[s]` is the index of segment `s`'s first chunk.
    segments: Vec<Range<u64>>,
    firsts: Vec<u64>,
}

impl Plan {
    /// Every block of a run of `samples` samples, in chunks of `chunk_blocks` blocks.
    ///
    /// Both must be positive; the config layer guarantees it, and this panics
    /// otherwise because a zero would be a bug in carlo, not in the input.
    pub fn new(samples: u64, chunk_blocks: u64) -> Self {
        assert!(samples > 0, "empty plan");
        Self::resume(
            samples,
            chunk_blocks,
            std::iter::once(0..samples.div_ceil(B)).collect(),
        )
    }

    /// The blocks `todo` (ascending, disjoint block ranges) of a run of `samples`
    /// samples, each range cut into chunks of `chunk_blocks` blocks from its start.
    pub fn resume(samples: u64, chunk_blocks: u64, todo: Vec<Range<u64>>) -> Self {
        assert!(chunk_blocks > 0, "chunks of no block");
        let segments: Vec<Range<u64>> = todo.into_iter().filter(|r| r.start < r.end).collect();
        let mut firsts = Vec::with_capacity(segments.len());
        let mut next = 0;
        for r in &segments {
            firsts.push(next);
            next += (r.end - r.start).div_ceil(chunk_blocks);
        }
        firsts.push(next);
        Plan {
            samples,
            chunk_blocks,
            segments,
            firsts,
        }
    }

    /// Samples of the whole run.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// Blocks of the whole run.
    pub fn blocks(&self) -> u64 {
        self.samples.div_ceil(B)
    }

    /// Samples of block `b`.
    pub fn block_samples(&self, b: u64) -> u64 {
        (self.samples - b * B).min(B)
    }

    /// Samples held by blocks `0..end`.
    pub fn samples_before(&self, end: u64) -> u64 {
        end.saturating_mul(B).min(self.samples)
    }

    /// Blocks per full chunk.
    pub fn chunk_blocks(&self) -> u64 {
        self.chunk_blocks
    }

    /// Number of chunks.
    pub fn chunks(&self) -> u64 {
        *self.firsts.last().expect("one more first than segments")
    }

    /// The blocks of chunk `index`; `index` must be below [`chunks`](Self::chunks).
    pub fn chunk(&self, index: u64) -> Range<u64> {
        debug_assert!(index < self.chunks());
        let s = self.firsts.partition_point(|&f| f <= index) - 1;
        let r = &self.segments[s];
        let start = r.start + (index - self.firsts[s]) * self.chunk_blocks;
        start..(start + self.chunk_blocks).min(r.end)
    }

    /// Samples of chunk `index`.
    pub fn chunk_samples(&self, index: u64) -> u64 {
        let r = self.chunk(index);
        self.samples_before(r.end) - self.samples_before(r.start)
    }

    /// The chunk range of share `shard` (0-based) out of `shards` equal, contiguous
    /// shares; earlier shares get the remainder, one chunk each.
    pub fn share(&self, shard: u64, shards: u64) -> Range<u64> {
        split(0..self.chunks(), shard, shards)
    }
}

/// Part `part` (0-based) of `range` cut into `parts` contiguous parts whose lengths
/// differ by at most one; earlier parts get the remainder, one each.
pub fn split(range: Range<u64>, part: u64, parts: u64) -> Range<u64> {
    let len = range.end - range.start;
    let (base, extra) = (len / parts, len % parts);
    let start = range.start + part * base + part.min(extra);
    start..start + base + u64::from(part < extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_block_and_chunk_are_short() {
        let plan = Plan::new(10 * B + 5, 4);
        assert_eq!(plan.blocks(), 11);
        assert_eq!(plan.block_samples(9), B);
        assert_eq!(plan.block_samples(10), 5);
        assert_eq!(plan.chunks(), 3);
        let chunks: Vec<Range<u64>> = (0..3).map(|i| plan.chunk(i)).collect();
        assert_eq!(chunks, [0..4, 4..8, 8..11]);
        assert_eq!(plan.chunk_samples(2), 2 * B + 5);
        assert_eq!(plan.samples_before(11), 10 * B + 5);
    }

    #[test]
    fn a_resumed_plan_cuts_what_is_left() {
        let plan = Plan::resume(100 * B, 3, vec![2..4, 10..17, 90..100]);
        let chunks: Vec<Range<u64>> = (0..plan.chunks()).map(|i| plan.chunk(i)).collect();
        assert_eq!(
            chunks,
            [
                2..4,
                10..13,
                13..16,
                16..17,
                90..93,
                93..96,
                96..99,
                99..100
            ]
        );
    }

    #[test]
    fn shares_cover_every_chunk_once() {
        let plan = Plan::new(1000 * B, 7); // 143 chunks
        for shards in 1..=9 {
            let mut next = 0;
            for shard in 0..shards {
                let range = plan.share(shard, shards);
                assert_eq!(range.start, next);
                next = range.end;
            }
            assert_eq!(next, plan.chunks());
        }
    }
}
