//! The chunk statistics of the samples a Python model returns: an `(n, k)` array of
//! floats in, [`Moments`] out.
//!
//! Two ways, chosen per column from the data, so the choice is a pure function of
//! the chunk's samples and gives the same bits wherever the chunk runs:
//!
//! - **Exact**, for a column whose values are all whole numbers with `n * max|x| <
//!   2^62` (counts, indicators, pi's 0/4 samples). Its sum `S` and the sums of
//!   products `Q` with the other exact columns are computed in `i128` without any
//!   rounding; then `mean = S / n` (one rounding: `S` converts exactly, `|S| < 2^53`
//!   in practice, else two) and `comoment = (n Q - S S') / n`, whose numerator is
//!   exact and rounds once when converted, then once more in the division.
//! - **Accumulated**, for every other column: the same blocked, shifted sums and
//!   pairwise merges as [`carlo::stats::Accumulator`], operation for operation, so a
//!   Python model gives the bits a Rust model pushing the same rows would.
//!
//! Why the exact path: a model that counts (pi counts hits) is usually written in
//! Rust from the count, as carlo's `pi` is, with mean `4h/n` and co-moment `16 h (n -
//! h) / n`; pushing its 0/4 samples through the accumulator would round elsewhere and
//! give other bits. The exact path gives exactly the count formulas:
//!
//! For `h` fours and `n - h` zeros, `S = 4h`, `Q = 16h`, so `n Q - S^2 = 16 h (n -
//! h)`. carlo's pi computes `fl(fl(4h) / n)`; `4h` is exact (`h < 2^53`, times a power
//! of two), so that is the correctly rounded `4h / n`, and so is `fl(S / n)` here
//! with `S = 4h` converted exactly. It computes the co-moment as `fl(fl(fl(16h) * (n -
//! h)) / n)`: `16h` and `n - h` are exact, so the product is the correctly rounded
//! `16 h (n - h)`, which is what converting the exact `i128` numerator gives (Rust
//! converts integers to floats rounding to nearest, ties to even, as IEEE
//! multiplication rounds); both then divide by the same `n`. The same bits, for every
//! chunk size below `2^53`. (The `pi_from_counts_is_bit_exact` test checks it.)
//!
//! The statistics of one chunk may mix both: entries between two exact columns are
//! exact, the rest come from the accumulator, each correct up to rounding as the
//! [`carlo::model::Model`] contract asks.

use carlo::stats::{Accumulator, BLOCK, Moments};

/// A sample that is NaN or infinite, where the model returned it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NonFinite {
    /// Row of the array (the sample).
    pub row: usize,
    /// Column (the quantity).
    pub column: usize,
    /// The value.
    pub value: f64,
}

/// Largest `n * max|x|` of an exact column: keeps `n Q` and `S S'` below `2^124`.
const EXACT_LIMIT: f64 = 4_611_686_018_427_387_904.0; // 2^62

/// The statistics of `rows`, `k` values each, row-major (`data.len() == n * k`).
/// Fails at the first NaN or infinite value.
pub fn chunk_moments(data: &[f64], k: usize) -> Result<Moments, NonFinite> {
    assert!(k > 0 && data.len().is_multiple_of(k), "rows of {k} values");
    let n = data.len() / k;
    let exact = exact_columns(data, k);
    let mut moments = if exact.iter().all(|&e| e) {
        let mut m = Moments::empty(k);
        m.count = n as u64;
        m
    } else {
        accumulate(data, k)
    };
    let columns: Vec<usize> = (0..k).filter(|&c| exact[c]).collect();
    if !columns.is_empty() {
        exact_moments(data, k, &columns, &mut moments);
    }
    // Whole columns are finite; a NaN or infinity elsewhere makes the statistics so.
    if moments.non_finite_column().is_some()
        && let Some(i) = data.iter().position(|x| !x.is_finite())
    {
        return Err(NonFinite {
            row: i / k,
            column: i % k,
            value: data[i],
        });
    }
    Ok(moments)
}

/// Which columns qualify for the exact path. A column whose first value is not whole
/// is not scanned: float columns cost nothing here.
fn exact_columns(data: &[f64], k: usize) -> Vec<bool> {
    let n = data.len() / k;
    let mut whole: Vec<bool> = (0..k).map(|c| n > 0 && is_whole(data[c])).collect();
    if !whole.iter().any(|&w| w) {
        return whole;
    }
    let mut max = vec![0.0f64; k];
    if k == 1 {
        (whole[0], max[0]) = scan(data);
    } else {
        let check = whole.clone();
        for values in data.chunks_exact(k) {
            for c in (0..k).filter(|&c| check[c]) {
                whole[c] &= is_whole(values[c]);
                max[c] = max[c].max(values[c].abs());
            }
        }
    }
    (0..k)
        .map(|c| whole[c] && (n as f64) * max[c] < EXACT_LIMIT)
        .collect()
}

