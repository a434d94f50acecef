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
//!
//! # Getting to stream `i` in O(log i)
//!
//! `i` jumps of about half a microsecond each would make a shard that starts at chunk
//! 10^10 jump for hours, so carlo takes the same path in at most 64 strides. The
//! xoshiro256 state transition `T` is linear over GF(2), and a jump is the map
//! `q(T)`, where `q(x) = x^(2^128) mod p(x)` and `p` is the characteristic polynomial
//! of `T`: the jump polynomial published with the generator, applied by the standard
//! jump loop (add up the states `T^j s` of the set coefficients `j`). `2^k` jumps are
//! the polynomial `x^(2^(128+k)) mod p`, the square of the one for `2^(k-1)` jumps.
//! carlo keeps those 64 polynomials, 32 bytes each (2 KiB), computed once per process
//! on first use by 63 squarings modulo `p` (about 0.1 ms), and advances by `i` jumps
//! with the polynomial of each set bit of `i`: one jump loop, the cost of one
//! `jump()`, per set bit. Powers of `T` commute and the arithmetic is exact, so the
//! result is bit for bit the state that `i` calls of `jump()` reach; the tests check
//! it against the plain walk, against `rand_xoshiro`'s own arbitrary-distance jump and
//! against the published jump and long-jump polynomials. The state goes in and out of
//! the generator through `state()` and `from_seed`, which round-trip exactly.

use std::sync::OnceLock;

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
/// This costs one jump loop (about a microsecond) per set bit of `index`, so at most
/// 64 of them; code that visits many chunks in ascending order should still use a
/// [`Cursor`], which pays for the gaps between the chunks it visits.
pub fn stream(seed: u64, family: Family, index: u64) -> Stream {
    let mut cursor = Cursor::new(seed, family);
    cursor.stream(index)
}

/// Walks the streams of one family in ascending order, jumping forward from the last
/// stream it produced instead of from stream 0.
///
/// Moving forward by `g` streams costs one jump loop per set bit of `g`: one `jump()`
/// for the next stream, as many as a direct [`stream`] for a far one. Asking for an
/// earlier stream starts again from stream 0.
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
        advance(&mut self.rng, index - self.index);
        self.index = index;
        self.rng.clone()
    }
}

/// Advances `rng` by `jumps` calls of `jump()`, in one stride per set bit.
fn advance(rng: &mut Stream, jumps: u64) {
    let mut rest = jumps;
    while rest != 0 {
        let k = rest.trailing_zeros() as usize;
        rest &= rest - 1;
        if k == 0 {
            // The generator's own jump: the common step of a cursor stays the plain
            // derivation, literally.
            rng.jump();
        } else {
            apply(rng, &jump_powers()[k]);
        }
    }
}

/// Polynomials over GF(2) of degree below 256, coefficient `k` in bit `k % 64` of
/// word `k / 64`, which is also how xoshiro's jump constants are written.
pub(crate) type Poly = [u64; 4];

/// The characteristic polynomial `p` of the xoshiro256 transition without its
/// leading `x^256` term, as published by the generator's authors (it is the modulus
/// of `rand_xoshiro`'s `jump_ce`). The tests check that `p(T)` sends random states to
/// zero and that `x^(2^128)` and `x^(2^192)` modulo `p` are the published jump and
/// long-jump polynomials.
const CHARPOLY: Poly = [
    0x9d11_6f2b_b0f0_f001,
    0x0280_002b_cefd_1a5e,
    0x04b4_edcf_2625_9f85,
    0x0003_c03c_3f3e_cb19,
];

/// `x^(2^128) mod p`: the polynomial of `jump()`, from the reference C code.
const JUMP: Poly = [
    0x180e_c6d3_3cfd_0aba,
    0xd5a6_1266_f0c9_392c,
    0xa958_2618_e03f_c9aa,
    0x39ab_dc45_29b1_661c,
];

/// `jump_powers()[k]` is the polynomial of `2^k` jumps, `x^(2^(128+k)) mod p`.
fn jump_powers() -> &'static [Poly; 64] {
    static POWERS: OnceLock<[Poly; 64]> = OnceLock::new();
    POWERS.get_or_init(|| {
        let mut powers = [JUMP; 64];
        for k in 1..64 {
            powers[k] = mul_mod(&powers[k - 1], &powers[k - 1]);
        }
        powers
    })
}

/// The polynomial of `2^k` jumps (`k < 64`), for jumping several states at once.
pub(crate) fn jump_power(k: u32) -> &'static Poly {
    &jump_powers()[k as usize]
}

