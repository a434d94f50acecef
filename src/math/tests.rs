//! Accuracy against the committed mpmath references, and bit identity of every
//! available [`Level`] with the scalar functions.

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::*;

/// One reference point: input bits, correctly rounded output, and where the true value
/// lies from it, in ulps of the true value.
#[derive(Clone, Copy)]
struct Point {
    input: u64,
    rounded: f64,
    residual: f64,
}

fn parse(text: &str, tag: Option<&str>) -> Vec<Point> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut f: Vec<&str> = l.split_whitespace().collect();
            match (tag, f[0]) {
                (Some(t), first) if first == t => {
                    f.remove(0);
                }
                (Some(_), _) => return None,
                (None, first) if first.len() != 16 => return None,
                (None, _) => {}
            }
            Some(Point {
                input: u64::from_str_radix(f[0], 16).unwrap(),
                rounded: f64::from_bits(u64::from_str_radix(f[1], 16).unwrap()),
                residual: f[2].parse().unwrap(),
            })
        })
        .collect()
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

/// The error of `got` in ulps of the true value (which lies `residual` ulps from
/// `rounded`), or infinity when the sign, zero or infinity differs.
fn ulp_error(got: f64, p: &Point) -> f64 {
    let r = p.rounded;
    if r == 0.0 || r.is_infinite() || got == 0.0 || got.is_infinite() {
        return if got.to_bits() == r.to_bits() {
            0.0
        } else {
            f64::INFINITY
        };
    }
    if got.is_sign_negative() != r.is_sign_negative() || got.is_nan() {
        return f64::INFINITY;
    }
    let (a, g) = (r.abs(), got.abs());
    let mut u = ulp(a);
    // a power of two with the true value below it: the true value's binade is finer
    if a.to_bits() & ((1 << 52) - 1) == 0 && p.residual < 0.0 && a > f64::MIN_POSITIVE {
        u /= 2.0;
    }
    ((g - a) / u - p.residual).abs()
}

struct Stats {
    worst: f64,
    worst_at: u64,
    exact: usize,
    n: usize,
}

fn measure(points: &[Point], f: impl Fn(u64) -> f64) -> Stats {
    let mut s = Stats {
        worst: 0.0,
        worst_at: 0,
        exact: 0,
        n: points.len(),
    };
    for p in points {
        let got = f(p.input);
        let e = ulp_error(got, p);
        if got.to_bits() == p.rounded.to_bits() {
            s.exact += 1;
        }
        if e > s.worst || e.is_nan() {
            s.worst = e;
            s.worst_at = p.input;
        }
    }
    s
}

fn report(name: &str, s: &Stats) {
    eprintln!(
        "{name}: {} points, {} correctly rounded, worst {:.4} ulp at {:#018x}",
        s.n, s.exact, s.worst, s.worst_at
    );
}

#[test]
fn ulp_helper() {
    assert_eq!(ulp(1.0), f64::EPSILON);
    assert_eq!(ulp(1.5), f64::EPSILON);
    assert_eq!(ulp(0.75), f64::EPSILON / 2.0);
    assert_eq!(ulp(f64::MIN_POSITIVE), f64::from_bits(1));
    assert_eq!(ulp(f64::from_bits(12345)), f64::from_bits(1));
}

#[test]
fn exp_reference() {
    let points = parse(include_str!("testdata/exp.txt"), None);
    assert!(points.len() > 3000);
    let s = measure(&points, |x| exp(f64::from_bits(x)));
    report("exp", &s);
    assert!(
        s.worst < 0.52,
        "exp: {:.4} ulp at {:#x}",
        s.worst,
        s.worst_at
    );
}

#[test]
fn ln_reference() {
    let points = parse(include_str!("testdata/ln.txt"), None);
    assert!(points.len() > 3000);
    let s = measure(&points, |x| ln(f64::from_bits(x)));
    report("ln", &s);
    assert!(
        s.worst < 0.52,
        "ln: {:.4} ulp at {:#x}",
        s.worst,
        s.worst_at
    );
}

