//! Sobol points in 64-bit arithmetic: random access to point `n` and sequential
//! reading from any index, plain or scrambled.
//!
//! Point `n` of a [`Sobol`] set is `e XOR (XOR of V_k over the set bits k of gray(n))`,
//! `gray(n) = n ^ (n >> 1)`, coordinate by coordinate, for every `n: u64` (see the
//! [module docs](super)). Because `gray(n + 1) = gray(n) ^ 2^c` with `c` the number of
//! trailing ones of `n`, the next point is one XOR away from the current one; that
//! is how [`Points`] reads a range, and why it returns exactly the bits of
//! [`Sobol::point_bits`]. The walk is cyclic: after index `2^64 - 1` comes index 0.

use std::fmt;

use super::directions::{self, BITS, D_MAX};
use super::scramble::{Lms, replicate_stream};
use super::{QmcError, to_unit};

/// Whether and how a point set is randomized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Randomization {
    /// The plain Sobol sequence: point 0 is the origin.
    None,
    /// Replicate `replicate` of `seed` under [`super::RQMC_DERIVATION`].
    Scrambled {
        /// The run's seed.
        seed: u64,
        /// The replicate, from 0.
        replicate: u64,
    },
}

/// The first `dims` coordinates of the Sobol sequence, plain or scrambled.
///
/// Immutable once built, and `Sync`: build it once per replicate and let every chunk
/// read its own index range through [`Sobol::points`]. Memory: `65 * dims` words (130
/// KiB for 252 dimensions).
#[derive(Clone)]
pub struct Sobol {
    dims: usize,
    randomization: Randomization,
    /// Row `k` (`dims` words) holds `V_{k+1}` of every dimension, scrambled if the set
    /// is, so that a step XORs one contiguous row. Row 64 repeats row 63: stepping
    /// from index `2^64 - 1` (gray code `2^63`) to index 0 (gray code 0) flips bit 63.
    directions: Box<[u64]>,
    /// Point 0: the digital shift (zero unscrambled).
    origin: Box<[u64]>,
}

impl fmt::Debug for Sobol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sobol")
            .field("dims", &self.dims)
            .field("randomization", &self.randomization)
            .finish_non_exhaustive()
    }
}

impl Sobol {
    /// The plain (unscrambled) Sobol points in `dims` dimensions, `1..=D_MAX`: point
    /// `n` is scipy's `qmc.Sobol(dims, scramble=False, bits=64)` point `n`.
    pub fn new(dims: usize) -> Result<Self, QmcError> {
        Self::build(dims, Randomization::None)
    }

    /// Replicate `replicate` of the scrambled Sobol points for `seed`, in `dims`
    /// dimensions, `1..=D_MAX` (see [`super::RQMC_DERIVATION`]).
    ///
    /// Costs `replicate` jumps of the generator (about a microsecond each) and
    /// `4096 * dims` bit operations (about 10 microseconds per dimension).
    pub fn scrambled(dims: usize, seed: u64, replicate: u64) -> Result<Self, QmcError> {
        Self::build(dims, Randomization::Scrambled { seed, replicate })
    }

    fn build(dims: usize, randomization: Randomization) -> Result<Self, QmcError> {
        if dims == 0 || dims > D_MAX {
            return Err(QmcError::DimensionsOutOfRange { dims, max: D_MAX });
        }
        let mut directions = vec![0u64; (BITS + 1) * dims].into_boxed_slice();
        let mut origin = vec![0u64; dims].into_boxed_slice();
        let mut rng = match randomization {
            Randomization::None => None,
            Randomization::Scrambled { seed, replicate } => Some(replicate_stream(seed, replicate)),
        };
        for (j, e) in origin.iter_mut().enumerate() {
            let plain = directions::vectors(j);
            let lms = rng.as_mut().map(Lms::draw);
            for (k, &v) in plain.iter().enumerate() {
                directions[k * dims + j] = match &lms {
                    Some(lms) => lms.apply(v),
                    None => v,
                };
            }
            directions[BITS * dims + j] = directions[(BITS - 1) * dims + j];
            *e = lms.map_or(0, |lms| lms.shift);
        }
        Ok(Sobol {
            dims,
            randomization,
            directions,
            origin,
        })
    }

    /// The number of coordinates of each point.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// How the points are randomized.
    pub fn randomization(&self) -> Randomization {
        self.randomization
    }

    /// Row `k` of the direction table: `V_{k+1}` of every dimension.
    #[inline(always)]
    fn row(&self, k: usize) -> &[u64] {
        &self.directions[k * self.dims..(k + 1) * self.dims]
    }

