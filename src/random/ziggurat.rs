//! Drawing a chunk's random numbers in bulk: xoshiro256++ words with the generator's
//! state held in registers, and standard normals by a ziggurat whose candidates are
//! tested a vector at a time.
//!
//! Hand-written, on purpose: the words are the one serial part of every sample loop.
//! The state update of xoshiro256++ is a chain of dependent integer operations, so the
//! loop here does nothing but that chain and stores the two state words the output
//! scrambler needs; the scrambler (`rotl(s0 + s3, 23) + s0`) then runs on vectors,
//! where it costs a fraction of a cycle per word. The words are exactly those of
//! `Stream::next_u64`, in the same order (tested below).
//!
//! # The normal method: [`NORMAL_METHOD`]
//!
//! The normals of a chunk are one sequence, produced from the chunk's stream in blocks
//! of [`BLOCK`] words:
//! 1. the next [`BLOCK`] words are drawn, and word `k` is the ziggurat candidate of
//!    normal `k` of the block, exactly as rand_distr's `StandardNormal` builds one
//!    (its 256-layer tables; layer `i` = the low 8 bits, `u` in `[-1, 1)` from the top
//!    52 bits, `x = u X[i]`); a candidate with `|x| < X[i + 1]` is the normal;
//! 2. the rejected candidates (about 1.2%), in ascending `k`, are then each finished
//!    by the rest of the ziggurat (the wedge test, further candidates, Marsaglia's
//!    tail), drawing what they need from the stream after the block's words, with
//!    carlo's own [`exp`] and [`ln`].
//!
//! Every normal is an exact standard normal variate and the normals are independent,
//! as with rand_distr; only the order in which rejected candidates take their extra
//! words differs (after the block instead of at once), which is what lets the
//! candidates be tested a vector at a time. The sequence depends on the stream alone,
//! never on how many normals a caller asks for at a time or on the SIMD level.

use super::zig_tables::{ZIG_NORM_F, ZIG_NORM_R, ZIG_NORM_X};
use crate::math::{Lanes, exp, ln};
#[cfg(test)]
use crate::random::stream::from_words;
use crate::random::stream::{Stream, words};

/// The name of the normal method, written in the `normal` column of every summary
/// whose model draws normals this way.
pub const NORMAL_METHOD: &str = "ziggurat-block-v1";

/// Words per block of the normal method (part of its definition: rejected candidates
/// are finished after each block).
pub(crate) const BLOCK: usize = 256;

const SIGN: u64 = 1 << 63;

/// The ziggurat's layer edges as bit patterns, for vector table loads.
pub(super) static ZIG_X_BITS: [u64; 257] = {
    let mut bits = [0u64; 257];
    let mut i = 0;
    while i < 257 {
        bits[i] = ZIG_NORM_X[i].to_bits();
        i += 1;
    }
    bits
};

/// A xoshiro256++ generator whose state lives in a local (and so in registers), for
/// bulk draws; [`write_back`](Words::write_back) returns the state to the stream.
#[derive(Debug, Clone)]
pub(crate) struct Words {
    /// The xoshiro256 state words.
    pub s: [u64; 4],
}

impl Words {
    /// The generator at `rng`'s state.
    pub(crate) fn new(rng: &Stream) -> Self {
        Words { s: words(rng) }
    }

    /// Puts the state back into `rng`, as if every word had been drawn from it.
    #[cfg(test)]
    pub(crate) fn write_back(&self, rng: &mut Stream) {
        *rng = from_words(&self.s);
    }

    /// The next word, as `Stream::next_u64`.
    #[inline(always)]
    pub(crate) fn next_u64(&mut self) -> u64 {
        let w = scramble(self.s[0], self.s[3]);
        step(&mut self.s);
        w
    }

    /// A uniform in `[0, 1)`, as rand's `StandardUniform`: `(w >> 11) 2^-53`.
    #[inline(always)]
    pub(crate) fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform in `(0, 1)`, as rand's `Open01`.
    #[inline(always)]
    fn open01(&mut self) -> f64 {
        f64::from_bits((self.next_u64() >> 12) | ONE) - (1.0 - f64::EPSILON / 2.0)
    }
}

