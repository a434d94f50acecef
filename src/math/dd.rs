//! Error-free transformations (Knuth's TwoSum, Dekker's product) for the double-double
//! steps of [`trig`](super::trig) and [`complex`](super::complex): exact in IEEE-754
//! round-to-nearest arithmetic without fused multiply-add, as long as nothing
//! overflows (Dekker's split needs `|a| < 2^996`) or underflows.

/// `(s, e)` with `s = fl(a + b)` and `a + b = s + e` exactly (Knuth).
#[inline(always)]
pub(crate) fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    let e = (a - (s - bb)) + (b - bb);
    (s, e)
}

/// [`two_sum`] when `|a| >= |b|` (or `a` is zero): Dekker's Fast2Sum.
#[inline(always)]
pub(crate) fn fast_two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    (s, b - (s - a))
}

/// `a = hi + lo` with both halves of at most 26 significant bits (Veltkamp).
#[inline(always)]
fn split(a: f64) -> (f64, f64) {
    let c = 134_217_729.0 * a; // 2^27 + 1
    let hi = c - (c - a);
    (hi, a - hi)
}

/// `(p, e)` with `p = fl(a b)` and `a b = p + e` exactly (Dekker), for
/// `|a|, |b| < 2^996` and `|e|` not below the subnormal range.
#[inline(always)]
pub(crate) fn two_prod(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    let (ah, al) = split(a);
    let (bh, bl) = split(b);
    let e = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
    (p, e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_transformations() {
        let (s, e) = two_sum(1.0, 1e-20);
        assert_eq!((s, e), (1.0, 1e-20));
        let (s, e) = two_sum(1e-20, 1.0);
        assert_eq!((s, e), (1.0, 1e-20));
        let (s, e) = fast_two_sum(3.0, 2f64.powi(-60));
        assert_eq!((s, e), (3.0, 2f64.powi(-60)));
        // (1 + 2^-30)^2 = 1 + 2^-29 + 2^-60
        let a = 1.0 + 2f64.powi(-30);
        let (p, e) = two_prod(a, a);
        assert_eq!(p, 1.0 + 2f64.powi(-29));
        assert_eq!(e, 2f64.powi(-60));
        let (p, e) = two_prod(0.1, 0.3);
        // 0.1 * 0.3 in exact rationals, less p, is e: check with a 3rd-party route
        let (bh, bl) = split(0.3);
        assert_eq!(bh + bl, 0.3);
        assert!(e.abs() <= p * f64::EPSILON / 2.0 && e != 0.0);
    }
}
