//! What a model is given to simulate: blocks, each with its lanes' random streams.
//!
//! A run's samples are cut into blocks ([`crate::random::lanes`]): block `b` holds
//! samples `b * BLOCK ..`, and sample `k` of a block draws from lane `k % LANES`. A
//! model turns one [`Block`] into its [`BlockStats`]; the engine merges blocks exactly,
//! in any order, so how blocks are grouped into chunks (and chunks into workers) never
//! changes a bit.

use std::ops::Range;

use crate::random::Stream;
use crate::random::lanes::{BLOCK, LANES, LaneCursor, LaneStates};
use crate::stats::BlockStats;

/// One block of a run: its index, its samples and its lanes.
///
/// Scalar models draw sample `k`'s numbers from [`lane`](Self::lane)`(k)`, in the
/// block's sample order; vector models advance all lanes at once through
/// [`lanes`](Self::lanes). Either way, lane `l` gives exactly the words of its stream,
/// in order.
#[derive(Debug, Clone)]
pub struct Block {
    index: u64,
    samples: usize,
    lanes: LaneStates,
    /// The lanes as generators, once a scalar model asked for one.
    streams: Option<Box<[Stream; LANES]>>,
}

impl Block {
    /// Block `index` with `samples` samples (at most [`BLOCK`]) and lanes at `lanes`.
    pub fn new(index: u64, samples: usize, lanes: LaneStates) -> Self {
        assert!(
            (1..=BLOCK).contains(&samples),
            "a block of {samples} samples"
        );
        Block {
            index,
            samples,
            lanes,
            streams: None,
        }
    }

    /// The block's index in the run (`samples() < BLOCK` only for the last block).
    pub fn index(&self) -> u64 {
        self.index
    }

    /// The block's samples.
    pub fn samples(&self) -> usize {
        self.samples
    }

    /// The run's first sample in this block: `index * BLOCK`.
    pub fn first_sample(&self) -> u64 {
        self.index * BLOCK as u64
    }

    /// The generator of sample `k`'s lane, `k % LANES`: sample `k` draws its numbers
    /// from it, after the samples `k - LANES, k - 2 LANES, ...` of the same lane.
    pub fn lane(&mut self, k: usize) -> &mut Stream {
        let lanes = &self.lanes;
        let streams = self
            .streams
            .get_or_insert_with(|| Box::new(std::array::from_fn(|l| lanes.stream(l))));
        &mut streams[k % LANES]
    }

    /// Every lane's state, for models that advance the lanes together.
    pub fn lanes(&mut self) -> &mut LaneStates {
        if let Some(streams) = self.streams.take() {
            self.lanes = LaneStates::from_streams(&streams);
        }
        &mut self.lanes
    }
}

/// The blocks of one chunk, in order, for models that keep something across blocks
/// (buffers, a Python call for the whole chunk); see
/// [`Model::simulate_chunk`](super::Model::simulate_chunk).
pub struct Chunk<'a> {
    blocks: Range<u64>,
    /// Samples of the run, to size its last block.
    samples: u64,
    cursor: &'a mut LaneCursor,
    sink: &'a mut dyn FnMut(u64, BlockStats) -> Result<(), String>,
}

impl std::fmt::Debug for Chunk<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chunk")
            .field("blocks", &self.blocks)
            .finish_non_exhaustive()
    }
}

impl<'a> Chunk<'a> {
    /// The blocks `blocks` of a run of `samples` samples, whose lanes `cursor` gives;
    /// `sink` takes each block's statistics.
    pub fn new(
        blocks: Range<u64>,
        samples: u64,
        cursor: &'a mut LaneCursor,
        sink: &'a mut dyn FnMut(u64, BlockStats) -> Result<(), String>,
    ) -> Self {
        Chunk {
            blocks,
            samples,
            cursor,
            sink,
        }
    }

    /// The chunk's blocks.
    pub fn blocks(&self) -> Range<u64> {
        self.blocks.clone()
    }

    /// Samples of the run's block `b`.
    pub fn block_samples(&self, b: u64) -> usize {
        let start = b * BLOCK as u64;
        (self.samples - start).min(BLOCK as u64) as usize
    }

    /// Samples of the chunk.
    pub fn samples(&self) -> u64 {
        self.blocks
            .clone()
            .map(|b| self.block_samples(b) as u64)
            .sum()
    }

    /// Block `b` of the chunk, its lanes at the start of their streams.
    pub fn block(&mut self, b: u64) -> Block {
        debug_assert!(self.blocks.contains(&b));
        Block::new(b, self.block_samples(b), self.cursor.lanes(b))
    }

    /// Hands in block `b`'s statistics; every block of the chunk, in order.
    pub fn record(&mut self, b: u64, stats: BlockStats) -> Result<(), String> {
        (self.sink)(b, stats)
    }
}
