//! Exact merging (`stats::ExactSums`) against today's pairwise Welford merge
//! (`Moments::merge`, Chan et al.) on hard data, both measured against exact rational
//! arithmetic over the raw samples, in ulps of the true value.
//!
//! Both methods see the same blocks: 4096 samples shifted by the first, summed in 8
//! lane partials folded in order (the lanes design), or blocks of one sample (where a
//! block is exact, so only the merge can err). `cargo test --test exact_accuracy --
//! --nocapture` prints the table.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, ToPrimitive, Zero};

use carlo::stats::{ExactSums, Moments};

const BLOCK: usize = 4096;
const LANES: usize = 8;

struct Block {
    count: u64,
    shift: Vec<f64>,
    sum: Vec<f64>,
    cross: Vec<f64>,
}

fn block_of(rows: &[Vec<f64>]) -> Block {
    let d = rows[0].len();
    let shift = rows[0].clone();
    let mut sum = vec![[0.0; LANES]; d];
    let mut cross = vec![[0.0; LANES]; ExactSums::cross_len(d)];
    for (k, row) in rows.iter().enumerate() {
        let lane = k % LANES;
        let dev: Vec<f64> = row.iter().zip(&shift).map(|(x, c)| x - c).collect();
        let mut t = 0;
        for i in 0..d {
            sum[i][lane] += dev[i];
            for j in i..d {
                cross[t][lane] += dev[i] * dev[j];
                t += 1;
            }
        }
    }
    let fold = |p: &[f64; LANES]| p.iter().fold(0.0, |a, x| a + x);
    Block {
        count: rows.len() as u64,
        shift,
        sum: sum.iter().map(fold).collect(),
        cross: cross.iter().map(fold).collect(),
    }
}

/// Exact merging of the blocks, rounded once.
fn exact(dim: usize, blocks: &[Block]) -> Moments {
    let mut s = ExactSums::new(dim);
    for b in blocks {
        s.add_block(b.count, &b.shift, &b.sum, &b.cross);
    }
    s.moments()
}

/// Today's way: each block to Welford form (as the accumulator's fold does), then
/// Chan's pairwise merge in block order.
fn welford(dim: usize, blocks: &[Block]) -> Moments {
    let mut total = Moments::empty(dim);
    for b in blocks {
        let n = b.count as f64;
        let mut m = Moments::empty(dim);
        m.count = b.count;
        for i in 0..dim {
            m.mean[i] = b.shift[i] + b.sum[i] / n;
            for j in i..dim {
                let k = ExactSums::cross_index(dim, i, j);
                let c = b.cross[k] - b.sum[i] * b.sum[j] / n;
                m.comoment[i * dim + j] = c;
                m.comoment[j * dim + i] = c;
            }
        }
        total.merge(&m);
    }
    total
}

fn rational(x: f64) -> BigRational {
    BigRational::from_float(x).expect("finite")
}

/// The exact mean and co-moments of the samples.
fn truth(dim: usize, rows: &[Vec<f64>]) -> (Vec<BigRational>, Vec<BigRational>) {
    // Every sample as an integer times 2^emin, so the sums are big-integer sums.
    let parts = |x: f64| {
        let b = x.abs().to_bits();
        let (biased, frac) = ((b >> 52) as i64, b & ((1 << 52) - 1));
        let (m, e) = if biased == 0 {
            (frac, -1074)
        } else {
            (frac | 1 << 52, biased - 1075)
        };
        (x < 0.0, m, e)
    };
    let emin = rows
        .iter()
        .flatten()
        .filter(|x| **x != 0.0)
        .map(|&x| parts(x).2)
        .min()
        .unwrap_or(0);
    let int = |x: f64| {
        let (neg, m, e) = parts(x);
        let v = BigInt::from(m) << (e - emin) as usize;
        if neg { -v } else { v }
    };
    let mut s = vec![BigInt::zero(); dim];
    let mut ss = vec![BigInt::zero(); dim * dim];
    for row in rows {
        let v: Vec<BigInt> = row.iter().map(|&x| int(x)).collect();
        for i in 0..dim {
            s[i] += &v[i];
            for j in i..dim {
                ss[i * dim + j] += &v[i] * &v[j];
            }
        }
    }
    let scale = |e: i64| {
        if e >= 0 {
            BigRational::from_integer(BigInt::from(1) << e as usize)
        } else {
            BigRational::new(1.into(), BigInt::from(1) << (-e) as usize)
        }
    };
    let n = BigRational::from_integer(rows.len().into());
    let s: Vec<BigRational> = s
        .into_iter()
        .map(|v| BigRational::from_integer(v) * scale(emin))
        .collect();
    let mean = s.iter().map(|v| v / &n).collect();
    let mut m2 = vec![BigRational::zero(); dim * dim];
    for i in 0..dim {
        for j in i..dim {
            let sij = BigRational::from_integer(ss[i * dim + j].clone()) * scale(2 * emin);
            let c = sij - &s[i] * &s[j] / &n;
            m2[i * dim + j] = c.clone();
            m2[j * dim + i] = c;
        }
    }
    (mean, m2)
}