/// Relative error of each quantile against the true one.
fn relative_errors(points: &[Point], f: impl Fn(u64) -> f64) -> (f64, f64, u64) {
    let (mut worst_ulps, mut worst_rel, mut at) = (0.0f64, 0.0f64, 0);
    for p in points {
        let got = f(p.input);
        let e = ulp_error(got, p);
        if p.rounded == 0.0 {
            assert_eq!(e, 0.0, "the median gives +0");
            continue;
        }
        let rel = e * ulp(p.rounded.abs()) / p.rounded.abs();
        if rel > worst_rel || rel.is_nan() {
            at = p.input;
        }
        worst_rel = worst_rel.max(rel);
        worst_ulps = worst_ulps.max(e);
    }
    (worst_ulps, worst_rel, at)
}

#[test]
fn normal_reference() {
    let text = include_str!("testdata/normal.txt");
    let quantiles = parse(text, None);
    let words = parse(text, Some("B"));
    assert!(quantiles.len() > 1500 && words.len() > 500);
    // per branch of AS 241: central, tail with r <= 5, tail with r > 5
    let branch = |p: &Point| {
        let p = f64::from_bits(p.input);
        if (p - 0.5).abs() <= 0.425 {
            0
        } else if (-ln(p.min(1.0 - p))).sqrt() <= 5.0 {
            1
        } else {
            2
        }
    };
    for (i, name) in ["central", "tail r <= 5", "tail r > 5"].iter().enumerate() {
        let part: Vec<Point> = quantiles
            .iter()
            .filter(|p| branch(p) == i)
            .copied()
            .collect();
        let (ulps, rel, at) = relative_errors(&part, |p| inverse_normal_cdf(f64::from_bits(p)));
        eprintln!(
            "inverse_normal_cdf {name}: {} points, worst {ulps:.3} ulp, relative {rel:.3e} at p = {:?}",
            part.len(),
            f64::from_bits(at)
        );
        assert!(
            rel < 7e-16,
            "inverse_normal_cdf: relative {rel:e} at {:?}",
            f64::from_bits(at)
        );
    }
    let (ulps, rel, at) = relative_errors(&words, normal_from_bits);
    eprintln!(
        "normal_from_bits: {} points, worst {ulps:.3} ulp, relative {rel:.3e} at {at:#018x}",
        words.len()
    );
    assert!(rel < 7e-16, "normal_from_bits: relative {rel:e} at {at:#x}");
}

/// The uncommitted dense sweep: `generate.py dense N DIR`, then
/// `CARLO_MATH_DENSE=DIR cargo test --release --lib math -- --ignored`.
#[test]
#[ignore = "needs CARLO_MATH_DENSE, a directory written by generate.py dense"]
fn dense_reference() {
    let dir = std::env::var("CARLO_MATH_DENSE").expect("CARLO_MATH_DENSE");
    let read = |name: &str| std::fs::read_to_string(format!("{dir}/{name}")).expect(name);
    let s = measure(&parse(&read("exp_dense.txt"), None), |x| {
        exp(f64::from_bits(x))
    });
    report("exp dense", &s);
    assert!(s.worst < 0.52);
    let s = measure(&parse(&read("ln_dense.txt"), None), |x| {
        ln(f64::from_bits(x))
    });
    report("ln dense", &s);
    assert!(s.worst < 0.52);
}

// --- every level gives the scalar bits ------------------------------------------------

fn rng(seed: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(seed)
}

fn uniform(rng: &mut Xoshiro256PlusPlus, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * ((rng.next_u64() >> 11) as f64 * 2.0f64.powi(-53))
}

/// Special and edge inputs for both functions.
fn edges() -> Vec<f64> {
    let mut v = vec![
        0.0,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -f64::NAN,
        f64::from_bits(0x7ff0_0000_0000_0001), // signalling NaN
        f64::from_bits(0x7ff8_0000_dead_beef),
        f64::MIN_POSITIVE,
        -f64::MIN_POSITIVE,
        f64::from_bits(1),
        -f64::from_bits(1),
        f64::from_bits(0x000f_ffff_ffff_ffff),
        f64::MAX,
        f64::MIN,
        1.0,
        -1.0,
        700.0,
        -700.0,
        708.0,
        -708.0,
        709.782712893384,
        709.79,
        -708.3964185322641,
        -745.1332191019411,
        -745.1332191019412,
        -745.2,
        1e-300,
        1e300,
    ];
    for x in v.clone() {
        if x.is_finite() && x != 0.0 {
            v.push(f64::from_bits(x.to_bits() + 1));
            v.push(f64::from_bits(x.to_bits() - 1));
        }
    }
    v
}

