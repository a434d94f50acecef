//! Signed fixed-point integers of any width, kept as windows of 64-bit limbs in one
//! arena: the exact sums of [`super::ExactSums`].
//!
//! Hand-written rather than a big-integer crate, for size and speed: a state holds up to
//! ~20,000 sums (200 columns), each usually 2 to 4 limbs wide, so a heap allocation
//! (and a 24-byte vector header) per sum would cost more than the sum, and the hot path
//! (a block's terms, a chunk's merge) is a few limb additions with no allocation. The
//! arithmetic is tested against num-bigint below and in [`super`]'s tests.
//!
//! # Representation
//! Sum `k` is the two's-complement integer held in its window of limbs (least
//! significant first; the top limb's high bit is the sign), scaled by `2^(64 lo)`:
//! limb `p` of the window weighs `2^(64 (lo + p))`. A window covers the bits some term
//! added so far needed and grows (low limbs of zeros, high limbs of sign) when a term
//! reaches outside it. The windows of a state live one after another in `limbs`; a
//! window that must grow and is not the last one moves to the end, leaving stale
//! limbs behind, which a compaction reclaims once they are half the arena.
//!
//! In memory a value may carry redundant limbs (zeros below, sign extension above);
//! [`Arena::canonical`] strips them, so that equal values compare, encode and hash the
//! same whatever the terms or the order that made them.

/// The lowest limb index a sum can use: the exact product of two subnormal doubles
/// has its lowest bit at `2^-2148`, in limb -34 (`2^-2176 .. 2^-2113`).
pub(crate) const MIN_LIMB: i32 = -34;

/// One past the highest limb index a sum of valid blocks can use. A block adds at
/// most `n |c_i c_j| + |c_i sum_j| + |c_j sum_i| + |cross_ij| < 4 n 2^2048` to a
/// sum, so with fewer than 2^64 samples in all every sum is below `2^2114` in
/// magnitude: its sign bit is at most bit 2114, in limb 33.
pub(crate) const END_LIMB: i32 = 34;

/// Where sum `k`'s limbs are in the arena, and the weight of its lowest limb.
#[derive(Clone, Copy, Debug, Default)]
struct Window {
    start: u32,
    lo: i16,
    len: u16,
}

/// A fixed number of exact sums, all zero at first.
#[derive(Clone, Debug, Default)]
pub(crate) struct Arena {
    windows: Vec<Window>,
    limbs: Vec<u64>,
    /// Limbs of `limbs` that no window uses any more.
    stale: usize,
}

impl Arena {
    /// `n` sums, all zero.
    pub(crate) fn new(n: usize) -> Self {
        Arena {
            windows: vec![Window::default(); n],
            limbs: Vec::new(),
            stale: 0,
        }
    }

    /// Number of sums.
    pub(crate) fn len(&self) -> usize {
        self.windows.len()
    }