/// `|got - want|` in ulps of `want` (of the double nearest it); for a true zero, the
/// plain absolute error (marked so in the table).
fn ulps(got: f64, want: &BigRational) -> f64 {
    let err = (rational(got) - want).abs();
    let w = want.to_f64().expect("in range").abs();
    if w == 0.0 {
        return err.to_f64().unwrap();
    }
    let ulp = w.next_up() - w;
    (err / rational(ulp)).to_f64().unwrap()
}

/// The largest error over the means and over the co-moments: (mean, comoment).
fn errors(m: &Moments, mean: &[BigRational], m2: &[BigRational]) -> (f64, f64) {
    let worst = |xs: &[f64], ws: &[BigRational]| {
        xs.iter()
            .zip(ws)
            .map(|(x, w)| ulps(*x, w))
            .fold(0.0, f64::max)
    };
    (worst(&m.mean, mean), worst(&m.comoment, m2))
}

/// A reproducible uniform sequence in [0, 1) (splitmix64), so the data are fixed.
fn uniforms(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 * 2f64.powi(-53)
    }
}

struct Case {
    name: &'static str,
    rows: Vec<Vec<f64>>,
}

fn cases() -> Vec<Case> {
    let mut u = uniforms(1);
    let large_mean = (0..1 << 20)
        .map(|_| {
            let e = 1e-4 * (2.0 * u() - 1.0);
            vec![1e8 + e, 1e8 - 0.5 * e]
        })
        .collect();
    let mut u = uniforms(2);
    // 1e-150 .. 1e150 (2^-500 .. 2^500), mixed signs: squares stay finite.
    let mut binade = move || {
        let k = (u() * 1000.0) as i32 - 500;
        let sign = if u() < 0.5 { -1.0 } else { 1.0 };
        sign * (1.0 + u()) * 2f64.powi(k)
    };
    let binades = (0..1 << 16).map(|_| vec![binade()]).collect();
    // The same magnitudes, each followed by its negation: the mean is exactly 0.
    let cancel = (0..1 << 15)
        .flat_map(|_| {
            let x = binade();
            [vec![x], vec![-x]]
        })
        .collect();
    let mut u = uniforms(3);
    let prices = (0..1 << 20)
        .map(|_| {
            let s: f64 = 100.0 * (0.2 * (2.0 * u() - 1.0) * 1.7).exp();
            vec![0.95 * (s - 100.0).max(0.0), 0.95 * s]
        })
        .collect();
    vec![
        Case {
            name: "1e8 + 1e-4 noise (2 cols)",
            rows: large_mean,
        },
        Case {
            name: "+-1e-150..1e150",
            rows: binades,
        },
        Case {
            name: "x, -x over 1e-150..1e150",
            rows: cancel,
        },
        Case {
            name: "call payoff, control",
            rows: prices,
        },
    ]
}