/// Adding and subtracting `1.5 * 2^52` rounds a float below `2^51` in magnitude to
/// an integer (the sum's unit in the last place is 1): a float equal to its rounding
/// is whole. Without SSE4.1's `roundpd` this is the fast way, and it vectorises.
const ROUNDER: f64 = 6_755_399_441_055_744.0;

/// Whole and below `2^51` in magnitude (larger values take the accumulated path).
#[inline(always)]
fn is_whole(x: f64) -> bool {
    x.abs() < 2_251_799_813_685_248.0 && (x + ROUNDER) - ROUNDER == x
}

/// One column: whether every value is whole, and the largest magnitude. Written as
/// lanes without early exits so that it vectorises.
fn scan(data: &[f64]) -> (bool, f64) {
    const LANES: usize = 8;
    let mut whole = [true; LANES];
    let mut max = [0.0f64; LANES];
    let mut blocks = data.chunks_exact(LANES);
    for block in &mut blocks {
        for l in 0..LANES {
            whole[l] &= is_whole(block[l]);
            max[l] = max[l].max(block[l].abs());
        }
    }
    for &x in blocks.remainder() {
        whole[0] &= is_whole(x);
        max[0] = max[0].max(x.abs());
    }
    (
        whole.iter().all(|&w| w),
        max.iter().fold(0.0f64, |a, &b| a.max(b)),
    )
}

/// Overwrites the means of `columns` and the co-moments between them with their
/// exact values (see the module's documentation).
fn exact_moments(data: &[f64], k: usize, columns: &[usize], m: &mut Moments) {
    let e = columns.len();
    let (sum, product) = match (k, columns) {
        (1, [0]) => one_column_sums(data),
        _ => exact_sums(data, k, columns),
    };
    let n = (data.len() / k) as i128;
    let nf = n as f64;
    for (a, &c) in columns.iter().enumerate() {
        m.mean[c] = sum[a] as f64 / nf;
        for (b, &d) in columns.iter().enumerate().skip(a) {
            let numerator = n * product[a * e + b] - sum[a] * sum[b];
            let comoment = numerator as f64 / nf;
            m.comoment[c * k + d] = comoment;
            m.comoment[d * k + c] = comoment;
        }
    }
}

/// `S` and `Q` of one whole column. When every partial sum of squares stays below
/// `2^53` (`n max^2 <= 2^53`), float additions of these whole numbers are exact in
/// any order, so eight lanes add in parallel; otherwise [`exact_sums`].
fn one_column_sums(data: &[f64]) -> (Vec<i128>, Vec<i128>) {
    const LANES: usize = 8;
    let max = data.iter().fold(0.0f64, |a, &x| a.max(x.abs()));
    if (data.len() as f64) * max * max > 9_007_199_254_740_992.0 {
        return exact_sums(data, 1, &[0]);
    }
    let (mut s, mut q) = ([0.0f64; LANES], [0.0f64; LANES]);
    let mut blocks = data.chunks_exact(LANES);
    for block in &mut blocks {
        for l in 0..LANES {
            s[l] += block[l];
            q[l] += block[l] * block[l];
        }
    }
    for &x in blocks.remainder() {
        s[0] += x;
        q[0] += x * x;
    }
    let total = |v: [f64; LANES]| v.iter().map(|&x| x as i128).sum::<i128>();
    (vec![total(s)], vec![total(q)])
}

/// `S` and `Q` of whole columns in `i128`, which cannot overflow under the limit.
fn exact_sums(data: &[f64], k: usize, columns: &[usize]) -> (Vec<i128>, Vec<i128>) {
    let e = columns.len();
    let mut sum = vec![0i128; e];
    let mut product = vec![0i128; e * e];
    // Whole numbers below 2^62 in magnitude: the conversions are exact.
    let mut x = vec![0i128; e];
    for values in data.chunks_exact(k) {
        for (a, &c) in columns.iter().enumerate() {
            x[a] = values[c] as i64 as i128;
            sum[a] += x[a];
        }
        for a in 0..e {
            for b in a..e {
                product[a * e + b] += x[a] * x[b];
            }
        }
    }
    (sum, product)
}

