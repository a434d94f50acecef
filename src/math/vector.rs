//! The lane operations the kernels are written in, and their one-lane (scalar) form.
//!
//! Every kernel in [`math`](super) is written once, generic over [`Lanes`], and
//! instantiated for `f64` (the scalar path) and for the x86 vector types. Each method
//! is one IEEE-754 operation per lane (or an exact bit operation, a select, or a table
//! load), so an instantiation can only differ in how many lanes it computes at once,
//! never in what it computes: that is why every path returns identical bits.

/// A vector of `f64` lanes, also viewed as `u64` bit patterns for the exact integer
/// steps (exponent extraction, table indices).
///
/// The vector loops of carlo's models, and of a user's
/// [`PathKernel`](crate::models::options::path_model::PathKernel), are written once
/// over `V: Lanes`; carlo instantiates them for `f64` (one lane, any CPU) and for the
/// x86 AVX2 and AVX-512 vectors. Every operation is one IEEE-754 operation per lane
/// (or an exact bit operation, a select, or a table load), so each instantiation
/// computes the same bits per lane: that is what keeps a run's result independent of
/// the CPU's SIMD level. There is no fused multiply-add on purpose.
///
/// The trait is sealed: carlo's three lane types are its only implementors.
///
/// # Safety
/// Every method may execute instructions of the implementor's instruction set: call
/// them only where that set is known to be available (the scalar `f64` form has no
/// requirement). Code called by carlo's drivers with a `V: Lanes` (a path kernel's
/// `walk`) runs where `V`'s set is available. Table loads read `table[idx]` for every
/// lane without bounds checks in the vector forms: every index must be in bounds.
// Every method's contract is the trait's `# Safety` section above.
#[allow(clippy::missing_safety_doc)]
pub unsafe trait Lanes: Copy + sealed::Sealed {
    /// The number of lanes.
    const LANES: usize;
    /// A lane mask from a comparison.
    type Mask: Copy;

    /// `x` in every lane.
    unsafe fn splat(x: f64) -> Self;
    /// The bit pattern `x` in every lane.
    unsafe fn splat_bits(x: u64) -> Self;
    /// `LANES` values from `p` (unaligned).
    unsafe fn load(p: *const f64) -> Self;
    /// `LANES` bit patterns from `p` (unaligned).
    unsafe fn load_bits(p: *const u64) -> Self;
    /// Stores the lanes at `p` (unaligned).
    unsafe fn store(self, p: *mut f64);

    /// `self + o` per lane.
    unsafe fn add(self, o: Self) -> Self;
    /// `self - o` per lane.
    unsafe fn sub(self, o: Self) -> Self;
    /// `self * o` per lane.
    unsafe fn mul(self, o: Self) -> Self;
    /// `self / o` per lane.
    unsafe fn div(self, o: Self) -> Self;
    /// The square root per lane (correctly rounded, as IEEE-754 requires).
    unsafe fn sqrt(self) -> Self;

    /// Bitwise and of the bit patterns.
    unsafe fn and(self, o: Self) -> Self;
    /// Bitwise exclusive or of the bit patterns.
    unsafe fn xor(self, o: Self) -> Self;
    /// Bitwise or of the bit patterns.
    unsafe fn or(self, o: Self) -> Self;
    /// Wrapping `u64` addition of the bit patterns.
    unsafe fn add_bits(self, o: Self) -> Self;
    /// Wrapping `u64` subtraction of the bit patterns.
    unsafe fn sub_bits(self, o: Self) -> Self;
    /// Left shift of the bit patterns.
    unsafe fn shl<const N: u32>(self) -> Self;
    /// Logical right shift of the bit patterns.
    unsafe fn shr<const N: u32>(self) -> Self;

    /// `f64::from_bits(table[idx])` per lane, `idx` being each lane's bit pattern.
    unsafe fn lookup(table: &'static [u64], idx: Self) -> Self;

    /// `(table[idx], table[idx + 1])` per lane, as [`lookup`](Lanes::lookup) twice: a
    /// vector form may fetch both neighbours with one load per lane.
    #[inline(always)]
    unsafe fn lookup_pair(table: &'static [u64], idx: Self) -> (Self, Self) {
        // SAFETY: the caller guarantees the instruction set and the bounds.
        unsafe {
            (
                Self::lookup(table, idx),
                Self::lookup(table, idx.add_bits(Self::splat_bits(1))),
            )
        }
    }

    /// `self` where `self > o`, else `o` (so `o` where either is NaN, and `o` for two
    /// zeros): the x86 `max` instruction, and the same on every level.
    unsafe fn max(self, o: Self) -> Self;
    /// `self` where `self < o`, else `o`: the x86 `min` instruction.
    unsafe fn min(self, o: Self) -> Self;

    /// Ordered `<=` (false where either side is NaN).
    unsafe fn le(self, o: Self) -> Self::Mask;
    /// Ordered `<`.
    unsafe fn lt(self, o: Self) -> Self::Mask;
    /// Ordered `>=`.
    unsafe fn ge(self, o: Self) -> Self::Mask;
    /// Ordered `>`.
    unsafe fn gt(self, o: Self) -> Self::Mask;
    /// Lanes set in both masks.
    unsafe fn mask_and(a: Self::Mask, b: Self::Mask) -> Self::Mask;
    /// Lanes set in either mask.
    unsafe fn mask_or(a: Self::Mask, b: Self::Mask) -> Self::Mask;
    /// `a` and not `b`.
    unsafe fn mask_andnot(a: Self::Mask, b: Self::Mask) -> Self::Mask;
    /// The mask with no lane set.
    unsafe fn mask_none() -> Self::Mask;
    /// `yes` where the mask is set, else `no`.
    unsafe fn select(m: Self::Mask, yes: Self, no: Self) -> Self;
    /// Whether every lane of the mask is set.
    unsafe fn all(m: Self::Mask) -> bool;
    /// Whether some lane of the mask is set.
    unsafe fn any(m: Self::Mask) -> bool;
    /// The mask as bits, lane `i` in bit `i`.
    unsafe fn mask_bits(m: Self::Mask) -> u32;

    /// `f` applied to each lane: the way out to the scalar code for rare lanes.
    unsafe fn map_lanes(self, f: impl Fn(f64) -> f64) -> Self;
}

/// Keeps [`Lanes`] to carlo's own lane types.
pub(crate) mod sealed {
    /// Implemented by carlo's lane types only.
    pub trait Sealed {}
    impl Sealed for f64 {}
}

// SAFETY: plain scalar arithmetic, no instruction set requirement; `lookup` indexes
// with bounds checks.
unsafe impl Lanes for f64 {
    const LANES: usize = 1;
    type Mask = bool;

