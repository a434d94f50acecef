//! [`sin`], [`cos`], [`atan2`], [`exp_m1`], [`ln_1p`] and [`Complex`] against the
//! mpmath values of `testdata/trig.txt`, `atan2.txt` and `complex.txt`
//! (`testdata/generate_trig.py refs`).

use super::*;

fn hex(s: &str) -> u64 {
    u64::from_str_radix(s, 16).unwrap()
}

/// ulp of a positive finite double's binade: 2^(e - 52), at least 2^-1074.
fn ulp(x: f64) -> f64 {
    let e = (x.to_bits() >> 52) & 0x7ff;
    match e {
        0 => f64::from_bits(1),
        1..=52 => f64::from_bits(1 << (e - 1)),
        _ => f64::from_bits((e - 52) << 52),
    }
}

/// The error of `got` in ulps of the true value, which lies `residual` ulps beyond
/// the correctly rounded `want`.
fn ulps(got: f64, want: f64, residual: f64) -> f64 {
    if want == 0.0 || got == 0.0 {
        return if got.to_bits() == want.to_bits() {
            0.0
        } else {
            (got - want).abs() / f64::from_bits(1)
        };
    }
    if got.is_sign_negative() != want.is_sign_negative() || got.is_nan() {
        return f64::INFINITY;
    }
    let (a, g) = (want.abs(), got.abs());
    let mut u = ulp(a);
    if a.to_bits() & ((1 << 52) - 1) == 0 && residual < 0.0 && a > f64::MIN_POSITIVE {
        u /= 2.0;
    }
    ((g - a) / u - residual).abs()
}

struct Worst {
    name: &'static str,
    err: f64,
    at: String,
    n: usize,
}

impl Worst {
    fn new(name: &'static str) -> Worst {
        Worst {
            name,
            err: 0.0,
            at: String::new(),
            n: 0,
        }
    }
    fn see(&mut self, err: f64, at: impl FnOnce() -> String) {
        self.n += 1;
        if err > self.err || err.is_nan() {
            self.err = err;
            self.at = at();
        }
    }
    fn check(&self, bound: f64) {
        eprintln!(
            "{}: {} points, worst {:.4} at {}",
            self.name, self.n, self.err, self.at
        );
        assert!(
            self.err < bound,
            "{}: {} at {}",
            self.name,
            self.err,
            self.at
        );
    }
}

#[test]
fn sin_cos_reference() {
    let mut s = Worst::new("sin (ulp)");
    let mut c = Worst::new("cos (ulp)");
    for line in include_str!("testdata/trig.txt").lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if line.starts_with('#') {
            continue;
        }
        let x = f64::from_bits(hex(f[1]));
        let want = f64::from_bits(hex(f[2]));
        let res: f64 = f[3].parse().unwrap();
        let (w, got) = match f[0] {
            "S" => (&mut s, sin(x)),
            _ => (&mut c, cos(x)),
        };
        w.see(ulps(got, want, res), || {
            format!("x = {x:e} ({:#x})", x.to_bits())
        });
    }
    assert!(s.n > 3000 && c.n > 3000);
    s.check(1.0);
    c.check(1.0);
}

#[test]
fn atan2_reference() {
    let mut w = Worst::new("atan2 (ulp)");
    for line in include_str!("testdata/atan2.txt").lines() {
        if line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        let (y, x) = (f64::from_bits(hex(f[0])), f64::from_bits(hex(f[1])));
        let want = f64::from_bits(hex(f[2]));
        let res: f64 = f[3].parse().unwrap();
        w.see(ulps(atan2(y, x), want, res), || {
            format!("atan2({y:e}, {x:e})")
        });
    }
    assert!(w.n > 2000);
    w.check(1.0);
}

/// `|got - want|` in units of `eps |scale|`.
fn rel(got: f64, want: f64, scale: f64) -> f64 {
    if got == want {
        return 0.0;
    }
    (got - want).abs() / (f64::EPSILON * scale.abs())
}