#[cfg(test)]
/// Advances `state` by `s0.len()` words, storing the scrambler's inputs of each: word
/// `k` is `scramble(s0[k], s3[k])`.
///
/// Hand-written hot loop: four steps per iteration, the state in registers, two
/// stores a step and nothing else on the serial chain.
#[inline(always)]
fn inputs(state: &mut [u64; 4], s0: &mut [u64], s3: &mut [u64]) {
    assert_eq!(s0.len(), s3.len());
    let mut s = *state;
    let (mut a, mut b) = (s0.chunks_exact_mut(4), s3.chunks_exact_mut(4));
    for (a, b) in (&mut a).zip(&mut b) {
        for j in 0..4 {
            a[j] = s[0];
            b[j] = s[3];
            step(&mut s);
        }
    }
    for (a, b) in a.into_remainder().iter_mut().zip(b.into_remainder()) {
        *a = s[0];
        *b = s[3];
        step(&mut s);
    }
    *state = s;
}

/// The xoshiro256 state transition.
#[inline(always)]
pub(crate) fn step(s: &mut [u64; 4]) {
    let t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s[3].rotate_left(45);
}

/// The ++ scrambler: the output word of a state.
#[inline(always)]
pub(crate) fn scramble(s0: u64, s3: u64) -> u64 {
    s0.wrapping_add(s3).rotate_left(23).wrapping_add(s0)
}

/// [`scramble`] on every lane (the lanes hold `u64` bit patterns).
#[inline(always)]
pub(crate) unsafe fn scramble_lanes<V: Lanes>(s0: V, s3: V) -> V {
    // SAFETY: the caller guarantees the instruction set of `V`.
    unsafe {
        let t = s0.add_bits(s3);
        t.shl::<23>().or(t.shr::<41>()).add_bits(s0)
    }
}

/// The bits of 1.0.
const ONE: u64 = 0x3ff0_0000_0000_0000;

#[cfg(test)]
/// The normals of a chunk, in the sequence [`NORMAL_METHOD`] defines.
#[derive(Debug)]
pub(crate) struct Normals {
    words: Words,
    /// Normals of the current block not handed out yet: `buf[next..]`.
    buf: [f64; BLOCK],
    next: usize,
    /// Room for a block's words, as the scrambler's inputs (kept here, not on each
    /// block's stack frame, so that nothing is cleared per block).
    scratch: Scratch,
}

#[cfg(test)]
#[derive(Debug)]
struct Scratch {
    s0: [u64; BLOCK],
    s3: [u64; BLOCK],
    /// Bit `k % 8` of `accepted[k / 8]`: whether candidate `k` was accepted at once.
    accepted: [u8; BLOCK / 8],
}

#[cfg(test)]
impl Normals {
    /// The normals of the stream at `rng`'s state.
    pub(crate) fn new(rng: &Stream) -> Self {
        Normals {
            words: Words::new(rng),
            buf: [0.0; BLOCK],
            next: BLOCK,
            scratch: Scratch {
                s0: [0; BLOCK],
                s3: [0; BLOCK],
                accepted: [0; BLOCK / 8],
            },
        }
    }

    /// Puts the generator's state back into `rng` (past the words of every block
    /// begun, including the unused rest of the last one).
    pub(crate) fn write_back(&self, rng: &mut Stream) {
        self.words.write_back(rng);
    }

    /// The next `out.len()` normals of the sequence.
    ///
    /// # Safety
    /// The CPU must support `V`'s instruction set.
    #[inline(always)]
    pub(crate) unsafe fn fill<V: Lanes>(&mut self, out: &mut [f64]) {
        let mut k = 0;
        while k < out.len() {
            if self.next == BLOCK {
                if let Some(whole) = out[k..].first_chunk_mut::<BLOCK>() {
                    // SAFETY: passed on from the caller.
                    unsafe { block::<V>(&mut self.words, &mut self.scratch, whole) };
                    k += BLOCK;
                    continue;
                }
                // SAFETY: as above.
                unsafe { block::<V>(&mut self.words, &mut self.scratch, &mut self.buf) };
                self.next = 0;
            }
            let take = (BLOCK - self.next).min(out.len() - k);
            out[k..k + take].copy_from_slice(&self.buf[self.next..self.next + take]);
            self.next += take;
            k += take;
        }
    }
}

#[cfg(test)]
/// Words per group of the block loop.
const GROUP: usize = 8;