    /// Writes point `index` as 64-bit integers (coordinate `x` stands for `x / 2^64`).
    ///
    /// Costs one pass over the coordinates per set bit of `index ^ (index >> 1)`.
    /// Panics if `out.len() != self.dims()`.
    pub fn point_bits(&self, index: u64, out: &mut [u64]) {
        assert_eq!(out.len(), self.dims, "a point has dims() coordinates");
        out.copy_from_slice(&self.origin);
        let mut gray = index ^ (index >> 1);
        while gray != 0 {
            let k = gray.trailing_zeros() as usize;
            for (x, v) in out.iter_mut().zip(self.row(k)) {
                *x ^= v;
            }
            gray &= gray - 1;
        }
    }

    /// Writes point `index` as doubles in (0, 1) (see [`to_unit`]).
    ///
    /// Allocates a scratch point: for ranges, use [`Sobol::points`]. Panics if
    /// `out.len() != self.dims()`.
    pub fn point(&self, index: u64, out: &mut [f64]) {
        assert_eq!(out.len(), self.dims, "a point has dims() coordinates");
        let mut bits = vec![0u64; self.dims];
        self.point_bits(index, &mut bits);
        for (u, &x) in out.iter_mut().zip(&bits) {
            *u = to_unit(x);
        }
    }

    /// A reader of the points `start, start + 1, ...`, positioned in one random access.
    pub fn points(&self, start: u64) -> Points<'_> {
        let mut state = vec![0u64; self.dims].into_boxed_slice();
        self.point_bits(start, &mut state);
        Points {
            sobol: self,
            index: start,
            state,
        }
    }
}

/// Reads the points of a [`Sobol`] set in ascending index order, one XOR per coordinate
/// per point; the bits are those of [`Sobol::point_bits`] at the same index.
///
/// After index `2^64 - 1` it wraps to index 0.
#[derive(Debug, Clone)]
pub struct Points<'a> {
    sobol: &'a Sobol,
    /// The index of `state`, the next point to hand out.
    index: u64,
    state: Box<[u64]>,
}