/// `a * x mod p`.
#[inline(always)]
fn mul_x(a: &Poly) -> Poly {
    let carry = 0u64.wrapping_sub(a[3] >> 63);
    [
        (a[0] << 1) ^ (CHARPOLY[0] & carry),
        (a[1] << 1 | a[0] >> 63) ^ (CHARPOLY[1] & carry),
        (a[2] << 1 | a[1] >> 63) ^ (CHARPOLY[2] & carry),
        (a[3] << 1 | a[2] >> 63) ^ (CHARPOLY[3] & carry),
    ]
}

/// `a * b mod p`, by Horner's rule over the coefficients of `a` from the top.
fn mul_mod(a: &Poly, b: &Poly) -> Poly {
    let mut r = [0; 4];
    for k in (0..256).rev() {
        r = mul_x(&r);
        let mask = 0u64.wrapping_sub((a[k / 64] >> (k % 64)) & 1);
        for (w, x) in r.iter_mut().zip(b) {
            *w ^= x & mask;
        }
    }
    r
}

/// The xoshiro256 state transition (the `++` scrambler only shapes the output, so it
/// plays no part in jumps). The tests check it against the generator's own step.
#[inline(always)]
fn step(s: &mut [u64; 4]) {
    let t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s[3].rotate_left(45);
}

/// The state words of `rng`.
pub(crate) fn words(rng: &Stream) -> [u64; 4] {
    let bytes = rng.state();
    std::array::from_fn(|i| u64::from_le_bytes(bytes[8 * i..8 * i + 8].try_into().unwrap()))
}

/// The generator with state words `s`. Exact for every state a seeded generator can
/// reach: only the all-zero state, which no jump of a non-zero state gives, is
/// remapped by `from_seed`.
pub(crate) fn from_words(s: &[u64; 4]) -> Stream {
    let mut bytes = [0u8; 32];
    for (chunk, w) in bytes.chunks_exact_mut(8).zip(s) {
        chunk.copy_from_slice(&w.to_le_bytes());
    }
    Stream::from_seed(bytes)
}

