//! Exact, order-free sums of block statistics: merging that any grouping, order or
//! reduction tree leaves bit for bit the same.
//!
//! # The contract
//! An [`ExactSums`] holds, for samples with `dim` columns, the count `n` and the sums
//! `S_i = sum x_i` and `S_ij = sum x_i x_j` (`i <= j`), each an exact fixed-point
//! number: an integer times a power of two, with as many bits as it needs.
//! - **Exact.** [`add_block`](ExactSums::add_block) takes a block's floating-point
//!   statistics (its count, its shift `c` (any values; the blocks of carlo shift by
//!   their first sample), `sum_i = sum (x_i - c_i)` and `cross_ij = sum (x_i - c_i)(x_j
//!   - c_j)`, doubles in whatever fixed order the block computed them) and adds
//!   `n c_i + sum_i` to `S_i` and `n c_i c_j + c_i sum_j + c_j sum_i + cross_ij` to
//!   `S_ij` with no rounding at all: every product is the exact integer product of
//!   the doubles' significands (53 x 53 bits, times the count's 64), at its exact
//!   binary exponent. Nothing underflows: a product of subnormals (down to `2^-2148`)
//!   is kept as exactly as any other, unlike an FMA two-product, whose low part is
//!   rounded once it falls below `2^-1022`.
//! - **Order-free.** [`merge`](ExactSums::merge) is integer addition, associative and
//!   commutative, and the state is compared ([`PartialEq`]), encoded
//!   ([`to_words`](ExactSums::to_words)) and hashed ([`digest`](ExactSums::digest)) in a
//!   canonical form that depends on the values alone. So any grouping of blocks into
//!   chunks, any merge order and any reduction tree give the same state, the same
//!   words and the same [`moments`](ExactSums::moments), bit for bit.
//! - **Rounded once.** [`moments`](ExactSums::moments) gives each column's mean
//!   `S_i / n` and co-moment `(n S_ij - S_i S_j) / n` (Welford's M2 when `i == j`)
//!   correctly rounded: the double nearest the exact rational, ties to even, with
//!   gradual underflow (a co-moment beyond the double range is an infinity; a mean
//!   never is).
//!
//! # Accuracy
//! Given the blocks, each mean and co-moment is within half an ulp of its exact value.
//! Against the true samples, the only errors left are the blocks' own floating-point
//! sums (a block's few thousand samples, summed shifted, so the cancellation in
//! `n S_ii - S_i^2` never sees a large mean), and they do not grow with the number of
//! blocks or the shape of the merge: a pairwise (Chan et al.) merge rounds the mean and
//! the co-moments again at every merge, and loses the low bits of a tiny variance
//! under a large mean (tests/exact_accuracy.rs measures both in ulps).
//!
//! # Size
//! Each sum is a window of 64-bit limbs covering only the bits in use (plus an 8-byte
//! header in memory, one header word encoded), growing when a term or a carry needs
//! more: never a dense accumulator over every double's products (275 bytes a sum).
//! On option prices (1 to 100) and Greeks (1e-3 to 1e2) in blocks of 4096, a sum takes
//! about 31 bytes encoded (2 limbs for `S_i`, 3 for `S_ij`, and the header), so a
//! state of `d` columns about `31 (d + d (d + 1) / 2)` bytes: 72 for 1 column, 280 for
//! 3, 1,360 for 8 and 642 KB for 200 (twice a dense `Moments`, which holds `d^2`
//! floats), about 5% more in memory. The length of a run barely matters: a sum gains
//! a top limb per factor 2^64 of growth (a state of 2^20 times the samples measured no
//! larger). `cargo bench --bench exact` prints the figures. The encoding
//! (`stats::codec`) is
//! `[count, dim]`, then each sum's canonical window: see
//! [`to_words`](ExactSums::to_words).
//!
//! # Cost
//! Adding a block of 3 columns is about 30 exact additions of a few limbs: 430 to 530
//! ns of one core, 450 to 560 ns a block with a merge per chunk of 16 blocks, 850 to
//! 900 ns with a merge per block; a merge of two states of 3 columns about 100 ns
//! (thread CPU time, printed by the bench). [`moments`](ExactSums::moments) is
//! big-integer work: 4 to 8 us for 3 columns, about 27 ms for 200 (20,100 co-moments):
//! for decision points, not per block.