    #[inline(always)]
    unsafe fn splat(x: f64) -> Self {
        x
    }
    #[inline(always)]
    unsafe fn splat_bits(x: u64) -> Self {
        f64::from_bits(x)
    }
    #[inline(always)]
    unsafe fn load(p: *const f64) -> Self {
        // SAFETY: the caller passes a valid pointer.
        unsafe { p.read_unaligned() }
    }
    #[inline(always)]
    unsafe fn load_bits(p: *const u64) -> Self {
        // SAFETY: the caller passes a valid pointer.
        f64::from_bits(unsafe { p.read_unaligned() })
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f64) {
        // SAFETY: the caller passes a valid pointer.
        unsafe { p.write_unaligned(self) }
    }

    #[inline(always)]
    unsafe fn add(self, o: Self) -> Self {
        self + o
    }
    #[inline(always)]
    unsafe fn sub(self, o: Self) -> Self {
        self - o
    }
    #[inline(always)]
    unsafe fn mul(self, o: Self) -> Self {
        self * o
    }
    #[inline(always)]
    unsafe fn div(self, o: Self) -> Self {
        self / o
    }
    #[inline(always)]
    unsafe fn sqrt(self) -> Self {
        f64::sqrt(self)
    }

    #[inline(always)]
    unsafe fn and(self, o: Self) -> Self {
        f64::from_bits(self.to_bits() & o.to_bits())
    }
    #[inline(always)]
    unsafe fn xor(self, o: Self) -> Self {
        f64::from_bits(self.to_bits() ^ o.to_bits())
    }
    #[inline(always)]
    unsafe fn or(self, o: Self) -> Self {
        f64::from_bits(self.to_bits() | o.to_bits())
    }
    #[inline(always)]
    unsafe fn add_bits(self, o: Self) -> Self {
        f64::from_bits(self.to_bits().wrapping_add(o.to_bits()))
    }
    #[inline(always)]
    unsafe fn sub_bits(self, o: Self) -> Self {
        f64::from_bits(self.to_bits().wrapping_sub(o.to_bits()))
    }
    #[inline(always)]
    unsafe fn shl<const N: u32>(self) -> Self {
        f64::from_bits(self.to_bits() << N)
    }
    #[inline(always)]
    unsafe fn shr<const N: u32>(self) -> Self {
        f64::from_bits(self.to_bits() >> N)
    }

    #[inline(always)]
    unsafe fn lookup(table: &'static [u64], idx: Self) -> Self {
        f64::from_bits(table[idx.to_bits() as usize])
    }
    #[inline(always)]
    unsafe fn max(self, o: Self) -> Self {
        if self > o { self } else { o }
    }
    #[inline(always)]
    unsafe fn min(self, o: Self) -> Self {
        if self < o { self } else { o }
    }

    #[inline(always)]
    unsafe fn le(self, o: Self) -> bool {
        self <= o
    }
    #[inline(always)]
    unsafe fn lt(self, o: Self) -> bool {
        self < o
    }
    #[inline(always)]
    unsafe fn ge(self, o: Self) -> bool {
        self >= o
    }
    #[inline(always)]
    unsafe fn gt(self, o: Self) -> bool {
        self > o
    }
    #[inline(always)]
    unsafe fn mask_and(a: bool, b: bool) -> bool {
        a & b
    }
    #[inline(always)]
    unsafe fn mask_or(a: bool, b: bool) -> bool {
        a | b
    }
    #[inline(always)]
    unsafe fn mask_andnot(a: bool, b: bool) -> bool {
        a & !b
    }
    #[inline(always)]
    unsafe fn mask_none() -> bool {
        false
    }
    #[inline(always)]
    unsafe fn select(m: bool, yes: Self, no: Self) -> Self {
        if m { yes } else { no }
    }
    #[inline(always)]
    unsafe fn all(m: bool) -> bool {
        m
    }
    #[inline(always)]
    unsafe fn any(m: bool) -> bool {
        m
    }
    #[inline(always)]
    unsafe fn mask_bits(m: bool) -> u32 {
        m as u32
    }

    #[inline(always)]
    unsafe fn map_lanes(self, f: impl Fn(f64) -> f64) -> Self {
        f(self)
    }
}