impl Points<'_> {
    /// The index of the point the next call hands out.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// Writes the next point as 64-bit integers and moves past it.
    ///
    /// Panics if `out.len()` is not the number of dimensions.
    #[inline]
    pub fn next_bits(&mut self, out: &mut [u64]) {
        assert_eq!(
            out.len(),
            self.state.len(),
            "a point has dims() coordinates"
        );
        // gray(n) ^ gray(n + 1) is 2^(trailing ones of n); 64 ones (n = 2^64 - 1) use
        // the extra row, which wraps to point 0.
        let row = self.sobol.row(self.index.trailing_ones() as usize);
        for ((o, x), v) in out.iter_mut().zip(self.state.iter_mut()).zip(row) {
            *o = *x;
            *x ^= v;
        }
        self.index = self.index.wrapping_add(1);
    }

    /// Writes the next point as doubles in (0, 1) (see [`to_unit`]) and moves past it.
    ///
    /// Panics if `out.len()` is not the number of dimensions.
    #[inline]
    pub fn next_unit(&mut self, out: &mut [f64]) {
        assert_eq!(
            out.len(),
            self.state.len(),
            "a point has dims() coordinates"
        );
        let row = self.sobol.row(self.index.trailing_ones() as usize);
        for ((o, x), v) in out.iter_mut().zip(self.state.iter_mut()).zip(row) {
            *o = to_unit(*x);
            *x ^= v;
        }
        self.index = self.index.wrapping_add(1);
    }

    /// Writes the next `out.len() / dims` points as doubles, point after point (row
    /// major), and moves past them.
    ///
    /// Panics if `out.len()` is not a multiple of the number of dimensions.
    pub fn fill_unit(&mut self, out: &mut [f64]) {
        let dims = self.state.len();
        assert_eq!(out.len() % dims, 0, "whole points only");
        for point in out.chunks_exact_mut(dims) {
            self.next_unit(point);
        }
    }

    /// Moves past `count` points without reading them (one random access).
    pub fn skip(&mut self, count: u64) {
        self.index = self.index.wrapping_add(count);
        self.sobol.point_bits(self.index, &mut self.state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::stream::{Family, stream};
    use rand::{Rng, RngExt};
    use sha2::{Digest, Sha256};

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn bits(sobol: &Sobol, index: u64) -> Vec<u64> {
        let mut out = vec![0; sobol.dims()];
        sobol.point_bits(index, &mut out);
        out
    }

    /// scipy's `qmc.Sobol(1024, scramble=False, bits=64).random(1024)`: each point's
    /// f64 values (`x * 2^-64`, rounded), point after point, little-endian, hashed.
    /// The first 1024 points use only the top 10 bits, so the floats are exact.
    #[test]
    fn first_1024_points_equal_scipys() {
        let sobol = Sobol::new(D_MAX).unwrap();
        let mut points = sobol.points(0);
        let mut x = vec![0u64; D_MAX];
        let mut hash = Sha256::new();
        let mut columns = [1usize, 2, 3, 252, 1024].map(|d| (d, Sha256::new()));
        for _ in 0..1024 {
            points.next_bits(&mut x);
            for &v in &x {
                hash.update((v as f64 * 2f64.powi(-64)).to_le_bytes());
            }
            for (d, h) in &mut columns {
                h.update((x[*d - 1] as f64 * 2f64.powi(-64)).to_le_bytes());
            }
        }
        let columns = columns.map(|(d, h)| (d, hex(&h.finalize())));
        // Per-column hashes first, so that a failure says which dimension.
        assert_eq!(
            columns,
            [
                (
                    1,
                    "56d7af5b4cb4d39b3aeb3832f1c153b74490710753638edc47cc44258b26cb8e"
                ),
                (
                    2,
                    "d1a5937e64ee56f8a5728b287c9530b0edeffd8c6060df38e6165d3ed18039b0"
                ),
                (
                    3,
                    "cd494cb56c7725d8f661df9131abfb5c86223486b0f5a0469e85a8d79f4fa558"
                ),
                (
                    252,
                    "9b8f7221d25e86350d85ebaa46e6e47920d7f417c6459599797e3107de1ae197"
                ),
                (
                    1024,
                    "e3cc18ef2e5c9f6e8e428aca26796862e3e754e53be0a9e2156fe5952ccb4d22"
                ),
            ]
            .map(|(d, h)| (d, h.to_string()))
        );
        assert_eq!(
            hex(&hash.finalize()),
            "ad52614bcc65f9eae177d39856731a6b2daccb94110a21e39ef781e72d5a711f"
        );
    }

    /// The first points of a few dimensions, as scipy prints them.
    #[test]
    fn first_points_by_value() {
        let sobol = Sobol::new(D_MAX).unwrap();
        let expect: [(usize, [f64; 8]); 5] = [
            (1, [0.0, 0.5, 0.75, 0.25, 0.375, 0.875, 0.625, 0.125]),
            (2, [0.0, 0.5, 0.25, 0.75, 0.375, 0.875, 0.125, 0.625]),
            (3, [0.0, 0.5, 0.25, 0.75, 0.625, 0.125, 0.875, 0.375]),
            (252, [0.0, 0.5, 0.75, 0.25, 0.125, 0.625, 0.875, 0.375]),
            (1024, [0.0, 0.5, 0.75, 0.25, 0.875, 0.375, 0.125, 0.625]),
        ];
        for (d, values) in expect {
            for (n, value) in values.into_iter().enumerate() {
                let x = bits(&sobol, n as u64)[d - 1];
                assert_eq!(x as f64 * 2f64.powi(-64), value, "dimension {d}, point {n}");
            }
        }
    }

    /// Points far beyond scipy's reach (it cannot skip ahead with 64 bits), computed in
    /// Python from scipy's direction vectors and the Gray-code definition.
    #[test]
    fn far_points_equal_the_definition() {
        let sobol = Sobol::new(D_MAX).unwrap();
        const FAR: [(u64, usize, u64); 25] = [
            (0xffffffff, 0, 0x0000000100000000),
            (0xffffffff, 1, 0xffffffff00000000),
            (0xffffffff, 6, 0xc010447700000000),
            (0xffffffff, 251, 0x0b820ddb00000000),
            (0xffffffff, 1023, 0x651de84d00000000),
            (0x100000000, 0, 0x0000000180000000),
            (0x100000000, 1, 0x7fffffff80000000),
            (0x100000000, 6, 0x60e822f780000000),
            (0x100000000, 251, 0x19c306a180000000),
            (0x100000000, 1023, 0xa581126980000000),
            (0x10000003039, 0, 0xa414000001800000),
            (0x10000003039, 1, 0xafbc00007f800000),
            (0x10000003039, 6, 0x1dfc22f7dd800000),
            (0x10000003039, 251, 0x5c94a21442800000),
            (0x10000003039, 1023, 0x6edf6a964c800000),
            (0x8000000000000007, 0, 0x2000000000000003),
            (0x8000000000000007, 1, 0xf555555555555555),
            (0x8000000000000007, 6, 0xd000ad0030301111),
            (0x8000000000000007, 251, 0x7d5f408b9f5c8831),
            (0x8000000000000007, 1023, 0x3b9550d08e7575ff),
            (0xffffffffffffffff, 0, 0x0000000000000001),
            (0xffffffffffffffff, 1, 0xffffffffffffffff),
            (0xffffffffffffffff, 6, 0xd000330010107777),
            (0xffffffffffffffff, 251, 0x55ffc1bc8cf479ef),
            (0xffffffffffffffff, 1023, 0x7474636b82ff147d),
        ];
        for (n, d, x) in FAR {
            assert_eq!(bits(&sobol, n)[d], x, "point {n:#x}, dimension {}", d + 1);
        }
    }

    /// Dimension 1 is van der Corput in Gray-code order: the bits of gray(n), reversed.
    #[test]
    fn first_dimension_is_van_der_corput() {
        let sobol = Sobol::new(1).unwrap();
        let mut rng = stream(3, Family::Chunk, 0);
        for n in (0..5000).chain((0..5000).map(|_| rng.next_u64())) {
            assert_eq!(bits(&sobol, n)[0], (n ^ (n >> 1)).reverse_bits());
        }
    }

    fn sets() -> Vec<Sobol> {
        vec![
            Sobol::new(1).unwrap(),
            Sobol::new(7).unwrap(),
            Sobol::scrambled(7, 42, 0).unwrap(),
            Sobol::scrambled(252, 42, 5).unwrap(),
        ]
    }

    #[test]
    fn sequential_reading_equals_random_access_from_any_start() {
        let starts = [
            0,
            1,
            5,
            1000,
            (1 << 32) - 3,
            (1 << 40) + 17,
            (1 << 63) - 2,
            u64::MAX - 5,
        ];
        for sobol in sets() {
            let d = sobol.dims();
            for start in starts {
                let mut points = sobol.points(start);
                let (mut x, mut u) = (vec![0u64; d], vec![0.0; d]);
                let mut y = vec![0.0; d];
                for i in 0..300u64 {
                    let n = start.wrapping_add(i);
                    assert_eq!(points.index(), n);
                    if i % 2 == 0 {
                        points.next_bits(&mut x);
                        assert_eq!(x, bits(&sobol, n), "{sobol:?}, point {n:#x}");
                    } else {
                        points.next_unit(&mut u);
                        sobol.point(n, &mut y);
                        assert_eq!(u, y, "{sobol:?}, point {n:#x}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_walk_wraps_from_the_last_index_to_the_first() {
        for sobol in sets() {
            let mut points = sobol.points(u64::MAX);
            let mut x = vec![0; sobol.dims()];
            points.next_bits(&mut x);
            assert_eq!(x, bits(&sobol, u64::MAX));
            assert_eq!(points.index(), 0);
            points.next_bits(&mut x);
            assert_eq!(x, bits(&sobol, 0));
        }
    }

    /// The promise a chunked run relies on: cutting an index range anywhere, and
    /// reading the pieces in any order, gives the same points at the same indices.
    #[test]
    fn any_chunk_split_reads_the_same_points() {
        let sobol = Sobol::scrambled(12, 7, 1).unwrap();
        let whole = {
            let mut out = vec![0.0; 12 * 3000];
            sobol.points(0).fill_unit(&mut out);
            out
        };
        let mut rng = stream(11, Family::Chunk, 0);
        for _ in 0..20 {
            let mut cuts: Vec<usize> = (0..5).map(|_| rng.random_range(0..3000)).collect();
            cuts.extend([0, 3000]);
            cuts.sort();
            // Pieces in reverse order, as a slow first worker would leave them.
            let mut pieces = vec![0.0; 12 * 3000];
            for w in cuts.windows(2).rev() {
                let (a, b) = (w[0], w[1]);
                sobol
                    .points(a as u64)
                    .fill_unit(&mut pieces[12 * a..12 * b]);
            }
            assert_eq!(whole, pieces);
        }
        let mut points = sobol.points(10);
        points.skip(1234);
        let mut u = vec![0.0; 12];
        points.next_unit(&mut u);
        assert_eq!(u, whole[12 * 1244..12 * 1245]);
    }

    #[test]
    fn dimensions_out_of_range_are_refused() {
        for dims in [0, D_MAX + 1] {
            assert_eq!(
                Sobol::new(dims).unwrap_err(),
                QmcError::DimensionsOutOfRange { dims, max: D_MAX }
            );
            assert!(Sobol::scrambled(dims, 1, 1).is_err());
        }
        assert_eq!(Sobol::scrambled(D_MAX, 1, 1).unwrap().dims(), D_MAX);
    }

    // ------------------------------------------------------------- randomization

    /// Pins `sobol-jk21201/lms-shift-v1`: seed 42, replicates 0 and 3, the first four
    /// dimensions at a few indices, computed in Python by `generate.py reference`
    /// (its own xoshiro256++, checked against the pins of `stream.rs`, and its own
    /// scramble). If this fails, the derivation changed: give it a new name.
    #[test]
    fn pinned_scrambled_points() {
        assert_eq!(super::super::RQMC_DERIVATION, "sobol-jk21201/lms-shift-v1");
        const PINNED: [(u64, u64, [u64; 4]); 10] = [
            (
                0,
                0x0,
                [
                    0x8da410794aad21f7,
                    0x523aae12b8818c7d,
                    0x74ea78688ca7c6b9,
                    0x36998202f9133f29,
                ],
            ),
            (
                0,
                0x1,
                [
                    0x571f3edaeae86a1f,
                    0xd6e8c07ba9eaf5e0,
                    0xd434e75e4b9c8865,
                    0xc2087806de14bcfe,
                ],
            ),
            (
                0,
                0x2,
                [
                    0x2c5166cb0b391946,
                    0x258c9001d88731a0,
                    0x331ce9f2f669150a,
                    0x4f46e08d0aef4cef,
                ],
            ),
            (
                0,
                0x3e8,
                [
                    0xa7878d48d526c649,
                    0x40fb854bfd0d2714,
                    0xd35a5ea3ae34f412,
                    0xf1cd8cd99da0a05a,
                ],
            ),
            (
                0,
                0xffffffffffffffff,
                [
                    0x8da410794aad21f6,
                    0x983ca3c78cef775f,
                    0xc6447faf46384d4a,
                    0xd1c8cfa8eda912e7,
                ],
            ),
            (
                3,
                0x0,
                [
                    0x4fee3e48afb07390,
                    0x2e281bb9f09e76cc,
                    0x8c492e4ab1d1931b,
                    0x27831002cf41f959,
                ],
            ),
            (
                3,
                0x1,
                [
                    0xe59ff0efec48cb22,
                    0xf1db7b7d34441310,
                    0x106ed87d6dcf4abd,
                    0xbaabd33d739de02b,
                ],
            ),
            (
                3,
                0x2,
                [
                    0xafd75f8393fc38d1,
                    0x59caac2f415de3ff,
                    0xda27433e6688d683,
                    0x5bef63db366c7a60,
                ],
            ),
            (
                3,
                0x3e8,
                [
                    0x6357a5616d95e09f,
                    0x3fd25c4faecd56eb,
                    0x147a7703cc3f36db,
                    0x91408a23fc8d6558,
                ],
            ),
            (
                3,
                0xffffffffffffffff,
                [
                    0x4fee3e48afb07391,
                    0xa687820970132743,
                    0x07b2d02bf2d05084,
                    0xa6d210d155542ceb,
                ],
            ),
        ];
        for (replicate, n, x) in PINNED {
            // Also checks that the first coordinates do not depend on the dimension count.
            for dims in [4, 300] {
                let sobol = Sobol::scrambled(dims, 42, replicate).unwrap();
                assert_eq!(
                    bits(&sobol, n)[..4],
                    x,
                    "replicate {replicate}, point {n:#x}"
                );
            }
        }
    }

    #[test]
    fn replicates_and_seeds_differ_and_repeat() {
        let first = |seed, replicate| {
            let sobol = Sobol::scrambled(16, seed, replicate).unwrap();
            let mut out = vec![0u64; 16 * 8];
            let mut points = sobol.points(0);
            for p in out.chunks_exact_mut(16) {
                points.next_bits(p);
            }
            out
        };
        let a = first(42, 0);
        assert_eq!(a, first(42, 0));
        for other in [first(42, 1), first(42, 2), first(43, 0), first(0, 0)] {
            // Every coordinate differs (equal 64-bit words by chance: 2^-64 each).
            assert!(a.iter().zip(&other).all(|(x, y)| x != y));
        }
        assert_eq!(
            Sobol::scrambled(3, 42, 9).unwrap().randomization(),
            Randomization::Scrambled {
                seed: 42,
                replicate: 9
            }
        );
    }

    /// `(0, m, 1)`-nets: every aligned block of `2^m` points puts exactly one point in
    /// each interval `[k 2^-m, (k + 1) 2^-m)` of every coordinate, scrambled or not.
    #[test]
    fn one_dimensional_projections_are_nets() {
        let check = |sobol: &Sobol, start: u64, m: u32, dims: &[usize]| {
            let mut counts = vec![vec![0u32; 1 << m]; dims.len()];
            let mut points = sobol.points(start);
            let mut u = vec![0.0; sobol.dims()];
            for _ in 0..1u64 << m {
                points.next_unit(&mut u);
                for (c, &j) in counts.iter_mut().zip(dims) {
                    c[(u[j] * (1u64 << m) as f64) as usize] += 1;
                }
            }
            for (c, &j) in counts.iter().zip(dims) {
                assert!(
                    c.iter().all(|&k| k == 1),
                    "{sobol:?}: dimension {j}, block {start} + 2^{m}"
                );
            }
        };
        let all: Vec<usize> = (0..D_MAX).collect();
        let some = [0, 1, 2, 3, 10, 251, 700, 1023];
        for sobol in [
            Sobol::new(D_MAX).unwrap(),
            Sobol::scrambled(D_MAX, 42, 0).unwrap(),
            Sobol::scrambled(D_MAX, 7, 3).unwrap(),
        ] {
            check(&sobol, 0, 10, &all);
            for m in [0, 1, 5, 13] {
                for start in [0, 3 << m, ((1u64 << 40) + 5) << m] {
                    check(&sobol, start, m, &some);
                }
            }
        }
    }

    /// The `t` of the `(t, m, 2)`-net formed by points `start..start + 2^m` of two
    /// coordinates: the least `t` for which every dyadic box of area `2^(t - m)` holds
    /// `2^t` points.
    fn t_value(sobol: &Sobol, start: u64, m: u32, (i, j): (usize, usize)) -> u32 {
        let mut points = sobol.points(start);
        let mut x = vec![0u64; sobol.dims()];
        let pairs: Vec<(u64, u64)> = (0..1u64 << m)
            .map(|_| {
                points.next_bits(&mut x);
                (x[i], x[j])
            })
            .collect();
        (0..=m)
            .find(|&t| {
                (0..=m - t).all(|a| {
                    let b = m - t - a;
                    let mut counts = vec![0u32; 1 << (m - t)];
                    for &(x, y) in &pairs {
                        // a leading digits of x, b of y (a shift by 64 is no digits).
                        let hx = x.checked_shr(64 - a).unwrap_or(0);
                        let hy = y.checked_shr(64 - b).unwrap_or(0);
                        counts[((hx << b) | hy) as usize] += 1;
                    }
                    counts.iter().all(|&c| c == 1 << t)
                })
            })
            .expect("t = m always holds")
    }

    /// Two-dimensional projections keep the `t` of the plain sequence under every
    /// scramble: the linear scramble preserves the net, the shift moves it bodily.
    #[test]
    fn two_dimensional_projections_keep_their_t() {
        let plain = Sobol::new(D_MAX).unwrap();
        let scrambled = [
            Sobol::scrambled(D_MAX, 42, 0).unwrap(),
            Sobol::scrambled(D_MAX, 42, 1).unwrap(),
            Sobol::scrambled(D_MAX, 1, 0).unwrap(),
        ];
        let pairs = [
            (0, 1),
            (1, 2),
            (2, 3),
            (0, 5),
            (3, 9),
            (250, 251),
            (100, 900),
            (1022, 1023),
        ];
        let mut ts = Vec::new();
        for pair in pairs {
            for m in [4, 8, 11] {
                for start in [0, 7u64 << m] {
                    let t = t_value(&plain, start, m, pair);
                    ts.push(t);
                    for s in &scrambled {
                        assert_eq!(t_value(s, start, m, pair), t, "{s:?} {pair:?} 2^{m}");
                    }
                }
            }
        }
        // The first two dimensions form a (0, m, 2)-net, and later pairs are worse:
        // the test does look at nets with t > 0.
        assert_eq!(t_value(&plain, 0, 11, (0, 1)), 0);
        assert!(ts.iter().any(|&t| t >= 2), "{ts:?}");
    }
}