#[cfg(test)]
/// One block of the normal method into `out`.
///
/// Hand-written to keep the serial chain of the generator busy while the vector units
/// work. Iteration `g` draws the words of group `g` and tests the candidates of group
/// `g - LAG`. The lag lets the tests overlap the chain, and makes
/// them read words stored long enough ago to have left the store queue (a vector load
/// of several recent 8-byte stores cannot be forwarded and waits). Which candidates
/// were rejected is kept as bits and looked at only after the loop: a branch on it
/// in the loop would be mispredicted in one group of nine and throw away the work
/// in flight.
#[inline(always)]
unsafe fn block<V: Lanes>(words: &mut Words, scratch: &mut Scratch, out: &mut [f64; BLOCK]) {
    const LAG: usize = 4;
    let Scratch { s0, s3, accepted } = scratch;
    let mut s = words.s;
    for g in 0..BLOCK / GROUP + LAG {
        if g < BLOCK / GROUP {
            let at = g * GROUP;
            inputs(&mut s, &mut s0[at..at + GROUP], &mut s3[at..at + GROUP]);
        }
        if g >= LAG {
            // SAFETY: passed on from the caller.
            accepted[g - LAG] = unsafe { test_group::<V>(s0, s3, (g - LAG) * GROUP, out) };
        }
    }
    words.s = s;
    for (g, &ok) in accepted.iter().enumerate() {
        let mut miss = !ok;
        while miss != 0 {
            let r = g * GROUP + miss.trailing_zeros() as usize;
            miss &= miss - 1;
            out[r] = finish(words, scramble(s0[r], s3[r]));
        }
    }
}

#[cfg(test)]
/// Tests the candidates of the 8 words at `at` and writes their `x` to `out`; returns
/// which were accepted at once (bit `j` for word `at + j`).
#[inline(always)]
unsafe fn test_group<V: Lanes>(
    s0: &[u64; BLOCK],
    s3: &[u64; BLOCK],
    at: usize,
    out: &mut [f64; BLOCK],
) -> u8 {
    assert!(at + 8 <= BLOCK);
    let mut accepted = 0;
    for h in 0..8 / V::LANES {
        let k = at + h * V::LANES;
        // SAFETY: k + LANES <= BLOCK; the caller guarantees the instruction set.
        unsafe {
            let w = scramble_lanes(
                V::load_bits(s0.as_ptr().add(k)),
                V::load_bits(s3.as_ptr().add(k)),
            );
            let (edge, next) = V::lookup_pair(&ZIG_X_BITS, w.and(V::splat_bits(0xff)));
            let (x, ok) = candidate(w, edge, next);
            x.store(out.as_mut_ptr().add(k));
            accepted |= V::mask_bits(ok) << (h * V::LANES);
        }
    }
    accepted as u8
}

/// The ziggurat candidate of each lane's word, given its layer's edges `X[i]` and
/// `X[i + 1]`, and whether it is accepted at once.
#[inline(always)]
pub(super) unsafe fn candidate<V: Lanes>(w: V, edge: V, next: V) -> (V, V::Mask) {
    // SAFETY: the caller guarantees the instruction set.
    unsafe {
        // the top 52 bits as a mantissa with exponent 1 give [2, 4); minus 3, [-1, 1)
        let u = w
            .shr::<12>()
            .or(V::splat_bits(1024 << 52))
            .sub(V::splat(3.0));
        let x = u.mul(edge);
        (x, x.and(V::splat_bits(!SIGN)).lt(next))
    }
}

/// The scalar candidate of `w`: its layer, `u` and `x`, as [`candidate`] computes them.
#[inline(always)]
fn scalar_candidate(w: u64) -> (usize, f64, f64) {
    let i = (w & 0xff) as usize;
    let u = f64::from_bits((w >> 12) | (1024 << 52)) - 3.0;
    (i, u, u * ZIG_NORM_X[i])
}