mod fixed;
mod round;

use num_bigint::BigInt;

use super::Moments;
pub(crate) use fixed::{END_LIMB, MIN_LIMB};

/// Exact, order-free sums of samples with `dim` columns: the count, `sum x_i` and
/// `sum x_i x_j` (`i <= j`), each an exact fixed-point number. See the [module
/// documentation](self) for the contract.
///
/// The empty state ([`new`](Self::new)) is the identity of [`merge`](Self::merge).
///
/// ```
/// use carlo::stats::ExactSums;
///
/// // Two blocks of one column: {1, 2, 3} (shifted by 1) and {10, 20} (shifted by 10).
/// let mut a = ExactSums::new(1);
/// a.add_block(3, &[1.0], &[0.0 + 1.0 + 2.0], &[0.0 + 1.0 + 4.0]);
/// let mut b = ExactSums::new(1);
/// b.add_block(2, &[10.0], &[10.0], &[100.0]);
///
/// let mut ab = a.clone();
/// ab.merge(&b);
/// let mut ba = b.clone();
/// ba.merge(&a);
/// assert_eq!(ab, ba);
/// assert_eq!(ab.to_words(), ba.to_words());
///
/// let m = ab.moments();
/// assert_eq!(m.count, 5);
/// assert_eq!(m.mean[0], 36.0 / 5.0);
/// assert_eq!(m.comoment[0], 254.8); // 514 - 36^2 / 5, rounded once
/// ```
#[derive(Clone, Debug)]
pub struct ExactSums {
    dim: usize,
    count: u64,
    /// `S_0 .. S_{dim-1}`, then `S_ij` for `i <= j`, row-major (as
    /// [`cross_index`](Self::cross_index), offset by `dim`).
    sums: fixed::Arena,
}

impl ExactSums {
    /// No samples, `dim` columns.
    pub fn new(dim: usize) -> Self {
        ExactSums {
            dim,
            count: 0,
            sums: fixed::Arena::new(dim + Self::cross_len(dim)),
        }
    }

    /// Number of columns.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of samples.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Length of a block's `cross` for `dim` columns: the upper triangle, `dim (dim +
    /// 1) / 2`.
    pub fn cross_len(dim: usize) -> usize {
        dim * (dim + 1) / 2
    }

    /// Where `(i, j)`, `i <= j < dim`, is in a block's `cross`: the upper triangle row
    /// by row, `(0, 0), (0, 1) .. (0, dim - 1), (1, 1) ..`.
    pub fn cross_index(dim: usize, i: usize, j: usize) -> usize {
        debug_assert!(i <= j && j < dim, "({i}, {j}) is not in the upper triangle");
        i * (2 * dim - i + 1) / 2 + (j - i)
    }