    /// Bytes held on the heap (capacities, so what the allocator really gave).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.windows.capacity() * std::mem::size_of::<Window>()
            + self.limbs.capacity() * std::mem::size_of::<u64>()
    }

    /// Bytes the sums take at least: one window header each and their limbs, stale
    /// ones included (what [`heap_bytes`](Self::heap_bytes) is without spare capacity).
    pub(crate) fn used_bytes(&self) -> usize {
        self.windows.len() * std::mem::size_of::<Window>() + self.limbs.len() * 8
    }

    /// Sum `k` in its shortest form: the weight of its lowest limb and its limbs,
    /// none of them redundant (the lowest limb is not zero; the top limb is not a mere
    /// sign extension of the one below). Zero is `(0, [])`.
    pub(crate) fn canonical(&self, k: usize) -> (i32, &[u64]) {
        let w = self.windows[k];
        let start = w.start as usize;
        let mut limbs = &self.limbs[start..start + usize::from(w.len)];
        let mut lo = i32::from(w.lo);
        while let [0, rest @ ..] = limbs {
            limbs = rest;
            lo += 1;
        }
        while let [.., below, top] = limbs
            && *top == sign_of(*below)
        {
            limbs = &limbs[..limbs.len() - 1];
        }
        if limbs.is_empty() {
            lo = 0;
        }
        (lo, limbs)
    }

    /// Replaces sum `k` (zero, as a fresh arena has it) by the integer of the given
    /// window: for decoding, which has checked the window.
    pub(crate) fn set(&mut self, k: usize, lo: i32, limbs: &[u64]) {
        debug_assert_eq!(self.windows[k].len, 0, "set on a sum in use");
        if limbs.is_empty() {
            return;
        }
        let start = self.limbs.len();
        self.limbs.extend_from_slice(limbs);
        self.windows[k] = Window {
            start: to_start(start),
            lo: to_lo(lo),
            len: to_len(limbs.len()),
        };
    }

    /// Adds `(-1)^neg * mag * 2^exp` to sum `k`, where `mag` is an unsigned integer of
    /// three limbs (least significant first) and `exp >= 64 * MIN_LIMB`.
    #[inline]
    pub(crate) fn add_scaled(&mut self, k: usize, neg: bool, mag: [u64; 3], exp: i32) {
        if mag == [0; 3] {
            return;
        }
        let pos = exp - 64 * MIN_LIMB;
        debug_assert!(pos >= 0, "exponent {exp} below the lowest limb");
        let (limb, bit) = (pos / 64 + MIN_LIMB, pos % 64);
        let mut t = [0u64; 4];
        if bit == 0 {
            t[..3].copy_from_slice(&mag);
        } else {
            t[0] = mag[0] << bit;
            t[1] = (mag[1] << bit) | (mag[0] >> (64 - bit));
            t[2] = (mag[2] << bit) | (mag[1] >> (64 - bit));
            t[3] = mag[2] >> (64 - bit);
        }
        // Only the limbs from the lowest to the highest nonzero one: a window grows
        // no further than the bits in use.
        let first = t.iter().position(|&x| x != 0).expect("mag is not zero");
        let last = t.iter().rposition(|&x| x != 0).expect("mag is not zero");
        let t = &mut t[first..=last];
        let ext = if neg {
            // two's complement: !t + 1, then all ones above
            let mut carry = true;
            for x in t.iter_mut() {
                let (v, c) = (!*x).overflowing_add(u64::from(carry));
                *x = v;
                carry = c;
            }
            u64::MAX
        } else {
            0
        };
        self.add(k, limb + first as i32, t, ext);
    }

    /// Adds the integer of another arena's sum `j` (any form) to sum `k`.
    #[inline]
    pub(crate) fn add_from(&mut self, k: usize, other: &Arena, j: usize) {
        let w = other.windows[j];
        if w.len == 0 {
            return;
        }
        let start = w.start as usize;
        let src = &other.limbs[start..start + usize::from(w.len)];
        let ext = sign_of(src[src.len() - 1]);
        self.add(k, i32::from(w.lo), src, ext);
    }

    /// Adds to sum `k` the integer whose limbs from weight `2^(64 src_lo)` up are
    /// `src`, then `ext` (0 or all ones) forever above.
    fn add(&mut self, k: usize, src_lo: i32, src: &[u64], ext: u64) {
        self.ensure(k, src_lo, src_lo + src.len() as i32);
        let w = self.windows[k];
        let start = w.start as usize;
        let win = &mut self.limbs[start..start + usize::from(w.len)];
        let top = win.len() - 1;
        let mut i = (src_lo - i32::from(w.lo)) as usize;
        let mut src = src.iter();
        let mut carry = false;
        while i < top {
            let s = match src.next() {
                Some(&s) => s,
                // Above the source only its extension is left, which changes nothing
                // once it is zero with no carry, or all ones with a carry (each limb
                // then gains 2^64: itself, carrying 1 on).
                None if (ext != 0) == carry => return,
                None => ext,
            };
            let (v, c1) = win[i].overflowing_add(s);
            let (v, c2) = v.overflowing_add(u64::from(carry));
            win[i] = v;
            carry = c1 | c2;
            i += 1;
        }
        // The top limb as a signed number, plus all the source has from there up.
        let s_top = match src.next() {
            Some(&s) => i128::from(s) + (i128::from(ext as i64) << 64),
            None => i128::from(ext as i64),
        };
        let r = i128::from(win[top] as i64) + s_top + i128::from(carry);
        win[top] = r as u64;
        if r != i128::from(r as i64) {
            // The sum outgrew its top limb: one more limb holds the rest.
            self.push_top(k, (r >> 64) as u64);
        }
    }

    /// Widens sum `k` by one limb on top, holding `limb`.
    #[cold]
    fn push_top(&mut self, k: usize, limb: u64) {
        let w = self.windows[k];
        let hi = i32::from(w.lo) + i32::from(w.len);
        self.ensure(k, i32::from(w.lo), hi + 1);
        let w = self.windows[k];
        self.limbs[w.start as usize + usize::from(w.len) - 1] = limb;
    }

    /// Makes sum `k`'s window cover the limbs of weights `2^(64 lo) .. 2^(64 hi)`.
    #[inline]
    fn ensure(&mut self, k: usize, lo: i32, hi: i32) {
        let w = self.windows[k];
        let (w_lo, w_hi) = (i32::from(w.lo), i32::from(w.lo) + i32::from(w.len));
        if w.len > 0 && w_lo <= lo && hi <= w_hi {
            return;
        }
        self.grow(k, lo, hi);
    }

    #[cold]
    fn grow(&mut self, k: usize, lo: i32, hi: i32) {
        let w = self.windows[k];
        let start = w.start as usize;
        let len = usize::from(w.len);
        if len == 0 {
            // A zero sum: a fresh window at the end.
            let start = self.limbs.len();
            self.limbs.resize(start + (hi - lo) as usize, 0);
            self.windows[k] = Window {
                start: to_start(start),
                lo: to_lo(lo),
                len: to_len((hi - lo) as usize),
            };
            return;
        }
        let (w_lo, w_hi) = (i32::from(w.lo), i32::from(w.lo) + i32::from(w.len));
        let (new_lo, new_hi) = (lo.min(w_lo), hi.max(w_hi));
        let new_len = (new_hi - new_lo) as usize;
        let below = (w_lo - new_lo) as usize;
        let ext = sign_of(self.limbs[start + len - 1]);
        let new_start = if start + len == self.limbs.len() {
            // The last window grows in place.
            self.limbs.resize(start + new_len, ext);
            self.limbs.copy_within(start..start + len, start + below);
            self.limbs[start..start + below].fill(0);
            self.limbs[start + below + len..start + new_len].fill(ext);
            start
        } else {
            let new_start = self.limbs.len();
            self.limbs.resize(new_start + below, 0);
            self.limbs.extend_from_within(start..start + len);
            self.limbs.resize(new_start + new_len, ext);
            self.stale += len;
            new_start
        };
        self.windows[k] = Window {
            start: to_start(new_start),
            lo: to_lo(new_lo),
            len: to_len(new_len),
        };
        if self.stale > 64 && 2 * self.stale > self.limbs.len() {
            self.compact(false);
        }
    }

    /// Rewrites the arena with the sums in order and no stale limbs; with `trim`,
    /// each in its canonical form. Never trims while a sum is being added to (its
    /// window is then exactly what the addition needs, and the top limb of a sum that
    /// outgrew it is not yet a sign).
    pub(crate) fn compact(&mut self, trim: bool) {
        let live: usize = self.windows.iter().map(|w| usize::from(w.len)).sum();
        let mut limbs = Vec::with_capacity(live);
        let mut windows = Vec::with_capacity(self.windows.len());
        for k in 0..self.windows.len() {
            let w = self.windows[k];
            let (lo, src) = if trim {
                self.canonical(k)
            } else {
                let start = w.start as usize;
                (
                    i32::from(w.lo),
                    &self.limbs[start..start + usize::from(w.len)],
                )
            };
            windows.push(Window {
                start: to_start(limbs.len()),
                lo: to_lo(lo),
                len: to_len(src.len()),
            });
            limbs.extend_from_slice(src);
        }
        self.windows = windows;
        self.limbs = limbs;
        self.stale = 0;
    }
}

