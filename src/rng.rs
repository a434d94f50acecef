//! Random streams: the one documented map from `(seed, chunk)` to a generator.
//!
//! Chunk `i` of a run draws every number it uses from stream `i` and from nothing
//! else. Stream `i` is `Xoshiro256PlusPlus::seed_from_u64(seed)` advanced by `i`
//! calls of [`jump`](Xoshiro256PlusPlus::jump), 2^128 steps each, so no two chunks
//! can overlap unless one draws more than 2^128 numbers. A second family of streams,
//! for auxiliary passes such as the calibration paths of Longstaff-Schwartz, starts
//! from the same seed after one [`long_jump`](Xoshiro256PlusPlus::long_jump) (2^192
//! steps), far beyond any chunk stream.
//!
//! This derivation is part of carlo's output contract: its name, [`DERIVATION`], is
//! written into every summary, and a test pins the first outputs of a few streams so
//! that it can never change silently. A new derivation must get a new name.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// The generator every model draws from.
pub type Stream = Xoshiro256PlusPlus;

/// Name and version of the stream derivation, written into every output.
pub const DERIVATION: &str = "xoshiro256++/jump-v1";

/// The families of streams derived from one seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Stream `i` feeds chunk `i` of the main run.
    Chunk,
    /// Streams for auxiliary passes (calibration), disjoint from every chunk stream.
    Auxiliary,
}

/// The base generator of a family: the state of its stream 0.
fn base(seed: u64, family: Family) -> Stream {
    let mut rng = Stream::seed_from_u64(seed);
    if family == Family::Auxiliary {
        rng.long_jump();
    }
    rng
}

/// Stream `index` of `family` for `seed`.
///
/// This costs `index` jumps (about a microsecond each); code that visits many
/// chunks in ascending order should use a [`Cursor`] instead.
pub fn stream(seed: u64, family: Family, index: u64) -> Stream {
    let mut cursor = Cursor::new(seed, family);
    cursor.stream(index)
}

/// Walks the streams of one family in ascending order, jumping forward from the last
/// stream it produced instead of from stream 0.
///
/// A worker that takes chunks from a shared ascending queue pays about one jump per
/// worker per chunk; asking for an earlier stream restarts from the seed.
#[derive(Debug, Clone)]
pub struct Cursor {
    seed: u64,
    family: Family,
    index: u64,
    rng: Stream,
}

impl Cursor {
    /// A cursor at stream 0 of `family`.
    pub fn new(seed: u64, family: Family) -> Self {
        Cursor {
            seed,
            family,
            index: 0,
            rng: base(seed, family),
        }
    }

    /// A fresh generator positioned at the start of stream `index`.
    pub fn stream(&mut self, index: u64) -> Stream {
        if index < self.index {
            *self = Cursor::new(self.seed, self.family);
        }
        while self.index < index {
            self.rng.jump();
            self.index += 1;
        }
        self.rng.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    fn first(mut rng: Stream) -> [u64; 3] {
        [rng.next_u64(), rng.next_u64(), rng.next_u64()]
    }

    /// Reference vectors: if this test fails, the derivation changed and every
    /// published result would silently change with it. Give it a new name instead.
    #[test]
    fn pinned_first_outputs_for_seed_42() {
        assert_eq!(DERIVATION, "xoshiro256++/jump-v1");
        assert_eq!(first(stream(42, Family::Chunk, 0)), PINNED_0);
        assert_eq!(first(stream(42, Family::Chunk, 1)), PINNED_1);
        assert_eq!(first(stream(42, Family::Chunk, 1000)), PINNED_1000);
        assert_eq!(first(stream(42, Family::Auxiliary, 0)), PINNED_AUX_0);
    }

    // Computed independently of this crate, in Python, from the published
    // SplitMix64 seeding, xoshiro256++ step and jump / long-jump polynomials.
    const PINNED_0: [u64; 3] = [
        15021278609987233951,
        5881210131331364753,
        18149643915985481100,
    ];
    const PINNED_1: [u64; 3] = [
        13886555598616206053,
        6751983904886340403,
        635420893945114766,
    ];
    const PINNED_1000: [u64; 3] = [
        6590216843913690277,
        4856187512861862975,
        8054147349683985127,
    ];
    const PINNED_AUX_0: [u64; 3] = [144566570880908039, 2719862540853148003, 2379150343223650805];

    #[test]
    fn cursor_matches_direct_derivation_in_any_order() {
        let mut cursor = Cursor::new(7, Family::Chunk);
        for index in [0, 3, 4, 10, 2, 2, 11] {
            assert_eq!(
                first(cursor.stream(index)),
                first(stream(7, Family::Chunk, index))
            );
        }
    }

    #[test]
    fn families_and_seeds_differ() {
        let a = first(stream(42, Family::Chunk, 0));
        assert_ne!(a, first(stream(42, Family::Auxiliary, 0)));
        assert_ne!(a, first(stream(43, Family::Chunk, 0)));
        assert_ne!(a, first(stream(42, Family::Chunk, 1)));
    }
}