    /// Adds a block computed in floating point: `count` samples shifted by `shift`,
    /// `sum[i] = sum (x_i - shift_i)` and `cross[cross_index(dim, i, j)] = sum (x_i -
    /// shift_i)(x_j - shift_j)` for `i <= j`. Exactly: `S_i += n c_i + sum_i` and `S_ij
    /// += n c_i c_j + c_i sum_j + c_j sum_i + cross_ij`, with exact products, so the
    /// state is the same whatever order the blocks come in. Any shift is exact; one
    /// near the block's samples (its first sample) keeps the block's own sums
    /// accurate. A block of no samples adds nothing (its sums must be zero).
    ///
    /// # Panics
    /// If the slices do not have `dim`, `dim` and `cross_len(dim)` values, if a value
    /// is a NaN or an infinity (a chunk with a non-finite sample is an error before
    /// its statistics are merged), or past 2^64 samples in all.
    pub fn add_block(&mut self, count: u64, shift: &[f64], sum: &[f64], cross: &[f64]) {
        let d = self.dim;
        assert!(
            shift.len() == d && sum.len() == d && cross.len() == Self::cross_len(d),
            "a block of {}, {} and {} values for {d} columns",
            shift.len(),
            sum.len(),
            cross.len()
        );
        assert!(
            shift.iter().chain(sum).chain(cross).all(|x| x.is_finite()),
            "a block with a NaN or an infinity cannot be summed exactly"
        );
        if count == 0 {
            debug_assert!(sum.iter().chain(cross).all(|&x| x == 0.0));
            return;
        }
        self.count = self
            .count
            .checked_add(count)
            .expect("more than 2^64 samples");
        for i in 0..d {
            let (c, s) = (Split::of(shift[i]), Split::of(sum[i]));
            self.sums.add_scaled(i, c.neg, wide(c.m, count), c.e);
            self.sums.add_scaled(i, s.neg, [s.m, 0, 0], s.e);
        }
        let mut k = 0;
        for i in 0..d {
            let (ci, si) = (Split::of(shift[i]), Split::of(sum[i]));
            for j in i..d {
                let (cj, sj) = (Split::of(shift[j]), Split::of(sum[j]));
                let x = Split::of(cross[k]);
                let slot = d + k;
                let cc = u128::from(ci.m) * u128::from(cj.m);
                self.sums
                    .add_scaled(slot, ci.neg ^ cj.neg, times(cc, count), ci.e + cj.e);
                self.sums
                    .add_scaled(slot, ci.neg ^ sj.neg, wide(ci.m, sj.m), ci.e + sj.e);
                self.sums
                    .add_scaled(slot, cj.neg ^ si.neg, wide(cj.m, si.m), cj.e + si.e);
                self.sums.add_scaled(slot, x.neg, [x.m, 0, 0], x.e);
                k += 1;
            }
        }
    }

    /// Adds one sample (a block of one, shifted by itself).
    ///
    /// # Panics
    /// As [`add_block`](Self::add_block).
    pub fn add_sample(&mut self, x: &[f64]) {
        let zeros = vec![0.0; self.dim + Self::cross_len(self.dim)];
        let (sum, cross) = zeros.split_at(self.dim);
        self.add_block(1, x, sum, cross);
    }