#[test]
fn exact_merging_is_at_least_as_accurate_as_welford() {
    println!(
        "{:<28} {:>9} | {:>10} {:>10} {:>10} {:>10} | {:>10} {:>10} {:>10} {:>10}",
        "data (max error, ulps)",
        "samples",
        "4096:ex.mu",
        "4096:we.mu",
        "4096:ex.M2",
        "4096:we.M2",
        "1:ex.mu",
        "1:we.mu",
        "1:ex.M2",
        "1:we.M2"
    );
    for case in cases() {
        let dim = case.rows[0].len();
        let (mean, m2) = truth(dim, &case.rows);
        let big: Vec<Block> = case.rows.chunks(BLOCK).map(block_of).collect();
        let single: Vec<Block> = case.rows.chunks(1).map(block_of).collect();
        let (ex4, we4) = (
            errors(&exact(dim, &big), &mean, &m2),
            errors(&welford(dim, &big), &mean, &m2),
        );
        let (ex1, we1) = (
            errors(&exact(dim, &single), &mean, &m2),
            errors(&welford(dim, &single), &mean, &m2),
        );
        let zero_mean = mean.iter().all(|m| m.is_zero());
        println!(
            "{:<28} {:>9} | {:>10.3e} {:>10.3e} {:>10.3e} {:>10.3e} | {:>10.3e} {:>10.3e} {:>10.3e} {:>10.3e}{}",
            case.name,
            case.rows.len(),
            ex4.0,
            we4.0,
            ex4.1,
            we4.1,
            ex1.0,
            we1.0,
            ex1.1,
            we1.1,
            if zero_mean {
                "  (mean 0: absolute errors)"
            } else {
                ""
            }
        );
        // Blocks of one sample are exact: the exact merge is correctly rounded.
        assert!(ex1.0 <= 0.5 && ex1.1 <= 0.5, "{}: {ex1:?}", case.name);
        // Blocks of 4096: only the blocks' own sums err, never more than Welford does
        // on top of them.
        assert!(
            ex4.0 <= we4.0.max(0.5),
            "{}: mean {ex4:?} {we4:?}",
            case.name
        );
        assert!(ex4.1 <= we4.1.max(0.5), "{}: M2 {ex4:?} {we4:?}", case.name);
    }
}

/// A million blocks of one repeated value: the variance is exactly zero and the mean
/// exactly the value, however the blocks merge.
#[test]
fn a_million_identical_blocks_have_no_variance() {
    let x = [0.1, -7.3e-5];
    let mut s = ExactSums::new(2);
    let mut w = Moments::empty(2);
    for _ in 0..1_000_000 {
        s.add_block(4096, &x, &[0.0, 0.0], &[0.0; 3]);
        let mut m = Moments::empty(2);
        m.count = 4096;
        m.mean = x.to_vec();
        w.merge(&m);
    }
    let m = s.moments();
    assert_eq!(m.count, 4_096_000_000);
    assert_eq!(m.mean, x.to_vec());
    assert_eq!(m.comoment, vec![0.0; 4]);
    println!(
        "1e6 identical blocks: exact mean {:?} M2 {:?}; Welford mean {:?} M2 {:?}",
        m.mean, m.comoment, w.mean, w.comoment
    );
}

/// Values over the whole double range, 1e-300 to 1e300 with mixed signs, where only
/// blocks of one sample stay finite (a block's sum of squares would overflow): the
/// exact mean is correctly rounded, and the exact co-moment, beyond the double range,
/// rounds to infinity as it must.
#[test]
fn means_over_every_binade_are_rounded_once() {
    let mut u = uniforms(4);
    let rows: Vec<Vec<f64>> = (0..1 << 14)
        .map(|_| {
            let k = (u() * 1990.0) as i32 - 995;
            let sign = if u() < 0.5 { -1.0 } else { 1.0 };
            vec![sign * (1.0 + u()) * 2f64.powi(k)]
        })
        .collect();
    let (mean, _) = truth(1, &rows);
    let single: Vec<Block> = rows.chunks(1).map(block_of).collect();
    let (ex, we) = (exact(1, &single), welford(1, &single));
    let (ex_err, we_err) = (ulps(ex.mean[0], &mean[0]), ulps(we.mean[0], &mean[0]));
    println!(
        "+-1e-300..1e300, {} samples, blocks of 1: mean error exact {ex_err:.3e} ulps, \
         Welford {we_err:.3e} ulps; M2 exact {:e}, Welford {:e}",
        rows.len(),
        ex.comoment[0],
        we.comoment[0]
    );
    assert!(ex_err <= 0.5, "{ex_err}");
    assert_eq!(ex.comoment[0], f64::INFINITY);
}
