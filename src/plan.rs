//! The chunk plan: how a run's samples are cut into chunks.
//!
//! A chunk is the unit of work, of scheduling and of random streams: chunk `i`
//! holds samples `i * chunk_size ..` and draws from stream `i` (see [`crate::random::stream`]).
//! Every chunk is full except possibly the last.

use std::ops::Range;

/// Samples cut into chunks of `chunk_size` (the last may be shorter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    samples: u64,
    chunk_size: u64,
}

/// One chunk of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    /// Position of the chunk in the plan; also the index of its random stream.
    pub index: u64,
    /// Number of samples it draws.
    pub samples: u64,
}

impl Plan {
    /// A plan of `samples` samples in chunks of `chunk_size`.
    ///
    /// Both must be positive; the config layer guarantees it, and this panics
    /// otherwise because a zero would be a bug in carlo, not in the input.
    pub fn new(samples: u64, chunk_size: u64) -> Self {
        assert!(samples > 0 && chunk_size > 0, "empty plan");
        Plan {
            samples,
            chunk_size,
        }
    }

    /// Total samples.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// Samples per full chunk.
    pub fn chunk_size(&self) -> u64 {
        self.chunk_size
    }

    /// Number of chunks.
    pub fn chunks(&self) -> u64 {
        self.samples.div_ceil(self.chunk_size)
    }

    /// Chunk `index`; `index` must be below [`chunks`](Self::chunks).
    pub fn chunk(&self, index: u64) -> Chunk {
        debug_assert!(index < self.chunks());
        let start = index * self.chunk_size;
        Chunk {
            index,
            samples: self.chunk_size.min(self.samples - start),
        }
    }

    /// Samples held by chunks `0..end`.
    pub fn samples_before(&self, end: u64) -> u64 {
        (end.saturating_mul(self.chunk_size)).min(self.samples)
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
    fn last_chunk_is_short() {
        let plan = Plan::new(10, 4);
        assert_eq!(plan.chunks(), 3);
        let sizes: Vec<u64> = (0..3).map(|i| plan.chunk(i).samples).collect();
        assert_eq!(sizes, [4, 4, 2]);
        assert_eq!(plan.samples_before(2), 8);
        assert_eq!(plan.samples_before(3), 10);
    }

    #[test]
    fn shares_cover_every_chunk_once() {
        let plan = Plan::new(1000, 7); // 143 chunks
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
