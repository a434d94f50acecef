//! Sobol direction vectors: Joe & Kuo's `new-joe-kuo-6.21201`, first [`D_MAX`]
//! dimensions, as 64-bit integers.
//!
//! The table is `joe-kuo-6.21201.txt` beside this file, in Joe & Kuo's own text format
//! (`d s a m_1 .. m_s`: dimension, degree of the primitive polynomial, its inner
//! coefficients as bits, the initial direction numbers), written from scipy's copy of
//! the set by `generate.py data` and carrying the authors' licence. Dimension 1 is van
//! der Corput (all `m_k = 1`) and has no row, as in the original. Vector `V_k`,
//! `k = 1..=64`, is `m_k 2^(64 - k)`, with `m_k` for `k > s` from the recurrence of
//! Bratley & Fox, as in Joe & Kuo's `sobol.cc`:
//! `V_k = a_1 V_{k-1} ^ ... ^ a_{s-1} V_{k-s+1} ^ V_{k-s} ^ (V_{k-s} >> s)`.
//! Sixty-four vectors index 2^64 points, far beyond the 2^32 a replicate needs.

use std::sync::OnceLock;

/// The number of dimensions carlo's Sobol points have at most.
///
/// 1024 covers a year of daily dates (252) four times over: four assets, or four
/// years, on one point. Joe & Kuo's set has 21201 dimensions; shipping them all would
/// be 1.7 MB of text for dimensions whose two-dimensional projections are weaker (the
/// t-values Joe & Kuo publish grow with the dimension), and in path models it is the
/// Brownian bridge, which puts the variance in the first coordinates, not more
/// dimensions, that makes quasi-Monte Carlo pay. Raising it is
/// `python3 src/qmc/generate.py data N` and this constant, nothing else: the degree of
/// the polynomials (13 at 1024, 18 at 21201) is not limited here.
pub const D_MAX: usize = 1024;

/// Joe & Kuo's rows for dimensions 2..=D_MAX, with comments and a licence on top.
const TABLE: &str = include_str!("joe-kuo-6.21201.txt");

/// Bits of each coordinate, and number of direction vectors per dimension.
pub(super) const BITS: usize = 64;

/// The 64 direction vectors of `dimension` (from 0), `V_1` first.
pub(super) fn vectors(dimension: usize) -> &'static [u64; BITS] {
    &all()[dimension]
}

/// All of them, computed from the table once per process (a fraction of a
/// millisecond).
fn all() -> &'static [[u64; BITS]] {
    static VECTORS: OnceLock<Box<[[u64; BITS]]>> = OnceLock::new();
    VECTORS.get_or_init(|| parse(TABLE))
}

/// The direction vectors of every dimension in `table`.
///
/// Panics on a malformed table: the table is part of the source and a test reads it,
/// so a failure here is a bug in the build, never bad user input.
fn parse(table: &str) -> Box<[[u64; BITS]]> {
    let mut vectors = Vec::with_capacity(D_MAX);
    // van der Corput: m_k = 1 for all k.
    vectors.push(std::array::from_fn(|k| 1u64 << (BITS - 1 - k)));
    let rows = table
        .lines()
        .filter(|line| !line.starts_with('#'))
        .skip_while(|line| line.starts_with("d s a"));
    for line in rows {
        let fields: Vec<u64> = line
            .split_whitespace()
            .map(|f| f.parse().expect("direction table: numbers only"))
            .collect();
        let (d, s, a) = (fields[0] as usize, fields[1] as usize, fields[2]);
        let m = &fields[3..];
        assert_eq!(d, vectors.len() + 1, "direction table: rows out of order");
        assert!(
            s >= 1 && m.len() == s && s < BITS,
            "direction table: row {d}"
        );
        assert!(
            a < 1 << (s - 1),
            "direction table: row {d}: a has s - 1 bits"
        );
        for (k, &mk) in m.iter().enumerate() {
            assert!(
                mk % 2 == 1 && mk < 2 << k,
                "direction table: row {d}: m_{k}"
            );
        }
        vectors.push(recurrence(s, a, m));
    }
    assert_eq!(vectors.len(), D_MAX, "direction table: D_MAX rows");
    vectors.into_boxed_slice()
}

/// `V_1..V_64` of a dimension with polynomial degree `s`, inner coefficients `a` and
/// initial direction numbers `m`.
fn recurrence(s: usize, a: u64, m: &[u64]) -> [u64; BITS] {
    let mut v = [0u64; BITS];
    for k in 0..BITS {
        v[k] = if k < s {
            m[k] << (BITS - 1 - k)
        } else {
            let mut x = v[k - s] ^ (v[k - s] >> s);
            for i in 1..s {
                // a_i is bit s - 1 - i of a, the coefficient of x^(s - i).
                if (a >> (s - 1 - i)) & 1 == 1 {
                    x ^= v[k - i];
                }
            }
            x
        };
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The 64-bit direction vectors equal scipy's (`qmc.Sobol(1024, scramble=False,
    /// bits=64)._sv`, dimension-major, little-endian), so every bit of every point up
    /// to index 2^64 - 1 is scipy's and Joe & Kuo's. From `generate.py reference`.
    #[test]
    fn direction_vectors_equal_scipys() {
        let mut hash = Sha256::new();
        for d in 0..D_MAX {
            for v in vectors(d) {
                hash.update(v.to_le_bytes());
            }
        }
        assert_eq!(
            hex(&hash.finalize()),
            "76c6744ddb09070b6f6e4b59cd36bef898392c4c7b190f3ac87d8f85e70be75d"
        );
    }

    /// Joe & Kuo's published rows for dimensions 2 to 10, as in the paper's file.
    #[test]
    fn table_starts_with_the_published_rows() {
        let published = "2 1 0 1\n3 2 1 1 3\n4 3 1 1 3 1\n5 3 2 1 1 1\n6 4 1 1 1 3 3\n\
                         7 4 4 1 3 5 13\n8 5 2 1 1 5 5 17\n9 5 4 1 1 5 5 5\n10 5 7 1 1 7 11 19\n";
        let start = TABLE.find("\n2 1 0 1\n").expect("row 2") + 1;
        assert!(TABLE[start..].starts_with(published));
        assert!(TABLE.contains("Copyright (c) 2008, Frances Y. Kuo and Stephen Joe"));
    }

    #[test]
    fn first_dimensions_by_hand() {
        // van der Corput: V_k = 2^-k.
        assert_eq!(vectors(0)[0], 1 << 63);
        assert_eq!(vectors(0)[63], 1);
        // Dimension 2, x + 1, m_1 = 1: V_k = V_{k-1} ^ (V_{k-1} >> 1), Pascal's
        // triangle mod 2 read from the top bit.
        let v = vectors(1);
        assert_eq!(&v[..4], &[0x8 << 60, 0xc << 60, 0xa << 60, 0xf << 60]);
        assert_eq!(v[63], u64::MAX);
        // Dimension 3, x^2 + x + 1, m = 1, 3: m_3 = 2 m_2 ^ 4 m_1 ^ m_1 = 3, V_3 = 0.011.
        assert_eq!(vectors(2)[2] >> 61, 0b011);
    }
}