    /// Adds the samples summarised by `other`: integer addition, so any grouping,
    /// order or tree of merges gives the same state, bit for bit.
    ///
    /// # Panics
    /// If the dimensions differ, which is a bug in the caller, or past 2^64 samples.
    pub fn merge(&mut self, other: &ExactSums) {
        assert_eq!(
            self.dim, other.dim,
            "merging exact sums of different shapes"
        );
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            self.clone_from(other);
            return;
        }
        self.count = self
            .count
            .checked_add(other.count)
            .expect("more than 2^64 samples");
        for k in 0..self.sums.len() {
            self.sums.add_from(k, &other.sums, k);
        }
    }

    /// The count, each column's mean and the co-moments `sum (x_i - mean_i)(x_j -
    /// mean_j)` (row-major, symmetric), as [`Moments`]: `mean_i = S_i / n` and
    /// `comoment_ij = (n S_ij - S_i S_j) / n`, each correctly rounded (to nearest, ties
    /// to even) from the exact sums. Big-integer work: microseconds for a few columns,
    /// about `dim^2 / 2` products and divisions for more, so call it at decision
    /// points, not per block.
    pub fn moments(&self) -> Moments {
        let d = self.dim;
        let mut m = Moments::empty(d);
        m.count = self.count;
        if self.count == 0 {
            return m;
        }
        let n = self.count;
        let s: Vec<(BigInt, i64)> = (0..d).map(|i| self.big(i)).collect();
        for (mean, (si, e)) in m.mean.iter_mut().zip(&s) {
            *mean = round::quotient(si, *e, n);
        }
        let mut k = d;
        for i in 0..d {
            for j in i..d {
                // n S_ij - S_i S_j, both at the finer of their scales.
                let (sij, e_ij) = self.big(k);
                let a = sij * n;
                let b = &s[i].0 * &s[j].0;
                let e_b = s[i].1 + s[j].1;
                let e = e_ij.min(e_b);
                let num = (a << (e_ij - e) as usize) - (b << (e_b - e) as usize);
                let c = round::quotient(&num, e, n);
                m.comoment[i * d + j] = c;
                m.comoment[j * d + i] = c;
                k += 1;
            }
        }
        m
    }

    /// Checks a state received or read back against what the reader knows: that it
    /// has `dim` columns (so it can be merged), and, with `plausible`, that it could
    /// come from real blocks ([`implausible`](Self::implausible)), as
    /// [`Moments::check`] does for Welford statistics.
    pub fn check(&self, dim: usize, plausible: bool) -> Result<(), String> {
        if self.dim != dim {
            return Err(format!(
                "exact statistics of {} columns where the model has {dim}",
                self.dim
            ));
        }
        match self.implausible() {
            Some(reason) if plausible => Err(reason),
            _ => Ok(()),
        }
    }

    /// Why this state cannot come from blocks of finite samples, if it cannot: a sum
    /// larger than `n` blocks of finite doubles can make (`|S_i| < n 2^1025`, `|S_ij| <
    /// n 2^2050`), a negative sum of squares `S_ii`, or a negative sum of squared
    /// deviations (`n S_ii < S_i^2`). Files read back are checked so, and an edited or
    /// damaged one is refused instead of merged. (Decoding has already refused any
    /// encoding that is not the canonical one of some state.)
    pub fn implausible(&self) -> Option<String> {
        let n = self.count;
        let count_bits = i64::from(64 - n.leading_zeros());
        for k in 0..self.sums.len() {
            let (s, e) = self.big(k);
            if n == 0 && s.bits() > 0 {
                return Some("exact statistics of no samples whose sums are not zero".into());
            }
            // |s 2^e| < 2^(bits + e) must stay below n 2^bound <= 2^(count_bits + bound).
            let bound = if k < self.dim { 1025 } else { 2050 };
            if s.bits() > 0 && s.bits() as i64 + e > count_bits + bound {
                return Some(format!(
                    "an exact sum larger than {n} samples of finite values can make"
                ));
            }
        }
        for i in 0..self.dim {
            let (si, ei) = self.big(i);
            let (sii, eii) = self.big(self.dim + Self::cross_index(self.dim, i, i));
            if sii.sign() == num_bigint::Sign::Minus {
                return Some(format!("column {i}'s sum of squares is negative"));
            }
            let e = eii.min(2 * ei);
            let spread = ((sii * n) << (eii - e) as usize) - ((&si * &si) << (2 * ei - e) as usize);
            if spread.sign() == num_bigint::Sign::Minus {
                return Some(format!(
                    "column {i}'s sum of squared deviations is negative"
                ));
            }
        }
        None
    }

    /// Frees what the state holds beyond its values: limbs left behind by sums that
    /// grew, redundant limbs of sums whose bits cancelled, spare capacity. For a state
    /// kept long (a checkpoint's prefix, a finished chunk waiting for its interval).
    pub fn shrink_to_fit(&mut self) {
        self.sums.compact(true);
    }

    /// Bytes this state holds in memory: its own size and its heap allocations.
    pub fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.sums.heap_bytes()
    }

    /// Bytes this state's sums use in memory, spare capacity left out: an 8-byte
    /// header and the limbs of each sum's window (transient limbs included).
    pub fn used_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.sums.used_bytes()
    }

    /// The state's canonical words (carlo's one codec of statistics): `[count, dim]`,
    /// then per sum
    /// (`S_0 ..`, then `S_ij` in [`cross_index`](Self::cross_index) order) a header
    /// (low 32 bits: the limb weight `lo` as a signed integer; high 32 bits: the
    /// number of limbs) and its two's-complement limbs, least significant first.
    /// Equal states have equal words.
    pub fn to_words(&self) -> Vec<u64> {
        let mut words = Vec::new();
        super::codec::exact_to_words(self, &mut words);
        words
    }

    /// Reads [`to_words`](Self::to_words)' words; refuses (never panics on) any
    /// that are not the canonical encoding of a state, naming what is wrong.
    pub fn from_words(words: &[u64]) -> Result<Self, String> {
        super::codec::exact_from_words(words)
    }

    /// The words as text: 16 lowercase hex digits a word.
    pub fn to_hex(&self) -> String {
        super::codec::exact_to_hex(self)
    }

    /// Reads what [`to_hex`](Self::to_hex) wrote.
    pub fn from_hex(text: &str) -> Result<Self, String> {
        super::codec::exact_from_hex(text)
    }

    /// A 64-bit digest of the state: the first 8 bytes, as a little-endian integer, of
    /// the SHA-256 of its words, each as its 8 little-endian bytes (as
    /// [`Moments::digest`]). A function of the values alone, so of no merge order.
    pub fn digest(&self) -> u64 {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        for w in self.to_words() {
            hasher.update(w.to_le_bytes());
        }
        let hash = hasher.finalize();
        u64::from_le_bytes(hash[..8].try_into().expect("SHA-256 has 32 bytes"))
    }

    /// Number of sums: `dim + cross_len(dim)`.
    pub(crate) fn sums_len(&self) -> usize {
        self.sums.len()
    }

    /// Sum `k` in canonical form: the weight `2^(64 lo)` of its lowest limb and its
    /// limbs (none for zero, with `lo == 0`).
    pub(crate) fn canonical(&self, k: usize) -> (i32, &[u64]) {
        self.sums.canonical(k)
    }

    /// A state from decoded parts, each sum's window checked canonical by the caller.
    pub(crate) fn from_parts<'a>(
        dim: usize,
        count: u64,
        windows: impl IntoIterator<Item = (i32, &'a [u64])>,
    ) -> Self {
        let mut state = ExactSums::new(dim);
        state.count = count;
        for (k, (lo, limbs)) in windows.into_iter().enumerate() {
            state.sums.set(k, lo, limbs);
        }
        state
    }

    /// Sum `k` as a big integer and the power of two it is scaled by.
    fn big(&self, k: usize) -> (BigInt, i64) {
        let (lo, limbs) = self.sums.canonical(k);
        let bytes: Vec<u8> = limbs.iter().flat_map(|l| l.to_le_bytes()).collect();
        (BigInt::from_signed_bytes_le(&bytes), 64 * i64::from(lo))
    }
}