/// The normal of a rejected candidate `w`: the rest of rand_distr's ziggurat (wedges
/// and tail), drawing from `words`, with carlo's `exp` and `ln`.
#[cold]
#[inline(never)]
pub(super) fn finish(words: &mut Words, w: u64) -> f64 {
    let (mut i, mut u, mut x) = scalar_candidate(w);
    loop {
        if i == 0 {
            // Marsaglia's tail algorithm.
            let (mut xt, mut yt) = (1.0f64, 0.0f64);
            while -2.0 * yt < xt * xt {
                let a = words.open01();
                let b = words.open01();
                xt = ln(a) / ZIG_NORM_R;
                yt = ln(b);
            }
            return if u < 0.0 {
                xt - ZIG_NORM_R
            } else {
                ZIG_NORM_R - xt
            };
        }
        let f1 = ZIG_NORM_F[i + 1];
        if f1 + (ZIG_NORM_F[i] - f1) * words.uniform() < exp(-x * x / 2.0) {
            return x;
        }
        (i, u, x) = scalar_candidate(words.next_u64());
        if x.abs() < ZIG_NORM_X[i + 1] {
            return x;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::{LaneProgram, Level, Simd};
    use crate::random::stream::{Family, stream};
    use rand::Rng;

    #[test]
    fn words_are_the_streams() {
        let mut rng = stream(5, Family::Chunk, 3);
        let mut words = Words::new(&rng);
        let (mut s0, mut s3) = ([0u64; 1003], [0u64; 1003]);
        inputs(&mut words.s, &mut s0, &mut s3);
        for k in 0..1003 {
            assert_eq!(scramble(s0[k], s3[k]), rng.next_u64(), "word {k}");
        }
        for _ in 0..10 {
            assert_eq!(words.next_u64(), rng.next_u64());
        }
        let mut back = stream(0, Family::Chunk, 0);
        words.write_back(&mut back);
        assert_eq!(back.next_u64(), rng.next_u64());
    }

    /// `n` normals of the stream, asked for `at` a time, at `level`.
    fn normals(level: Level, n: usize, at: usize) -> (Vec<f64>, Stream) {
        struct Draw<'a>(&'a mut Normals, &'a mut [f64], usize);
        impl LaneProgram for Draw<'_> {
            type Output = ();
            unsafe fn run<V: Lanes>(self) {
                for part in self.1.chunks_mut(self.2) {
                    unsafe { self.0.fill::<V>(part) };
                }
            }
        }
        let mut rng = stream(11, Family::Chunk, 2);
        let mut source = Normals::new(&rng);
        let mut out = vec![0.0; n];
        Simd::new(level)
            .unwrap()
            .run(Draw(&mut source, &mut out, at));
        source.write_back(&mut rng);
        (out, rng)
    }

    /// The method as the module documents it, one normal at a time.
    fn reference(n: usize) -> Vec<f64> {
        let mut words = Words::new(&stream(11, Family::Chunk, 2));
        let mut out = Vec::new();
        while out.len() < n {
            let block: Vec<u64> = (0..BLOCK).map(|_| words.next_u64()).collect();
            let mut normals: Vec<Option<f64>> = block
                .iter()
                .map(|&w| {
                    let (i, _, x) = scalar_candidate(w);
                    (x.abs() < ZIG_NORM_X[i + 1]).then_some(x)
                })
                .collect();
            for (k, z) in normals.iter_mut().enumerate() {
                if z.is_none() {
                    *z = Some(finish(&mut words, block[k]));
                }
            }
            out.extend(normals.into_iter().map(Option::unwrap));
        }
        out.truncate(n);
        out
    }

    #[test]
    fn every_level_and_request_size_draws_the_documented_sequence() {
        let n = 20_000;
        let want = reference(n);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let mut ends = Vec::new();
        for level in Level::available() {
            for at in [1, 7, 96, 256, 300, 2016, n] {
                let (got, rng) = normals(level, n, at);
                assert_eq!(bits(&got), bits(&want), "{level}, {at} at a time");
                ends.push(rng);
            }
        }
        // the stream ends in the same place whatever the request sizes
        let mut first = ends[0].clone();
        let next = first.next_u64();
        assert!(ends.iter_mut().all(|r| r.next_u64() == next));
    }

    #[test]
    fn normals_look_standard_and_visit_the_tail() {
        let n = 1 << 20;
        let (z, _) = normals(Level::detect(), n, 4096);
        let mean = z.iter().sum::<f64>() / n as f64;
        let var = z.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        let kurt = z.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n as f64 / (var * var);
        assert!(mean.abs() < 5.0 / (n as f64).sqrt(), "mean {mean}");
        assert!(
            (var - 1.0).abs() < 5.0 * (2.0 / n as f64).sqrt(),
            "variance {var}"
        );
        assert!((kurt - 3.0).abs() < 0.05, "kurtosis {kurt}");
        // P(|z| > R) = 2.6e-4: about 270 normals from the tail
        let tail = z.iter().filter(|x| x.abs() > ZIG_NORM_R).count();
        assert!((150..450).contains(&tail), "{tail} normals beyond R");
    }
}
