//! Blocks and lanes: the unit of randomness of `xoshiro256++/lanes-v1`.
//!
//! A run's samples are cut into blocks of [`BLOCK`] samples (the last may be shorter),
//! and each block's samples are spread over [`LANES`] lanes: sample `k` of a block
//! belongs to lane `k % LANES` and is that lane's `k / LANES`-th sample. Lane `l` of
//! block `b` draws every random number of its samples, in sample order, from stream
//! `LANES * b + l` of the run ([`super::stream`], the chunk family: the seed's
//! generator after `LANES * b + l` jumps of 2^128). So each lane is an independent
//! serial chain, and the eight chains run side by side in the vector units; what a
//! sample draws depends on its block and lane alone, never on the chunk it was run in,
//! the SIMD level, or the machine.
//!
//! Block and lane count are constants of the method named [`METHOD`], written in every
//! output; a change to either is a new method.
//!
//! # Getting to a block's lanes
//! [`LaneCursor::lanes`] gives the lanes of any block. The lanes of block `b + 1` are
//! those of block `b` each jumped `LANES` times: one jump polynomial, the same for
//! every lane, applied to the eight states at once (the generator's state transition is
//! linear over GF(2), and a jump is a polynomial in it). A far block costs one such
//! jump per set bit of the distance, as [`super::stream::Cursor`] does.

use super::stream::{Family, Stream, from_words, jump_power, words};

/// Lanes per block: a constant of [`METHOD`], not of the CPU.
pub const LANES: usize = 8;

/// Samples per block: a constant of [`METHOD`].
pub const BLOCK: usize = 4096;

/// Samples per lane in a full block.
pub const LANE_SAMPLES: usize = BLOCK / LANES;

/// Name and version of the stream method, written into every output.
pub const METHOD: &str = "xoshiro256++/lanes-v1";

/// The xoshiro256 states of the eight lanes, word-major: `s[w][l]` is word `w` of lane
/// `l`'s state, so that one state word of every lane sits in one vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaneStates {
    /// The state words.
    pub s: [[u64; LANES]; 4],
}

impl LaneStates {
    /// The lanes at the given streams' states.
    pub fn from_streams(streams: &[Stream; LANES]) -> Self {
        let mut s = [[0; LANES]; 4];
        for (l, rng) in streams.iter().enumerate() {
            for (w, word) in words(rng).into_iter().enumerate() {
                s[w][l] = word;
            }
        }
        LaneStates { s }
    }

    /// Lane `l` as a generator (at its current state).
    pub fn stream(&self, l: usize) -> Stream {
        from_words(&[self.s[0][l], self.s[1][l], self.s[2][l], self.s[3][l]])
    }

    /// Puts `rng`'s state into lane `l`.
    pub fn set_stream(&mut self, l: usize, rng: &Stream) {
        for (w, word) in words(rng).into_iter().enumerate() {
            self.s[w][l] = word;
        }
    }

    /// The next word of every lane, as `Stream::next_u64` of each (xoshiro256++).
    ///
    /// Hand-written hot loop (with [`step`]): eight independent chains, one vector
    /// operation each per state word where the CPU has the lanes.
    #[inline(always)]
    pub fn next_words(&mut self) -> [u64; LANES] {
        let [s0, _, _, s3] = &self.s;
        let out = std::array::from_fn(|l| {
            s0[l]
                .wrapping_add(s3[l])
                .rotate_left(23)
                .wrapping_add(s0[l])
        });
        step(&mut self.s);
        out
    }

    /// Applies the jump polynomial `q` to every lane: each state becomes `q(T)` of
    /// itself, as [`super::stream`]'s jumps do for one state.
    #[inline(always)]
    fn jump(&mut self, q: &[u64; 4]) {
        let mut s = self.s;
        let mut sum = [[0u64; LANES]; 4];
        for &word in q {
            for bit in 0..64 {
                // One mask for every lane: the polynomial is the same for all.
                let mask = 0u64.wrapping_sub((word >> bit) & 1);
                for w in 0..4 {
                    for l in 0..LANES {
                        sum[w][l] ^= s[w][l] & mask;
                    }
                }
                step(&mut s);
            }
        }
        self.s = sum;
    }
}

/// The xoshiro256 state transition of every lane.
// One index for the lanes of the four state words.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
pub(crate) fn step(s: &mut [[u64; LANES]; 4]) {
    for l in 0..LANES {
        let t = s[1][l] << 17;
        s[2][l] ^= s[0][l];
        s[3][l] ^= s[1][l];
        s[1][l] ^= s[2][l];
        s[0][l] ^= s[3][l];
        s[2][l] ^= t;
        s[3][l] = s[3][l].rotate_left(45);
    }
}