impl PartialEq for ExactSums {
    /// Equal counts and sums (whatever spare limbs either holds in memory).
    fn eq(&self, other: &Self) -> bool {
        self.dim == other.dim
            && self.count == other.count
            && (0..self.sums.len()).all(|k| self.sums.canonical(k) == other.sums.canonical(k))
    }
}

impl Eq for ExactSums {}

/// A finite double as `(-1)^neg * m * 2^e`, exactly (`m < 2^53`).
#[derive(Clone, Copy)]
struct Split {
    neg: bool,
    m: u64,
    e: i32,
}

impl Split {
    #[inline(always)]
    fn of(x: f64) -> Self {
        let bits = x.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as i32;
        let frac = bits & ((1 << 52) - 1);
        let (m, e) = if biased == 0 {
            (frac, -1074)
        } else {
            (frac | 1 << 52, biased - 1075)
        };
        Split {
            neg: bits >> 63 == 1,
            m,
            e,
        }
    }
}

/// `a * b` as three limbs.
#[inline(always)]
fn wide(a: u64, b: u64) -> [u64; 3] {
    let p = u128::from(a) * u128::from(b);
    [p as u64, (p >> 64) as u64, 0]
}

/// `p * n` as three limbs, for `p < 2^106` (a product of two significands).
#[inline(always)]
fn times(p: u128, n: u64) -> [u64; 3] {
    let lo = u128::from(p as u64) * u128::from(n);
    let hi = u128::from((p >> 64) as u64) * u128::from(n);
    let mid = (lo >> 64) + u128::from(hi as u64);
    [lo as u64, mid as u64, ((mid >> 64) + (hi >> 64)) as u64]
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_rational::BigRational;
    use proptest::prelude::*;

    /// A block as the test hands it over.
    #[derive(Clone, Debug)]
    struct Block {
        count: u64,
        shift: Vec<f64>,
        sum: Vec<f64>,
        cross: Vec<f64>,
    }

    fn add(s: &mut ExactSums, b: &Block) {
        s.add_block(b.count, &b.shift, &b.sum, &b.cross);
    }

    /// Finite doubles of every kind: everyday values, integers, zeros, tiny and
    /// subnormal ones, and any bit pattern that is finite (all binades, both signs).
    fn value() -> impl Strategy<Value = f64> {
        prop_oneof![
            -100.0..100.0f64,
            (-1000i32..1000).prop_map(f64::from),
            Just(0.0),
            Just(-0.0),
            (any::<bool>(), 1u64..1 << 52).prop_map(|(neg, m)| {
                let x = f64::from_bits(m);
                if neg { -x } else { x }
            }),
            any::<u64>()
                .prop_map(f64::from_bits)
                .prop_filter("finite", |x| x.is_finite()),
        ]
    }

    fn blocks() -> impl Strategy<Value = (usize, Vec<Block>)> {
        (1usize..4).prop_flat_map(|d| {
            let block = (
                prop_oneof![1u64..10, 1u64..5000, Just(4096), 1u64 << 20..1u64 << 56],
                prop::collection::vec(value(), d),
                prop::collection::vec(value(), d),
                prop::collection::vec(value(), ExactSums::cross_len(d)),
            )
                .prop_map(|(count, shift, sum, cross)| Block {
                    count,
                    shift,
                    sum,
                    cross,
                });
            (Just(d), prop::collection::vec(block, 1..12))
        })
    }

    /// `x` as an integer in units of `2^(64 MIN_LIMB)` (exact for every finite double
    /// and product of two), from its own decomposition of the bits.
    fn units(x: f64) -> BigInt {
        let (m, e) = x.abs().to_bits().pipe(|b| {
            let biased = (b >> 52) as i64;
            let frac = b & ((1 << 52) - 1);
            if biased == 0 {
                (frac, -1074)
            } else {
                (frac + (1 << 52), biased - 1075)
            }
        });
        let v = BigInt::from(m) << (e - 64 * i64::from(MIN_LIMB)) as usize;
        if x < 0.0 { -v } else { v }
    }

    trait Pipe: Sized {
        fn pipe<T>(self, f: impl FnOnce(Self) -> T) -> T {
            f(self)
        }
    }
    impl Pipe for u64 {}

    /// The exact sums of the blocks, computed with big integers alone: `S_i` in units
    /// of `2^(64 MIN_LIMB)`, `S_ij` in units of `2^(128 MIN_LIMB)`.
    fn reference(d: usize, blocks: &[Block]) -> (u64, Vec<BigInt>) {
        let mut s = vec![BigInt::from(0); d + ExactSums::cross_len(d)];
        let mut n = 0;
        let unit = BigInt::from(1) << (-64 * MIN_LIMB) as usize;
        for b in blocks {
            n += b.count;
            for (i, s) in s.iter_mut().enumerate().take(d) {
                *s += units(b.shift[i]) * b.count + units(b.sum[i]);
            }
            for i in 0..d {
                for j in i..d {
                    let k = ExactSums::cross_index(d, i, j);
                    s[d + k] += units(b.shift[i]) * units(b.shift[j]) * b.count
                        + units(b.shift[i]) * units(b.sum[j])
                        + units(b.shift[j]) * units(b.sum[i])
                        + units(b.cross[k]) * &unit;
                }
            }
        }
        (n, s)
    }

    /// A state's sum `k` in the reference's units.
    fn in_units(s: &ExactSums, k: usize) -> BigInt {
        let (v, e) = s.big(k);
        let unit = if k < s.dim() { 1 } else { 2 } * 64 * i64::from(MIN_LIMB);
        v << (e - unit) as usize
    }

    /// Bits of everything a reader sees.
    fn bits(m: &Moments) -> Vec<u64> {
        m.mean
            .iter()
            .chain(&m.comoment)
            .map(|x| x.to_bits())
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// The state is the exact sums (computed independently with big integers),
        /// and its moments are those sums' mean and co-moments correctly rounded
        /// (checked against both neighbours with rationals).
        #[test]
        fn sums_are_exact_and_moments_rounded_once((d, blocks) in blocks()) {
            let mut s = ExactSums::new(d);
            for b in &blocks {
                add(&mut s, b);
            }
            let (n, want) = reference(d, &blocks);
            prop_assert_eq!(s.count(), n);
            for (k, w) in want.iter().enumerate() {
                prop_assert_eq!(&in_units(&s, k), w, "sum {}", k);
            }
            let m = s.moments();
            let unit = |k: i64| BigRational::new(1.into(), BigInt::from(1) << (-k * 64 * i64::from(MIN_LIMB)) as usize);
            let si = |i: usize| BigRational::from_integer(want[i].clone()) * unit(1);
            let n_q = BigRational::from_integer(n.into());
            for i in 0..d {
                let mean = si(i) / &n_q;
                prop_assert!(round::tests::is_correctly_rounded(m.mean[i], &mean),
                    "mean {} = {:e}", i, m.mean[i]);
                for j in i..d {
                    let sij = BigRational::from_integer(want[d + ExactSums::cross_index(d, i, j)].clone()) * unit(2);
                    let c = sij - si(i) * si(j) / &n_q;
                    for got in [m.comoment[i * d + j], m.comoment[j * d + i]] {
                        prop_assert!(round::tests::is_correctly_rounded(got, &c),
                            "comoment ({}, {}) = {:e}", i, j, got);
                    }
                }
            }
        }

        /// Blocks grouped into chunks at random, the chunks merged in a random tree:
        /// the same state, words, digest and moments, bit for bit, as adding the blocks
        /// one after another.
        #[test]
        fn any_grouping_order_and_tree_gives_the_same_bits(
            (d, blocks) in blocks(),
            order in prop::collection::vec(any::<u64>(), 12),
            cuts in prop::collection::vec(any::<bool>(), 12),
            picks in prop::collection::vec(any::<prop::sample::Index>(), 24),
        ) {
            let mut one = ExactSums::new(d);
            for b in &blocks {
                add(&mut one, b);
            }
            // a random permutation of the blocks, cut into random chunks
            let mut perm: Vec<usize> = (0..blocks.len()).collect();
            perm.sort_by_key(|&k| order[k]);
            let mut pool = vec![ExactSums::new(d)];
            for (t, &k) in perm.iter().enumerate() {
                if cuts[t] {
                    pool.push(ExactSums::new(d));
                }
                add(pool.last_mut().unwrap(), &blocks[k]);
            }
            // merge two random states of the pool until one is left
            let mut p = picks.iter().cycle();
            while pool.len() > 1 {
                let a = pool.swap_remove(p.next().unwrap().index(pool.len()));
                let b = p.next().unwrap().index(pool.len());
                pool[b].merge(&a);
            }
            let tree = pool.pop().unwrap();
            prop_assert_eq!(&tree, &one);
            prop_assert_eq!(tree.to_words(), one.to_words());
            prop_assert_eq!(tree.digest(), one.digest());
            prop_assert_eq!(bits(&tree.moments()), bits(&one.moments()));
            prop_assert_eq!(ExactSums::from_words(&tree.to_words()).unwrap(), one);
        }
    }

    #[test]
    fn cross_index_walks_the_upper_triangle_row_by_row() {
        for d in 1..12 {
            let mut k = 0;
            for i in 0..d {
                for j in i..d {
                    assert_eq!(ExactSums::cross_index(d, i, j), k);
                    k += 1;
                }
            }
            assert_eq!(k, ExactSums::cross_len(d));
        }
    }

    #[test]
    fn products_of_subnormals_are_exact() {
        // 3e-320 * 7e-321 is far below the smallest double: an FMA two-product would
        // lose it, the exact sums keep it.
        let (a, b) = (3e-320, -7e-321);
        let mut s = ExactSums::new(2);
        s.add_block(5, &[a, b], &[b, a], &[a, 0.0, b]);
        let blocks = [Block {
            count: 5,
            shift: vec![a, b],
            sum: vec![b, a],
            cross: vec![a, 0.0, b],
        }];
        let (_, want) = reference(2, &blocks);
        for (k, w) in want.iter().enumerate() {
            assert_eq!(&in_units(&s, k), w, "sum {k}");
        }
        assert!(want[2 + 1] != BigInt::from(0));
        let m = s.moments();
        assert_eq!(m.mean[0], (5.0 * a + b) / 5.0);
    }

    #[test]
    fn samples_give_the_correctly_rounded_moments_of_the_samples() {
        // Blocks of one sample are exact: the moments are those of the samples,
        // rounded once. 1e8 + k/10: mean 1e8 + 4.95, M2 sum of (k/10 - 4.95)^2.
        let mut s = ExactSums::new(1);
        let xs: Vec<f64> = (0..100).map(|k| 1e8 + f64::from(k) / 10.0).collect();
        for x in &xs {
            s.add_sample(&[*x]);
        }
        let exact_sum: BigRational = xs
            .iter()
            .map(|&x| BigRational::from_float(x).unwrap())
            .sum();
        let mean = exact_sum / BigRational::from_integer(100.into());
        let m2: BigRational = xs
            .iter()
            .map(|&x| {
                let dev = BigRational::from_float(x).unwrap() - &mean;
                &dev * &dev
            })
            .sum();
        let m = s.moments();
        assert!(round::tests::is_correctly_rounded(m.mean[0], &mean));
        assert!(round::tests::is_correctly_rounded(m.comoment[0], &m2));
    }

    #[test]
    fn empty_and_zero_count_blocks_change_nothing() {
        let mut s = ExactSums::new(2);
        assert_eq!(s.moments(), Moments::empty(2));
        s.add_block(0, &[5.0, 6.0], &[0.0, 0.0], &[0.0; 3]);
        assert_eq!(s, ExactSums::new(2));
        s.add_sample(&[1.0, 2.0]);
        let before = s.clone();
        s.merge(&ExactSums::new(2));
        assert_eq!(s, before);
        let mut e = ExactSums::new(2);
        e.merge(&before);
        assert_eq!(e, before);
    }

    #[test]
    #[should_panic(expected = "NaN or an infinity")]
    fn non_finite_blocks_are_refused() {
        ExactSums::new(1).add_block(1, &[f64::NAN], &[0.0], &[0.0]);
    }

    #[test]
    fn implausible_states_are_refused() {
        let mut s = ExactSums::new(2);
        s.add_sample(&[1.0, -2.0]);
        s.add_sample(&[3.0, 5.0]);
        assert_eq!(s.check(2, true), Ok(()));
        assert!(s.check(3, false).unwrap_err().contains("3"));
        // a block claiming a negative sum of squares, then one whose sum of squared
        // deviations is negative (n S_00 < S_0^2)
        let mut neg = ExactSums::new(1);
        neg.add_block(1, &[0.0], &[0.0], &[-1.0]);
        assert!(neg.implausible().unwrap().contains("sum of squares"));
        let mut spread = ExactSums::new(1);
        spread.add_block(2, &[0.0], &[4.0], &[1.0]);
        assert!(spread.implausible().unwrap().contains("squared deviations"));
        assert_eq!(spread.check(1, false), Ok(()));
        // a sum no single sample of finite values can make
        let huge = ExactSums::from_parts(1, 1, [(20, &[1u64][..]), (0, &[1u64][..])]);
        assert!(huge.implausible().unwrap().contains("larger"));
    }

    /// Realistic data keeps states small: prices of 1 to 100 and Greeks of 1e-3 to 1e2
    /// in blocks of 4096, a few limbs a sum (benches/exact.rs prints the figures).
    #[test]
    fn realistic_states_take_a_few_words_a_sum() {
        let dim = 8;
        let mut s = ExactSums::new(dim);
        let mut x = 0.5f64;
        for _ in 0..64 {
            let rows: Vec<Vec<f64>> = (0..4096)
                .map(|_| {
                    // a cheap deterministic sequence in (0, 1)
                    x = (x * 3.987_654_321 + 0.123_456_789).fract();
                    (0..dim)
                        .map(|j| (1.0 + 99.0 * x) * 10f64.powi(j as i32 - 5).max(1e-3))
                        .collect()
                })
                .collect();
            let d = dim;
            let shift = rows[0].clone();
            let mut sum = vec![0.0; d];
            let mut cross = vec![0.0; ExactSums::cross_len(d)];
            for r in &rows {
                let mut k = 0;
                for i in 0..d {
                    sum[i] += r[i] - shift[i];
                    for j in i..d {
                        cross[k] += (r[i] - shift[i]) * (r[j] - shift[j]);
                        k += 1;
                    }
                }
            }
            s.add_block(4096, &shift, &sum, &cross);
        }
        let sums = dim + ExactSums::cross_len(dim);
        let words = s.to_words().len();
        assert!(words <= 2 + 5 * sums, "{words} words for {sums} sums");
        assert!(s.used_bytes() <= 64 + 48 * sums, "{} bytes", s.used_bytes());
    }
}