/// The statistics [`carlo::stats::Accumulator`] gives for these rows: itself for up
/// to eight columns, else [`accumulate_any`].
fn accumulate(data: &[f64], k: usize) -> Moments {
    fn fixed<const D: usize>(data: &[f64]) -> Moments {
        let mut acc = Accumulator::<D>::new();
        for row in data.chunks_exact(D) {
            acc.push(row.try_into().expect("rows of D values"));
        }
        acc.finish()
    }
    match k {
        1 => fixed::<1>(data),
        2 => fixed::<2>(data),
        3 => fixed::<3>(data),
        4 => fixed::<4>(data),
        5 => fixed::<5>(data),
        6 => fixed::<6>(data),
        7 => fixed::<7>(data),
        8 => fixed::<8>(data),
        _ => accumulate_any(data, k),
    }
}

/// [`carlo::stats::Accumulator`] for any column count: the same operations in the
/// same order, so the same bits.
fn accumulate_any(data: &[f64], k: usize) -> Moments {
    let mut total = Moments::empty(k);
    let mut block = Moments::empty(k);
    let mut shift = vec![0.0f64; k];
    let mut sum = vec![0.0f64; k];
    let mut cross = vec![0.0f64; k * k];
    let mut d = vec![0.0f64; k];
    let mut fold = |filled: u32, shift: &[f64], sum: &mut [f64], cross: &mut [f64]| {
        let n = f64::from(filled);
        block.count = u64::from(filled);
        for i in 0..k {
            block.mean[i] = shift[i] + sum[i] / n;
            for j in i..k {
                let c = cross[i * k + j] - sum[i] * sum[j] / n;
                block.comoment[i * k + j] = c;
                block.comoment[j * k + i] = c;
            }
        }
        total.merge(&block);
        sum.fill(0.0);
        cross.fill(0.0);
    };
    let mut filled = 0u32;
    for x in data.chunks_exact(k) {
        if filled == 0 {
            shift.copy_from_slice(x);
        }
        for i in 0..k {
            d[i] = x[i] - shift[i];
            sum[i] += d[i];
        }
        for i in 0..k {
            for j in i..k {
                cross[i * k + j] += d[i] * d[j];
            }
        }
        filled += 1;
        if filled == BLOCK {
            fold(filled, &shift, &mut sum, &mut cross);
            filled = 0;
        }
    }
    if filled > 0 {
        fold(filled, &shift, &mut sum, &mut cross);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use carlo::model::Model;
    use carlo::models::{Pi, PiParams};
    use carlo::random::{Family, stream};
    use rand::RngExt;

    fn bits(m: &Moments) -> (u64, Vec<u64>, Vec<u64>) {
        let b = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect();
        (m.count, b(&m.mean), b(&m.comoment))
    }

    /// pi's samples drawn as a Python pi model draws them: pairs of uniforms.
    fn pi_samples(seed: u64, n: usize) -> Vec<f64> {
        let mut rng = stream(seed, Family::Chunk, 0);
        (0..n)
            .map(|_| {
                let x: f64 = rng.random();
                let y: f64 = rng.random();
                if x * x + y * y < 1.0 { 4.0 } else { 0.0 }
            })
            .collect()
    }

    #[test]
    fn pi_from_counts_is_bit_exact() {
        let pi = Pi::new(&PiParams {}).unwrap();
        for (seed, n) in [(1, 1), (2, 2), (3, 1000), (42, 65_536), (7, 100_003)] {
            let samples = pi_samples(seed, n);
            let ours = chunk_moments(&samples, 1).unwrap();
            let theirs = pi.simulate(&mut stream(seed, Family::Chunk, 0), n as u64);
            assert_eq!(bits(&ours), bits(&theirs), "seed {seed}, n {n}");
        }
        // Every hit count of a small chunk, and the accumulator would differ.
        let n = 1000;
        let mut differ = 0;
        for h in 0..=n {
            let samples: Vec<f64> = (0..n).map(|i| if i < h { 4.0 } else { 0.0 }).collect();
            let m = chunk_moments(&samples, 1).unwrap();
            let (nf, hf) = (n as f64, h as f64);
            assert_eq!(m.mean[0].to_bits(), (4.0 * hf / nf).to_bits());
            assert_eq!(
                m.comoment[0].to_bits(),
                (16.0 * hf * (nf - hf) / nf).to_bits()
            );
            differ += usize::from(bits(&accumulate(&samples, 1)) != bits(&m));
        }
        assert!(differ > 0, "the exact path made no difference");
    }

    fn rows(n: usize, k: usize, seed: u64) -> Vec<f64> {
        let mut rng = stream(seed, Family::Chunk, 3);
        (0..n * k)
            .map(|_| carlo::random::normal(&mut rng) * 3.0 + 1.5)
            .collect()
    }

    fn with_accumulator<const D: usize>(data: &[f64]) -> Moments {
        let mut acc = Accumulator::<D>::new();
        for row in data.chunks_exact(D) {
            acc.push(row.try_into().unwrap());
        }
        acc.finish()
    }

    #[test]
    fn float_columns_match_the_accumulator_bit_for_bit() {
        for n in [1, 2, 1023, 1024, 1025, 5000] {
            let d1 = rows(n, 1, 1);
            assert_eq!(
                bits(&chunk_moments(&d1, 1).unwrap()),
                bits(&with_accumulator::<1>(&d1))
            );
            let d3 = rows(n, 3, 2);
            assert_eq!(
                bits(&chunk_moments(&d3, 3).unwrap()),
                bits(&with_accumulator::<3>(&d3))
            );
        }
    }

    #[test]
    fn any_column_count_matches_the_accumulator_bit_for_bit() {
        for n in [1, 1024, 3000] {
            let d3 = rows(n, 3, 4);
            assert_eq!(
                bits(&accumulate_any(&d3, 3)),
                bits(&with_accumulator::<3>(&d3))
            );
            let d9 = rows(n, 9, 6);
            let m = chunk_moments(&d9, 9).unwrap();
            let reference = Moments::from_rows(
                9,
                &d9.chunks_exact(9).map(<[f64]>::to_vec).collect::<Vec<_>>(),
            );
            for (a, b) in m.comoment.iter().zip(&reference.comoment) {
                assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0));
            }
        }
    }

    #[test]
    fn whole_numbers_are_told_apart() {
        for x in [0.0, -0.0, 1.0, -3.0, 4.0, 1e15, -(2f64.powi(51) - 1.0)] {
            assert!(is_whole(x), "{x}");
        }
        for x in [
            0.5,
            -0.5,
            1e-300,
            2.5,
            1e15 + 0.5,
            2f64.powi(51),
            f64::NAN,
            f64::INFINITY,
        ] {
            assert!(!is_whole(x), "{x}");
        }
        // Sums of squares beyond 2^53 take the i128 path, and agree.
        let big: Vec<f64> = (0..1000).map(|i| f64::from(i) * 1e6).collect();
        assert_eq!(one_column_sums(&big), exact_sums(&big, 1, &[0]));
        let small: Vec<f64> = (0..1001).map(|i| f64::from(i % 17) - 8.0).collect();
        assert_eq!(one_column_sums(&small), exact_sums(&small, 1, &[0]));
    }

    #[test]
    fn mixed_columns_are_exact_where_they_can_be() {
        let n = 3000;
        let floats = rows(n, 1, 5);
        let mut data = Vec::new();
        for (i, &f) in floats.iter().enumerate() {
            data.extend([f, (i % 7) as f64, -((i % 3) as f64) * 1e6]);
        }
        let m = chunk_moments(&data, 3).unwrap();
        let reference = Moments::from_rows(
            3,
            &data
                .chunks_exact(3)
                .map(<[f64]>::to_vec)
                .collect::<Vec<_>>(),
        );
        for i in 0..3 {
            assert!((m.mean[i] - reference.mean[i]).abs() <= 1e-9 * reference.mean[i].abs());
            for j in 0..3 {
                let (a, b) = (m.comoment[i * 3 + j], reference.comoment[i * 3 + j]);
                assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{i},{j}: {a} {b}");
            }
        }
        // The integer block is exact: compare with the exact rational values.
        let (mut s1, mut s2, mut q12) = (0i128, 0i128, 0i128);
        for row in data.chunks_exact(3) {
            let (a, b) = (row[1] as i128, row[2] as i128);
            s1 += a;
            s2 += b;
            q12 += a * b;
        }
        let n = n as i128;
        assert_eq!(m.mean[1], s1 as f64 / n as f64);
        assert_eq!(m.comoment[5], (n * q12 - s1 * s2) as f64 / n as f64);
        assert_eq!(m.comoment[5], m.comoment[7]);
    }

    #[test]
    fn huge_whole_numbers_take_the_accumulated_path() {
        let data = [1e18, 3e18, 2e18];
        let m = chunk_moments(&data, 1).unwrap();
        assert_eq!(bits(&m), bits(&with_accumulator::<1>(&data)));
    }

    #[test]
    fn non_finite_samples_are_found() {
        let err = chunk_moments(&[1.0, 2.0, 3.0, f64::NAN, 5.0, 6.0], 2).unwrap_err();
        assert_eq!((err.row, err.column), (1, 1));
        assert!(err.value.is_nan());
        let err = chunk_moments(&[f64::NEG_INFINITY], 1).unwrap_err();
        assert_eq!(err.value, f64::NEG_INFINITY);
    }
}