/// Walks the blocks of one seed's run, giving each block's lanes; cheapest in
/// ascending order (one jump per block for the next block).
#[derive(Debug, Clone)]
pub struct LaneCursor {
    /// Lanes of block 0, from which far blocks are reached.
    origin: LaneStates,
    /// The last block given and its lanes at their start.
    block: u64,
    lanes: LaneStates,
}

impl LaneCursor {
    /// A cursor over the blocks of `seed`'s run, at block 0.
    pub fn new(seed: u64) -> Self {
        let mut cursor = super::stream::Cursor::new(seed, Family::Chunk);
        let streams: [Stream; LANES] = std::array::from_fn(|l| cursor.stream(l as u64));
        let origin = LaneStates::from_streams(&streams);
        LaneCursor {
            origin,
            block: 0,
            lanes: origin,
        }
    }

    /// The lanes of block `b`, each at the start of its stream.
    #[inline(always)]
    pub fn lanes(&mut self, b: u64) -> LaneStates {
        if b < self.block {
            self.block = 0;
            self.lanes = self.origin;
        }
        // Block `b`'s lanes are those of block `self.block` after `LANES * gap` jumps
        // of each: one jump polynomial per set bit of the gap.
        let mut rest = b - self.block;
        while rest != 0 {
            let k = rest.trailing_zeros();
            rest &= rest - 1;
            // LANES * 2^k jumps = 2^(k + 3) jumps
            self.lanes.jump(jump_power(k + LANES.trailing_zeros()));
        }
        self.block = b;
        self.lanes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::stream::stream;
    use rand::Rng;

    #[test]
    fn lane_l_of_block_b_is_stream_8b_plus_l() {
        let seed = 42;
        let mut cursor = LaneCursor::new(seed);
        // ascending, a gap, back to an earlier block, far away
        for b in [0, 1, 2, 3, 7, 8, 100, 5, 1_000_003, 1 << 40] {
            let lanes = cursor.lanes(b);
            for l in 0..LANES {
                let want = stream(seed, Family::Chunk, LANES as u64 * b + l as u64);
                assert_eq!(words(&lanes.stream(l)), words(&want), "block {b}, lane {l}");
            }
        }
    }

    #[test]
    fn lane_words_are_each_streams_words() {
        let mut cursor = LaneCursor::new(7);
        let mut lanes = cursor.lanes(11);
        let mut want: Vec<Stream> = (0..LANES).map(|l| lanes.stream(l)).collect();
        for _ in 0..1000 {
            let got = lanes.next_words();
            for (l, rng) in want.iter_mut().enumerate() {
                assert_eq!(got[l], rng.next_u64());
            }
        }
    }

    #[test]
    fn the_method_is_named() {
        assert_eq!(METHOD, "xoshiro256++/lanes-v1");
        assert_eq!(BLOCK % LANES, 0);
    }
}

#[cfg(test)]
mod timing {
    use super::*;
    use crate::math::{LaneProgram, Lanes, Simd};

    struct Jumps(u64);
    impl LaneProgram for Jumps {
        type Output = u64;
        unsafe fn run<V: Lanes>(self) -> u64 {
            let mut c = LaneCursor::new(1);
            let mut x = 0;
            for b in 1..=self.0 {
                x ^= c.lanes(b).s[0][3];
            }
            x
        }
    }
    struct WordsProg(usize);
    impl LaneProgram for WordsProg {
        type Output = u64;
        unsafe fn run<V: Lanes>(self) -> u64 {
            let mut lanes = LaneCursor::new(1).lanes(0);
            let mut x = 0;
            for _ in 0..self.0 {
                let w = lanes.next_words();
                x ^= w[0] ^ w[7];
            }
            x
        }
    }

    #[test]
    #[ignore]
    fn time_jumps_and_words() {
        let t = std::time::Instant::now();
        let n = 20_000;
        let x = Simd::current().run(Jumps(n));
        let per = t.elapsed().as_secs_f64() / n as f64;
        eprintln!("next-block jump: {:.3} us per block ({x})", per * 1e6);
        let t = std::time::Instant::now();
        let n = 100_000_000;
        let x = Simd::current().run(WordsProg(n));
        let per = t.elapsed().as_secs_f64() / (n * LANES) as f64;
        eprintln!("lane words: {:.3} ns per word ({x})", per * 1e9);
    }
}
