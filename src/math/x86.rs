//! The x86-64 vector forms of [`Lanes`]: AVX2 (4 lanes) and AVX-512F (8 lanes), and
//! the `#[target_feature]` entry points that instantiate the kernels with them.
//!
//! Hand-written with `std::arch` intrinsics on purpose: each method is the one
//! instruction that does per lane what the scalar form does (no fused multiply-add is
//! ever enabled or emitted), so vector and scalar results are identical by
//! construction. Only AVX-512F is required for the 8-lane form (no DQ: bitwise
//! operations go through the integer instructions).

use std::arch::x86_64::*;

use super::vector::{Lanes, sealed::Sealed};
use super::{ExpKernel, LaneProgram, LnKernel, map_in_place, normals_sorted};
#[cfg(test)]
use super::{NormalKernel, map_bits};

/// Four `f64` lanes in an AVX register; masks are all-ones lanes.
#[derive(Clone, Copy)]
pub(super) struct Avx2(__m256d);

/// Eight `f64` lanes in an AVX-512 register; masks are `k` registers.
#[derive(Clone, Copy)]
pub(super) struct Avx512(__m512d);

macro_rules! avx2_bits {
    ($a:expr) => {
        _mm256_castpd_si256($a)
    };
}

// SAFETY: every method uses AVX or AVX2 instructions only, and is only reached from
// the `#[target_feature(enable = "avx2")]` entry points below, which the dispatcher
// calls only after detecting AVX2. Gather indices are in bounds by the callers'
// masking.
impl Sealed for Avx2 {}

unsafe impl Lanes for Avx2 {
    const LANES: usize = 4;
    type Mask = __m256d;

    #[inline(always)]
    unsafe fn splat(x: f64) -> Self {
        unsafe { Avx2(_mm256_set1_pd(x)) }
    }
    #[inline(always)]
    unsafe fn splat_bits(x: u64) -> Self {
        unsafe { Avx2(_mm256_castsi256_pd(_mm256_set1_epi64x(x as i64))) }
    }
    #[inline(always)]
    unsafe fn load(p: *const f64) -> Self {
        unsafe { Avx2(_mm256_loadu_pd(p)) }
    }
    #[inline(always)]
    unsafe fn load_bits(p: *const u64) -> Self {
        unsafe { Avx2(_mm256_castsi256_pd(_mm256_loadu_si256(p.cast()))) }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f64) {
        unsafe { _mm256_storeu_pd(p, self.0) }
    }