fn scalar_exp(xs: &[f64]) -> Vec<u64> {
    xs.iter().map(|&x| exp(x).to_bits()).collect()
}

fn scalar_ln(xs: &[f64]) -> Vec<u64> {
    xs.iter().map(|&x| ln(x).to_bits()).collect()
}

fn bits_of(xs: &[f64]) -> Vec<u64> {
    xs.iter().map(|x| x.to_bits()).collect()
}

/// `run` on `xs` at `simd` equals `want`, on the whole slice and on every short,
/// misaligned sub-slice around the edges.
fn check_in_place(
    name: &str,
    simd: Simd,
    xs: &[f64],
    want: &[u64],
    run: impl Fn(Simd, &mut [f64]),
) {
    let mut got = xs.to_vec();
    run(simd, &mut got);
    let got = bits_of(&got);
    if let Some(i) = (0..xs.len()).find(|&i| got[i] != want[i]) {
        panic!(
            "{name} at {}: x = {:e} ({:#x}) gives {:#x}, scalar {:#x}",
            simd.level(),
            xs[i],
            xs[i].to_bits(),
            got[i],
            want[i]
        );
    }
    for start in 0..9.min(xs.len()) {
        for len in 0..=(xs.len() - start).min(19) {
            let mut part = xs[start..start + len].to_vec();
            run(simd, &mut part);
            assert_eq!(
                bits_of(&part),
                want[start..start + len],
                "{name} at {}, slice {start}..{}",
                simd.level(),
                start + len
            );
        }
    }
}

#[test]
fn levels_match_scalar_exp() {
    let mut g = rng(1);
    let mut xs = edges();
    // every edge at every lane position
    for shift in 0..8 {
        xs.extend(std::iter::repeat_n(0.5, shift));
        xs.extend(edges());
    }
    for _ in 0..(1 << 20) {
        xs.push(f64::from_bits(g.next_u64()));
        xs.push(uniform(&mut g, -750.0, 750.0));
        xs.push(uniform(&mut g, -50.0, 50.0));
    }
    let want = scalar_exp(&xs);
    for level in Level::available() {
        let simd = Simd::new(level).unwrap();
        check_in_place("exp_slice", simd, &xs, &want, |s, v| s.exp_slice(v));
    }
}

#[test]
fn levels_match_scalar_ln() {
    let mut g = rng(2);
    let mut xs = edges();
    for shift in 0..8 {
        xs.extend(std::iter::repeat_n(2.0, shift));
        xs.extend(edges());
    }
    for _ in 0..(1 << 20) {
        xs.push(f64::from_bits(g.next_u64()));
        xs.push(2.0f64.powf(uniform(&mut g, -1074.0, 1024.0)));
        xs.push(uniform(&mut g, 0.9, 1.1));
    }
    let want = scalar_ln(&xs);
    for level in Level::available() {
        let simd = Simd::new(level).unwrap();
        check_in_place("ln_slice", simd, &xs, &want, |s, v| s.ln_slice(v));
    }
}