/// The limb that extends `limb`'s sign: 0 or all ones.
fn sign_of(limb: u64) -> u64 {
    ((limb as i64) >> 63) as u64
}

// Window fields are small by construction (at most ~70 limbs from valid blocks, an
// arena of at most a few million limbs); beyond that something is badly wrong.
fn to_start(start: usize) -> u32 {
    u32::try_from(start).expect("an arena of exact sums over 2^32 limbs")
}

fn to_lo(lo: i32) -> i16 {
    i16::try_from(lo).expect("an exact sum beyond 2^(64 * 2^15)")
}

fn to_len(len: usize) -> u16 {
    u16::try_from(len).expect("an exact sum of over 2^16 limbs")
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigInt;
    use proptest::prelude::*;

    /// The value of sum `k` as a big integer times `2^(64 * MIN_LIMB)`.
    fn value(a: &Arena, k: usize) -> BigInt {
        let (lo, limbs) = a.canonical(k);
        let bytes: Vec<u8> = limbs.iter().flat_map(|l| l.to_le_bytes()).collect();
        BigInt::from_signed_bytes_le(&bytes) << (64 * (lo - MIN_LIMB)) as usize
    }

    fn term(neg: bool, mag: [u64; 3], exp: i32) -> BigInt {
        let m: BigInt = (BigInt::from(mag[2]) << 128) + (BigInt::from(mag[1]) << 64) + mag[0];
        let m = if neg { -m } else { m };
        m << (exp - 64 * MIN_LIMB) as usize
    }

    fn exp_strategy() -> impl Strategy<Value = i32> {
        prop_oneof![
            64 * MIN_LIMB..64 * MIN_LIMB + 300,
            -200..200,
            1800..2000,
            64 * MIN_LIMB..1950,
        ]
    }

    fn mag_strategy() -> impl Strategy<Value = [u64; 3]> {
        prop_oneof![
            any::<u64>().prop_map(|a| [a, 0, 0]),
            (any::<u64>(), any::<u64>()).prop_map(|(a, b)| [a, b, 0]),
            any::<[u64; 3]>(),
            Just([u64::MAX; 3]),
            Just([1, 0, 0]),
            Just([0, 0, 1 << 63]),
        ]
    }

    fn is_canonical(a: &Arena, k: usize) -> bool {
        let (lo, limbs) = a.canonical(k);
        match limbs {
            [] => lo == 0,
            [first, ..] if *first == 0 => false,
            [.., below, top] => *top != sign_of(*below),
            [_] => true,
        }
    }

    proptest! {
        /// Terms of any sign, size and weight, added to a few sums in any order,
        /// give the big-integer sums, in canonical form.
        #[test]
        fn terms_sum_exactly(
            terms in prop::collection::vec(
                (0usize..3, any::<bool>(), mag_strategy(), exp_strategy()), 1..60),
        ) {
            let mut a = Arena::new(3);
            let mut want = vec![BigInt::from(0); 3];
            for &(k, neg, mag, exp) in &terms {
                a.add_scaled(k, neg, mag, exp);
                want[k] += term(neg, mag, exp);
            }
            for (k, want) in want.iter().enumerate() {
                prop_assert_eq!(&value(&a, k), want);
                prop_assert!(is_canonical(&a, k));
            }
            // Merging arenas adds their values; so does merging into a compacted one.
            let mut b = Arena::new(3);
            for &(k, neg, mag, exp) in terms.iter().rev() {
                b.add_scaled((k + 1) % 3, !neg, mag, exp);
            }
            let mut c = a.clone();
            c.compact(true);
            for k in 0..3 {
                a.add_from(k, &b, (k + 1) % 3);
                c.add_from(k, &b, (k + 1) % 3);
                prop_assert_eq!(value(&a, k), BigInt::from(0));
                prop_assert_eq!(value(&c, k), BigInt::from(0));
                prop_assert_eq!(a.canonical(k), (0, &[][..]));
            }
        }
    }

    #[test]
    fn carries_and_borrows_cross_the_top_limb() {
        let mut a = Arena::new(1);
        // i64::MAX + 1 needs a second limb; -(2^63) fits in one, -(2^63) - 1 does not.
        a.add_scaled(0, false, [i64::MAX as u64, 0, 0], 0);
        a.add_scaled(0, false, [1, 0, 0], 0);
        assert_eq!(value(&a, 0), BigInt::from(1u64 << 63) << 2176);
        a.add_scaled(0, true, [u64::MAX, 0, 0], 0);
        assert_eq!(value(&a, 0), (BigInt::from(1u64 << 63) - u64::MAX) << 2176);
        let mut b = Arena::new(1);
        b.add_scaled(0, true, [1 << 63, 0, 0], 0);
        assert_eq!(b.canonical(0), (0, &[1u64 << 63][..]));
        b.add_scaled(0, true, [1, 0, 0], 0);
        assert_eq!(b.canonical(0), (0, &[(1u64 << 63) - 1, u64::MAX][..]));
        // Adding a value to its negation from another arena leaves zero.
        let mut c = Arena::new(1);
        c.add_scaled(0, false, [(1 << 63) + 1, 0, 0], 0);
        b.add_from(0, &c, 0);
        assert_eq!(b.canonical(0), (0, &[][..]));
    }

    #[test]
    fn growth_moves_windows_and_compaction_reclaims_them() {
        let mut a = Arena::new(4);
        for k in 0..4 {
            a.add_scaled(k, false, [1, 0, 0], 0);
        }
        // Sum 0 grows downward, then upward, many times: it moves to the end once and
        // then grows in place; the arena stays small.
        for step in 1..=60 {
            a.add_scaled(0, step % 2 == 0, [3, 0, 0], -64 * step.min(30));
            a.add_scaled(0, false, [5, 0, 0], 64 * step.min(30));
        }
        assert!(a.limbs.len() <= 4 + 61 + 4 + 64, "{} limbs", a.limbs.len());
        for k in 1..4 {
            assert_eq!(a.canonical(k), (0, &[1u64][..]));
        }
    }
}