    #[inline(always)]
    unsafe fn add(self, o: Self) -> Self {
        unsafe { Avx2(_mm256_add_pd(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn sub(self, o: Self) -> Self {
        unsafe { Avx2(_mm256_sub_pd(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn mul(self, o: Self) -> Self {
        unsafe { Avx2(_mm256_mul_pd(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn div(self, o: Self) -> Self {
        unsafe { Avx2(_mm256_div_pd(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn sqrt(self) -> Self {
        unsafe { Avx2(_mm256_sqrt_pd(self.0)) }
    }

    #[inline(always)]
    unsafe fn and(self, o: Self) -> Self {
        unsafe { Avx2(_mm256_and_pd(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn xor(self, o: Self) -> Self {
        unsafe { Avx2(_mm256_xor_pd(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn or(self, o: Self) -> Self {
        unsafe { Avx2(_mm256_or_pd(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn add_bits(self, o: Self) -> Self {
        unsafe {
            Avx2(_mm256_castsi256_pd(_mm256_add_epi64(
                avx2_bits!(self.0),
                avx2_bits!(o.0),
            )))
        }
    }
    #[inline(always)]
    unsafe fn sub_bits(self, o: Self) -> Self {
        unsafe {
            Avx2(_mm256_castsi256_pd(_mm256_sub_epi64(
                avx2_bits!(self.0),
                avx2_bits!(o.0),
            )))
        }
    }
    #[inline(always)]
    unsafe fn shl<const N: u32>(self) -> Self {
        // the count-in-register form: the immediate form's const parameter is an
        // i32 here and a u32 for AVX-512; LLVM emits the immediate form anyway
        unsafe {
            let n = _mm_set_epi64x(0, N as i64);
            Avx2(_mm256_castsi256_pd(_mm256_sll_epi64(avx2_bits!(self.0), n)))
        }
    }
    #[inline(always)]
    unsafe fn shr<const N: u32>(self) -> Self {
        unsafe {
            let n = _mm_set_epi64x(0, N as i64);
            Avx2(_mm256_castsi256_pd(_mm256_srl_epi64(avx2_bits!(self.0), n)))
        }
    }

    #[inline(always)]
    unsafe fn lookup(table: &'static [u64], idx: Self) -> Self {
        unsafe {
            Avx2(_mm256_i64gather_pd::<8>(
                table.as_ptr().cast(),
                avx2_bits!(idx.0),
            ))
        }
    }

    /// Four 16-byte loads, one per lane, instead of two gathers.
    #[inline(always)]
    unsafe fn lookup_pair(table: &'static [u64], idx: Self) -> (Self, Self) {
        unsafe {
            let mut at = [0u64; 4];
            _mm256_storeu_si256(at.as_mut_ptr().cast(), avx2_bits!(idx.0));
            let t = table.as_ptr().cast::<f64>();
            let p = |k: usize| _mm_loadu_pd(t.add(at[k] as usize));
            // lanes (p0, p2) and (p1, p3): unpacking interleaves them back in order
            let a = _mm256_set_m128d(p(2), p(0));
            let b = _mm256_set_m128d(p(3), p(1));
            (
                Avx2(_mm256_unpacklo_pd(a, b)),
                Avx2(_mm256_unpackhi_pd(a, b)),
            )
        }
    }
    #[inline(always)]
    unsafe fn max(self, o: Self) -> Self {
        unsafe { Avx2(_mm256_max_pd(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn min(self, o: Self) -> Self {
        unsafe { Avx2(_mm256_min_pd(self.0, o.0)) }
    }

    #[inline(always)]
    unsafe fn le(self, o: Self) -> __m256d {
        unsafe { _mm256_cmp_pd::<_CMP_LE_OQ>(self.0, o.0) }
    }
    #[inline(always)]
    unsafe fn lt(self, o: Self) -> __m256d {
        unsafe { _mm256_cmp_pd::<_CMP_LT_OQ>(self.0, o.0) }
    }
    #[inline(always)]
    unsafe fn ge(self, o: Self) -> __m256d {
        unsafe { _mm256_cmp_pd::<_CMP_GE_OQ>(self.0, o.0) }
    }
    #[inline(always)]
    unsafe fn gt(self, o: Self) -> __m256d {
        unsafe { _mm256_cmp_pd::<_CMP_GT_OQ>(self.0, o.0) }
    }
    #[inline(always)]
    unsafe fn mask_and(a: __m256d, b: __m256d) -> __m256d {
        unsafe { _mm256_and_pd(a, b) }
    }
    #[inline(always)]
    unsafe fn mask_or(a: __m256d, b: __m256d) -> __m256d {
        unsafe { _mm256_or_pd(a, b) }
    }
    #[inline(always)]
    unsafe fn mask_andnot(a: __m256d, b: __m256d) -> __m256d {
        unsafe { _mm256_andnot_pd(b, a) }
    }
    #[inline(always)]
    unsafe fn mask_none() -> __m256d {
        unsafe { _mm256_setzero_pd() }
    }
    #[inline(always)]
    unsafe fn select(m: __m256d, yes: Self, no: Self) -> Self {
        unsafe { Avx2(_mm256_blendv_pd(no.0, yes.0, m)) }
    }
    #[inline(always)]
    unsafe fn all(m: __m256d) -> bool {
        unsafe { _mm256_movemask_pd(m) == 0b1111 }
    }
    #[inline(always)]
    unsafe fn any(m: __m256d) -> bool {
        unsafe { _mm256_movemask_pd(m) != 0 }
    }
    #[inline(always)]
    unsafe fn mask_bits(m: __m256d) -> u32 {
        unsafe { _mm256_movemask_pd(m) as u32 }
    }

    #[inline(always)]
    unsafe fn map_lanes(self, f: impl Fn(f64) -> f64) -> Self {
        unsafe {
            let mut lanes = [0.0; 4];
            _mm256_storeu_pd(lanes.as_mut_ptr(), self.0);
            for v in &mut lanes {
                *v = f(*v);
            }
            Avx2(_mm256_loadu_pd(lanes.as_ptr()))
        }
    }
}

macro_rules! avx512_bits {
    ($a:expr) => {
        _mm512_castpd_si512($a)
    };
}

macro_rules! avx512_int_op {
    ($name:ident, $op:ident) => {
        #[inline(always)]
        unsafe fn $name(self, o: Self) -> Self {
            unsafe {
                Avx512(_mm512_castsi512_pd($op(
                    avx512_bits!(self.0),
                    avx512_bits!(o.0),
                )))
            }
        }
    };
}

// SAFETY: every method uses AVX-512F instructions only, and is only reached from the
// `#[target_feature(enable = "avx512f")]` entry points below, which the dispatcher calls
// only after detecting AVX-512F. Gather indices are in bounds by the callers' masking.
impl Sealed for Avx512 {}

unsafe impl Lanes for Avx512 {
    const LANES: usize = 8;
    type Mask = __mmask8;

    #[inline(always)]
    unsafe fn splat(x: f64) -> Self {
        unsafe { Avx512(_mm512_set1_pd(x)) }
    }
    #[inline(always)]
    unsafe fn splat_bits(x: u64) -> Self {
        unsafe { Avx512(_mm512_castsi512_pd(_mm512_set1_epi64(x as i64))) }
    }
    #[inline(always)]
    unsafe fn load(p: *const f64) -> Self {
        unsafe { Avx512(_mm512_loadu_pd(p)) }
    }
    #[inline(always)]
    unsafe fn load_bits(p: *const u64) -> Self {
        unsafe { Avx512(_mm512_castsi512_pd(_mm512_loadu_si512(p.cast()))) }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f64) {
        unsafe { _mm512_storeu_pd(p, self.0) }
    }

    #[inline(always)]
    unsafe fn add(self, o: Self) -> Self {
        unsafe { Avx512(_mm512_add_pd(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn sub(self, o: Self) -> Self {
        unsafe { Avx512(_mm512_sub_pd(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn mul(self, o: Self) -> Self {
        unsafe { Avx512(_mm512_mul_pd(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn div(self, o: Self) -> Self {
        unsafe { Avx512(_mm512_div_pd(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn sqrt(self) -> Self {
        unsafe { Avx512(_mm512_sqrt_pd(self.0)) }
    }

    avx512_int_op!(and, _mm512_and_si512);
    avx512_int_op!(xor, _mm512_xor_si512);
    avx512_int_op!(or, _mm512_or_si512);
    avx512_int_op!(add_bits, _mm512_add_epi64);
    avx512_int_op!(sub_bits, _mm512_sub_epi64);

    #[inline(always)]
    unsafe fn shl<const N: u32>(self) -> Self {
        unsafe {
            Avx512(_mm512_castsi512_pd(_mm512_slli_epi64::<N>(avx512_bits!(
                self.0
            ))))
        }
    }
    #[inline(always)]
    unsafe fn shr<const N: u32>(self) -> Self {
        unsafe {
            Avx512(_mm512_castsi512_pd(_mm512_srli_epi64::<N>(avx512_bits!(
                self.0
            ))))
        }
    }

    /// Eight scalar loads, not `vgatherqpd`: on this machine (AMD Zen 4) the 8-lane
    /// gather made `ln_slice` (three lookups) no faster than AVX2; the loads made it
    /// about 25% faster. Intel's Downfall (GDS) microcode also slows gathers.
    #[inline(always)]
    unsafe fn lookup(table: &'static [u64], idx: Self) -> Self {
        unsafe {
            let mut at = [0u64; 8];
            _mm512_storeu_si512(at.as_mut_ptr().cast(), avx512_bits!(idx.0));
            let t = table.as_ptr();
            let v = at.map(|i| *t.add(i as usize));
            Avx512(_mm512_castsi512_pd(_mm512_loadu_si512(v.as_ptr().cast())))
        }
    }

    /// Eight 16-byte loads, one per lane, instead of twice eight 8-byte ones.
    #[inline(always)]
    unsafe fn lookup_pair(table: &'static [u64], idx: Self) -> (Self, Self) {
        unsafe {
            let i = avx512_bits!(idx.0);
            let (lo, hi) = (_mm512_castsi512_si256(i), _mm512_extracti64x4_epi64::<1>(i));
            let at = [
                _mm256_extract_epi64::<0>(lo),
                _mm256_extract_epi64::<1>(lo),
                _mm256_extract_epi64::<2>(lo),
                _mm256_extract_epi64::<3>(lo),
                _mm256_extract_epi64::<0>(hi),
                _mm256_extract_epi64::<1>(hi),
                _mm256_extract_epi64::<2>(hi),
                _mm256_extract_epi64::<3>(hi),
            ];
            let t = table.as_ptr().cast::<f64>();
            let p = |k: usize| _mm_loadu_pd(t.add(at[k] as usize));
            // 128-bit lanes (p0, p2, p4, p6) and (p1, p3, p5, p7): unpacking
            // interleaves them back in order
            let a = _mm512_insertf64x4::<1>(
                _mm512_castpd256_pd512(_mm256_set_m128d(p(2), p(0))),
                _mm256_set_m128d(p(6), p(4)),
            );
            let b = _mm512_insertf64x4::<1>(
                _mm512_castpd256_pd512(_mm256_set_m128d(p(3), p(1))),
                _mm256_set_m128d(p(7), p(5)),
            );
            (
                Avx512(_mm512_unpacklo_pd(a, b)),
                Avx512(_mm512_unpackhi_pd(a, b)),
            )
        }
    }
    #[inline(always)]
    unsafe fn max(self, o: Self) -> Self {
        unsafe { Avx512(_mm512_max_pd(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn min(self, o: Self) -> Self {
        unsafe { Avx512(_mm512_min_pd(self.0, o.0)) }
    }

    #[inline(always)]
    unsafe fn le(self, o: Self) -> __mmask8 {
        unsafe { _mm512_cmp_pd_mask::<_CMP_LE_OQ>(self.0, o.0) }
    }
    #[inline(always)]
    unsafe fn lt(self, o: Self) -> __mmask8 {
        unsafe { _mm512_cmp_pd_mask::<_CMP_LT_OQ>(self.0, o.0) }
    }
    #[inline(always)]
    unsafe fn ge(self, o: Self) -> __mmask8 {
        unsafe { _mm512_cmp_pd_mask::<_CMP_GE_OQ>(self.0, o.0) }
    }
    #[inline(always)]
    unsafe fn gt(self, o: Self) -> __mmask8 {
        unsafe { _mm512_cmp_pd_mask::<_CMP_GT_OQ>(self.0, o.0) }
    }
    #[inline(always)]
    unsafe fn mask_and(a: __mmask8, b: __mmask8) -> __mmask8 {
        a & b
    }
    #[inline(always)]
    unsafe fn mask_or(a: __mmask8, b: __mmask8) -> __mmask8 {
        a | b
    }
    #[inline(always)]
    unsafe fn mask_andnot(a: __mmask8, b: __mmask8) -> __mmask8 {
        a & !b
    }
    #[inline(always)]
    unsafe fn mask_none() -> __mmask8 {
        0
    }
    #[inline(always)]
    unsafe fn select(m: __mmask8, yes: Self, no: Self) -> Self {
        unsafe { Avx512(_mm512_mask_blend_pd(m, no.0, yes.0)) }
    }
    #[inline(always)]
    unsafe fn all(m: __mmask8) -> bool {
        m == 0xff
    }
    #[inline(always)]
    unsafe fn any(m: __mmask8) -> bool {
        m != 0
    }
    #[inline(always)]
    unsafe fn mask_bits(m: __mmask8) -> u32 {
        m as u32
    }

    #[inline(always)]
    unsafe fn map_lanes(self, f: impl Fn(f64) -> f64) -> Self {
        unsafe {
            let mut lanes = [0.0; 8];
            _mm512_storeu_pd(lanes.as_mut_ptr(), self.0);
            for v in &mut lanes {
                *v = f(*v);
            }
            Avx512(_mm512_loadu_pd(lanes.as_ptr()))
        }
    }
}

/// The slice entry points for one vector type and its target feature. Each is
/// `unsafe`: call it only once the feature is detected.
macro_rules! entry_points {
    ($feature:literal, $lanes:ty, $exp:ident, $ln:ident, $normals:ident, $mixed:ident) => {
        #[target_feature(enable = $feature)]
        pub(super) unsafe fn $exp(xs: &mut [f64]) {
            // SAFETY: the feature is enabled here, and detected by the caller.
            unsafe { map_in_place::<$lanes, ExpKernel>(xs, 0.0) }
        }

        #[target_feature(enable = $feature)]
        pub(super) unsafe fn $ln(xs: &mut [f64]) {
            // SAFETY: as above.
            unsafe { map_in_place::<$lanes, LnKernel>(xs, 1.0) }
        }

        #[target_feature(enable = $feature)]
        pub(super) unsafe fn $normals(bits: &[u64], out: &mut [f64]) {
            // SAFETY: as above.
            unsafe { normals_sorted::<$lanes>(bits, out) }
        }

        /// The normals kernel on unsorted lanes, which mixes central and tail lanes
        /// in one vector: only the tests call it, to check that path too.
        #[cfg(test)]
        #[target_feature(enable = $feature)]
        pub(super) unsafe fn $mixed(bits: &[u64], out: &mut [f64]) {
            // SAFETY: as above.
            unsafe { map_bits::<$lanes, NormalKernel>(bits, out, 0) }
        }
    };
}

entry_points!("avx2", Avx2, exp_avx2, ln_avx2, normals_avx2, mixed_avx2);
entry_points!(
    "avx512f",
    Avx512,
    exp_avx512,
    ln_avx512,
    normals_avx512,
    mixed_avx512
);

/// [`Simd::run`](super::Simd::run) at AVX2.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn run_avx2<P: LaneProgram>(program: P) -> P::Output {
    // SAFETY: the feature is enabled here, and detected by the caller.
    unsafe { program.run::<Avx2>() }
}

/// [`Simd::run`](super::Simd::run) at AVX-512F.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn run_avx512<P: LaneProgram>(program: P) -> P::Output {
    // SAFETY: as above.
    unsafe { program.run::<Avx512>() }
}