#[test]
fn complex_reference() {
    let mut exp_w = Worst::new("Complex::exp (eps |w|, normwise)");
    let mut ln_re = Worst::new("Complex::ln re (eps |re|)");
    let mut ln_im = Worst::new("Complex::ln im (eps |im|)");
    let mut sq = Worst::new("Complex::sqrt (eps |component|)");
    let mut x1 = Worst::new("exp_m1 (eps |result|)");
    let mut p1 = Worst::new("ln_1p (eps |result|)");
    for line in include_str!("testdata/complex.txt").lines() {
        if line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        let z = Complex::new(f64::from_bits(hex(f[1])), f64::from_bits(hex(f[2])));
        let w = Complex::new(f64::from_bits(hex(f[3])), f64::from_bits(hex(f[4])));
        let at = || format!("{} {z}", f[0]);
        match f[0] {
            "E" => {
                let g = z.exp();
                let scale = w.abs();
                if scale.is_finite() && scale > 1e-300 {
                    exp_w.see(rel(g.re, w.re, scale).max(rel(g.im, w.im, scale)), at);
                }
            }
            "L" => {
                let g = z.ln();
                ln_re.see(rel(g.re, w.re, w.re), at);
                ln_im.see(rel(g.im, w.im, w.im), at);
            }
            "Q" => {
                let g = z.sqrt();
                let tiny = |v: f64| v.abs() < 1e-290;
                let e = if tiny(w.re) || tiny(w.im) {
                    // a subnormal component: absolute, relative to |w|
                    rel(g.re, w.re, w.abs()).max(rel(g.im, w.im, w.abs()))
                } else {
                    rel(g.re, w.re, w.re).max(rel(g.im, w.im, w.im))
                };
                sq.see(e, at);
            }
            "X" => x1.see(rel(exp_m1(z.re), w.re, w.re), at),
            "P" => p1.see(rel(ln_1p(z.re), w.re, w.re), at),
            t => panic!("unknown tag {t}"),
        }
    }
    exp_w.check(2.0);
    ln_re.check(2.0);
    ln_im.check(1.5);
    sq.check(2.5);
    x1.check(4.0);
    p1.check(4.0);
}

#[test]
fn complex_branch_cuts_and_zeros() {
    use std::f64::consts::PI;
    let c = Complex::new;
    // ln on the cut: the sign of the zero imaginary part picks the side
    assert_eq!(c(-1.0, 0.0).ln(), c(0.0, PI));
    assert_eq!(c(-1.0, -0.0).ln(), c(0.0, -PI));
    assert_eq!(c(0.0, 0.0).ln().re, f64::NEG_INFINITY);
    assert_eq!(c(-0.0, 0.0).ln().im, PI);
    assert_eq!(c(1.0, 0.0).ln(), c(0.0, 0.0));
    assert_eq!(c(f64::MAX, f64::MAX).ln().re, 710.1292864836639);
    assert_eq!(c(5e-324, 0.0).ln().re, -744.4400719213812);
    // sqrt on the cut
    assert_eq!(c(-4.0, 0.0).sqrt(), c(0.0, 2.0));
    assert_eq!(c(-4.0, -0.0).sqrt(), c(0.0, -2.0));
    assert_eq!(c(0.0, -0.0).sqrt().im.to_bits(), (-0.0f64).to_bits());
    assert_eq!(c(4.0, 0.0).sqrt(), c(2.0, 0.0));
    assert_eq!(c(f64::MAX, 0.0).sqrt().re, 1.3407807929942596e154);
    let r = c(-f64::MAX, f64::MAX).sqrt().re;
    assert!((r - 6.1017574412827024e153).abs() <= 2.0 * f64::EPSILON * r);
    // a tiny imaginary part next to a huge negative real part is not flushed to zero
    let r = c(-1e300, -1e-100).sqrt();
    assert!(
        (r.re - 5e-251).abs() < 1e-266 && (r.im + 1e150).abs() < 1e135,
        "{r}"
    );
    // exp keeps the zero imaginary part's sign, and its product does not overflow early
    assert_eq!(c(1.0, -0.0).exp().im.to_bits(), (-0.0f64).to_bits());
    assert_eq!(c(0.0, PI).exp().re, -1.0);
    let big = c(709.9, 1.5).exp();
    assert!(big.re.is_finite() && big.im.is_infinite());
    // abs and division without overflow
    assert_eq!(c(3e300, 4e300).abs(), 5e300);
    assert_eq!(c(3e-320, 4e-320).abs(), 5e-320);
    let q = c(1e300, 1e300) / c(1e300, 1e300);
    assert_eq!(q, c(1.0, 0.0));
    let q = c(1.0, 2.0) / c(3.0, -4.0);
    assert!((q.re + 0.2).abs() < 1e-16 && (q.im - 0.4).abs() < 1e-16);
}

#[test]
fn complex_near_zero_forms() {
    // ln_1p and exp_m1 agree with ln and exp away from 0, and keep relative accuracy near
    for (re, im) in [(1e-9, 2e-9), (-3e-12, 1e-12), (0.3, -0.2), (0.0, 1e-10)] {
        let z = Complex::new(re, im);
        let a = z.ln_1p();
        let b = (z + Complex::ONE).ln();
        assert!((a - b).abs() <= 1e-16 * (1.0 + b.abs()), "{z}");
        let e = z.exp_m1();
        // e^z - 1 = z + z^2/2 + z^3/6 for small |z|
        if z.abs() < 1e-8 {
            let series = z + z * z * 0.5;
            assert!(
                (e - series).abs() <= 4e-16 * z.abs(),
                "{z}: {e} vs {series}"
            );
            let series = z - z * z * 0.5;
            assert!(
                (a - series).abs() <= 4e-16 * z.abs(),
                "{z}: {a} vs {series}"
            );
        }
    }
    assert_eq!(Complex::new(0.0, 0.0).ln_1p(), Complex::new(0.0, 0.0));
    assert_eq!(Complex::new(0.0, 0.0).exp_m1(), Complex::new(0.0, 0.0));
}