#[test]
fn levels_match_scalar_normals() {
    let mut g = rng(3);
    let mut words: Vec<u64> = vec![
        0,
        1,
        (1 << 11) - 1,
        1 << 11,
        (1 << 63) - 1,
        1 << 63,
        u64::MAX,
        u64::MAX - (1 << 11),
    ];
    // every tail boundary: u near 0.075, e^-25 and 1/2, on both sides
    for u in [0.075, 1.3887943864964021e-11, 0.5, 2.0f64.powi(-40)] {
        let m = (u * 2.0f64.powi(53)) as u64;
        for d in 0..64 {
            words.push((m + d - 32) << 11);
            words.push(!((m + d - 32) << 11));
        }
    }
    words.extend((0..(3 << 20)).map(|_| g.next_u64()));
    let want: Vec<u64> = words
        .iter()
        .map(|&w| normal_from_bits(w).to_bits())
        .collect();
    for level in Level::available() {
        let simd = Simd::new(level).unwrap();
        let mut got = vec![0.0; words.len()];
        simd.normals_from_bits(&words, &mut got);
        if let Some(i) = (0..words.len()).find(|&i| got[i].to_bits() != want[i]) {
            panic!("normals at {level}: word {:#x}", words[i]);
        }
        // short and misaligned slices, and lengths around the 512-word block
        let lens = (0..=19).chain([255, 511, 512, 513, 1000, 1024, 1537]);
        for len in lens {
            for start in 0..9 {
                let mut out = vec![f64::NAN; len];
                simd.normals_from_bits(&words[start..start + len], &mut out);
                assert_eq!(bits_of(&out), want[start..start + len], "{level}");
            }
        }
    }
}

/// The kernel on vectors that mix central and tail lanes, which the slice form never
/// builds (it sorts the lanes first), against scalar.
#[cfg(target_arch = "x86_64")]
#[test]
fn mixed_normal_vectors_match_scalar() {
    let mut g = rng(4);
    let words: Vec<u64> = (0..(1 << 16)).map(|_| g.next_u64()).collect();
    let want: Vec<u64> = words
        .iter()
        .map(|&w| normal_from_bits(w).to_bits())
        .collect();
    type Run = unsafe fn(&[u64], &mut [f64]);
    let runs: [(Level, Run); 2] = [
        (Level::Avx2, x86::mixed_avx2),
        (Level::Avx512, x86::mixed_avx512),
    ];
    for (level, run) in runs {
        if !level.is_available() {
            continue;
        }
        let mut got = vec![0.0; words.len()];
        // SAFETY: the level is available.
        unsafe { run(&words, &mut got) };
        assert_eq!(bits_of(&got), want, "{level}");
    }
}

#[test]
fn levels() {
    assert_eq!("scalar".parse::<Level>(), Ok(Level::Scalar));
    assert_eq!("avx2".parse::<Level>(), Ok(Level::Avx2));
    assert_eq!("avx512".parse::<Level>(), Ok(Level::Avx512));
    let err = "sse".parse::<Level>().unwrap_err();
    assert!(err.to_string().contains("CARLO_SIMD=\"sse\""), "{err}");
    assert!(Level::Scalar.is_available());
    assert_eq!(Level::available()[0], Level::Scalar);
    assert!(Level::available().contains(&Level::detect()));
    for level in Level::ALL {
        match Simd::new(level) {
            Ok(s) => assert_eq!(s.level(), level),
            Err(e) => {
                assert_eq!(e, LevelError::Unavailable { level });
                assert!(e.to_string().contains("not available"), "{e}");
            }
        }
    }
    // what each value of CARLO_SIMD gives
    use std::env::VarError;
    assert_eq!(
        level_from_env(Err(VarError::NotPresent)),
        Ok(Level::detect())
    );
    assert_eq!(level_from_env(Ok("scalar".into())), Ok(Level::Scalar));
    for level in Level::ALL {
        let got = level_from_env(Ok(level.name().into()));
        if level.is_available() {
            assert_eq!(got, Ok(level));
        } else {
            assert_eq!(got, Err(LevelError::Unavailable { level }));
        }
    }
    for bad in ["", "AVX2", "avx-512", "sse2"] {
        assert_eq!(
            level_from_env(Ok(bad.into())),
            Err(LevelError::Unknown { value: bad.into() })
        );
    }
    // the environment is read once; whatever it says, it is a level or an error
    match simd_level() {
        Ok(level) => assert!(level.is_available()),
        Err(e) => assert!(std::env::var(SIMD_ENV).is_ok(), "{e}"),
    }
}

#[test]
#[should_panic(expected = "3 words for 2 outputs")]
fn normals_length_mismatch() {
    Simd::new(Level::Scalar)
        .unwrap()
        .normals_from_bits(&[1, 2, 3], &mut [0.0; 2]);
}