/// Applies the jump polynomial `q` to `rng`: the state becomes `q(T)` of the state,
/// the sum of `T^j` of it over the set coefficients `j` of `q` (the jump loop of the
/// reference C code, with `q` in place of its constant).
fn apply(rng: &mut Stream, q: &Poly) {
    let mut s = words(rng);
    let mut sum = [0u64; 4];
    for &word in q {
        for bit in 0..64 {
            // A mask instead of a branch: the coefficients are random bits, which a
            // branch predictor would get wrong half of the time.
            let mask = 0u64.wrapping_sub((word >> bit) & 1);
            sum[0] ^= s[0] & mask;
            sum[1] ^= s[1] & mask;
            sum[2] ^= s[2] & mask;
            sum[3] ^= s[3] & mask;
            step(&mut s);
        }
    }
    *rng = from_words(&sum);
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

    /// `x^(2^192) mod p`: the polynomial of `long_jump()`, from the reference C code.
    const LONG_JUMP: Poly = [
        0x76e1_5d3e_fefd_cbbf,
        0xc500_4e44_1c52_2fb3,
        0x7771_0069_854e_e241,
        0x3910_9bb0_2acb_e635,
    ];

    /// The derivation as the contract states it: `index` calls of `jump()`.
    fn walk(seed: u64, family: Family, index: u64) -> Stream {
        let mut rng = base(seed, family);
        for _ in 0..index {
            rng.jump();
        }
        rng
    }

    /// Generators in assorted states: seeded, jumped, long-jumped, stepped.
    fn assorted() -> Vec<Stream> {
        let mut all = Vec::new();
        for seed in [0, 1, 42, u64::MAX] {
            let mut rng = Stream::seed_from_u64(seed);
            all.push(rng.clone());
            rng.jump();
            all.push(rng.clone());
            rng.long_jump();
            all.push(rng.clone());
            for _ in 0..seed % 7 + 1 {
                rng.next_u64();
            }
            all.push(rng);
        }
        all
    }

    #[test]
    fn state_words_round_trip_through_from_seed() {
        for rng in assorted() {
            let back = from_words(&words(&rng));
            assert_eq!(back, rng);
            assert_eq!(first(back), first(rng));
        }
    }

    #[test]
    fn step_is_the_generators_transition() {
        for mut rng in assorted() {
            let mut s = words(&rng);
            for _ in 0..1000 {
                rng.next_u64();
                step(&mut s);
                assert_eq!(s, words(&rng));
            }
        }
    }

    #[test]
    fn charpoly_annihilates_the_transition() {
        // Cayley-Hamilton: p(T) = T^256 + sum of p_k T^k sends every state to zero.
        for rng in assorted() {
            let mut s = words(&rng);
            let mut sum = [0u64; 4];
            for k in 0..256 {
                if (CHARPOLY[k / 64] >> (k % 64)) & 1 != 0 {
                    sum.iter_mut().zip(&s).for_each(|(a, x)| *a ^= x);
                }
                step(&mut s);
            }
            sum.iter_mut().zip(&s).for_each(|(a, x)| *a ^= x);
            assert_eq!(sum, [0; 4]);
        }
    }

    #[test]
    fn jump_polynomials_are_the_published_powers_of_x() {
        let mut x = [2, 0, 0, 0];
        for _ in 0..128 {
            x = mul_mod(&x, &x);
        }
        assert_eq!(x, JUMP, "x^(2^128) mod p");
        let powers = jump_powers();
        assert_eq!(powers[0], JUMP);
        // The last power squared is x^(2^192): the whole chain of squarings lands on
        // the long jump's published polynomial.
        assert_eq!(mul_mod(&powers[63], &powers[63]), LONG_JUMP);
        assert_eq!(mul_mod(&powers[3], &[1, 0, 0, 0]), powers[3]);
    }

    #[test]
    fn each_power_is_two_of_the_previous() {
        for rng in assorted().into_iter().take(4) {
            let mut once = rng.clone();
            apply(&mut once, &JUMP);
            let mut plain = rng.clone();
            plain.jump();
            assert_eq!(once, plain);
            for k in 1..64 {
                let mut big = rng.clone();
                apply(&mut big, &jump_powers()[k]);
                let mut twice = rng.clone();
                apply(&mut twice, &jump_powers()[k - 1]);
                apply(&mut twice, &jump_powers()[k - 1]);
                assert_eq!(big, twice, "2^{k} jumps");
            }
        }
    }

    #[test]
    fn small_indices_match_the_plain_walk() {
        for family in [Family::Chunk, Family::Auxiliary] {
            for seed in [0, 42, 0x9e37_79b9_7f4a_7c15] {
                let mut plain = base(seed, family);
                let mut cursor = Cursor::new(seed, family);
                for index in 0..1100 {
                    assert_eq!(stream(seed, family, index), plain, "{family:?} {index}");
                    assert_eq!(cursor.stream(index), plain);
                    plain.jump();
                }
            }
        }
    }

    #[test]
    fn random_indices_match_the_plain_walk() {
        let mut pick = Stream::seed_from_u64(2024);
        for family in [Family::Chunk, Family::Auxiliary] {
            for _ in 0..20 {
                let seed = pick.next_u64();
                let index = pick.next_u64() % 5000;
                assert_eq!(stream(seed, family, index), walk(seed, family, index));
            }
        }
    }

    /// Indices far beyond any walk: compared with `rand_xoshiro`'s own jump by
    /// `index * 2^128` steps, a different computation (square-and-multiply of `x`
    /// modulo `p` for each call) of the same map.
    #[test]
    fn far_indices_match_an_independent_jump() {
        let mut pick = Stream::seed_from_u64(7);
        let mut far = vec![
            1 << 40,
            (1 << 40) - 1,
            (1 << 40) + 1,
            10_000_000_000,
            1 << 63,
            (1 << 63) - 1,
            u64::MAX - 1,
            u64::MAX,
        ];
        far.extend((0..4).map(|_| pick.next_u64()));
        for family in [Family::Chunk, Family::Auxiliary] {
            for &index in &far {
                let mut expected = base(42, family);
                expected.jump_ce(index, 128);
                assert_eq!(stream(42, family, index), expected, "{family:?} {index}");
            }
        }
    }

    #[test]
    fn far_strides_compose() {
        // Stream a + b reached in one stride from 0 and in two from a: different
        // sets of powers, one state.
        let mut pick = Stream::seed_from_u64(11);
        for _ in 0..16 {
            let a = pick.next_u64() >> 1;
            let b = pick.next_u64() >> (1 + pick.next_u64() % 63);
            let mut cursor = Cursor::new(3, Family::Chunk);
            cursor.stream(a);
            assert_eq!(cursor.stream(a + b), stream(3, Family::Chunk, a + b));
        }
        // The last streams, one jump apart.
        let mut cursor = Cursor::new(3, Family::Auxiliary);
        let mut before = cursor.stream(u64::MAX - 1);
        before.jump();
        assert_eq!(cursor.stream(u64::MAX), before);
    }

    #[test]
    fn cursor_matches_direct_derivation_in_any_order() {
        let mut cursor = Cursor::new(7, Family::Chunk);
        for index in [0, 3, 4, 10, 2, 2, 11, 1 << 40, 5, (1 << 40) + 3, 1 << 39] {
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
