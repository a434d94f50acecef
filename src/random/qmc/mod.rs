//! Randomized quasi-Monte Carlo: scrambled Sobol points and the Brownian bridge.
//!
//! Contract. A [`Sobol`] point set is fixed by its number of dimensions and its
//! [`Randomization`]; point `n` is defined for every `n: u64` and is a function of `n`
//! alone. It is the point of Joe & Kuo's `sobol.cc` and of scipy's `qmc.Sobol`: the
//! Gray-code (Antonov-Saleev) order, `x_n = e XOR (XOR of V_k over the set bits k of
//! n ^ (n >> 1))`, with `V_k` the direction vectors of each dimension (scrambled or not)
//! and `e` the digital shift (zero unscrambled). [`Sobol::point`] computes it from `n`
//! directly; [`Points`] walks `n, n + 1, ...` with one XOR per coordinate, and returns
//! the same bits. So a chunk of a run that reads its index range `a..b` in ascending
//! order sees the same points, in the same order, whichever worker runs it and however
//! the range was cut. Gray-code order permutes the points only inside each aligned
//! block `[j 2^m, (j + 1) 2^m)`, which therefore holds the same set as the natural
//! order's block: a `(t, m, s)`-net, the property the error bounds rest on. Use
//! power-of-two point counts per replicate and chunk boundaries at multiples of a power
//! of two.
//!
//! Randomization ([`Sobol::scrambled`]) is Matousek's linear matrix scramble with a
//! digital shift, drawn from `(seed, replicate)` by the derivation named
//! [`RQMC_DERIVATION`] (the recipe is under *Randomization* below). Each replicate is
//! an independent, uniformly distributed randomization of the same net, so replicate
//! means are i.i.d. unbiased estimates and their spread is the error estimate.
//!
//! Coordinates are 64-bit integers ([`Sobol::point_bits`]) or, through [`to_unit`],
//! doubles in the open interval (0, 1) that an inverse normal CDF may take as they are.
//!
//! # Randomization
//!
//! `sobol-jk21201/lms-shift-v1`, the whole recipe:
//! - direction numbers: Joe & Kuo's `new-joe-kuo-6.21201`, dimensions 1..=[`D_MAX`];
//!   dimension 1 is van der Corput; 64-bit direction vectors `V_k = m_k 2^(64 - k)`,
//!   `k = 1..=64`, from their recurrence; points in Gray-code order (above);
//! - the random stream of replicate `r` for `seed`: carlo's generator
//!   (`Xoshiro256PlusPlus::seed_from_u64(seed)`, [`crate::random::stream::Stream`]) after two
//!   `long_jump`s (2^193 steps) and then `r` `jump`s (2^128 steps each). Chunk streams
//!   live in the first 2^192 steps and auxiliary streams in the next 2^192, so the
//!   scrambles never share a number with either family, for any chunk or replicate
//!   below 2^64;
//! - from that stream, 65 outputs per dimension, dimension 1 first: 64 matrix rows,
//!   then the shift. Row `i` (`i = 1..=64`, the row of output digit `i`, digit 1 being
//!   the most significant bit) keeps the top `i - 1` bits of its output below the
//!   diagonal and sets the diagonal bit: a random lower-triangular, unit-diagonal (so
//!   invertible) matrix `L` over GF(2). The scrambled direction vectors are `L V_k`,
//!   and the shift `e` is XORed onto every point: `x_n -> L x_n XOR e`. Dimension `j`
//!   uses the same 65 outputs whatever the number of dimensions asked for, so a point
//!   set's first coordinates do not depend on how many follow;
//! - doubles: [`to_unit`].
//!
//! A test pins the first scrambled points of two replicates, computed independently in
//! Python (`src/qmc/generate.py reference`); any change to the recipe must get a new
//! name.
//!
//! # Using it in a model
//!
//! Build one [`Sobol`] per replicate (a few milliseconds for hundreds of dimensions;
//! share it by reference across threads), then let each chunk read its own index range:
//!
//! ```
//! use carlo::random::qmc::{BrownianBridge, Sobol};
//!
//! let (seed, replicate, dates) = (42, 3, 252);
//! let sobol = Sobol::scrambled(dates, seed, replicate)?;
//! let bridge = BrownianBridge::uniform(dates, 1.0)?;
//! let (mut u, mut z, mut w) = (vec![0.0; dates], vec![0.0; dates], vec![0.0; dates]);
//! let (a, b) = (4096, 8192); // this chunk's point indices
//! let mut points = sobol.points(a);
//! let mut terminal = 0.0;
//! for _ in a..b {
//!     points.next_unit(&mut u); // coordinate k is in (0, 1), never 0 or 1
//!     for (z, &u) in z.iter_mut().zip(&u) {
//!         *z = inverse_normal_cdf(u);
//!     }
//!     bridge.path(&z, &mut w); // coordinate 0 drives W(T), then the midpoints
//!     terminal += w[dates - 1];
//! }
//! assert_eq!(points.index(), b);
//! # fn inverse_normal_cdf(u: f64) -> f64 {
//! #     use statrs::distribution::{ContinuousCDF, Normal};
//! #     Normal::standard().inverse_cdf(u)
//! # }
//! # Ok::<(), carlo::random::qmc::QmcError>(())
//! ```
//!
//! The estimate of a run is the mean of its replicate means; its standard error is
//! their standard deviation over `sqrt(R)` (a Student t interval with `R - 1` degrees
//! of freedom), not the within-replicate spread, which says nothing about the error of
//! a quasi-Monte Carlo mean.
//!
//! References: S. Joe and F. Y. Kuo, "Constructing Sobol sequences with better
//! two-dimensional projections", SIAM J. Sci. Comput. 30 (2008); J. Matousek, "On the
//! L2-discrepancy for anchored boxes", J. Complexity 14 (1998) (linear scrambling);
//! A. B. Owen, "Randomly permuted (t,m,s)-nets and (t,s)-sequences" (1995) and
//! "Variance with alternative scramblings of digital nets", ACM TOMACS 13 (2003);
//! P. Glasserman, Monte Carlo Methods in Financial Engineering (2004), 3.1 and 5.5.

mod bridge;
mod directions;
mod scramble;
mod sobol;

pub use bridge::BrownianBridge;
pub use directions::D_MAX;
pub use scramble::RQMC_DERIVATION;
pub use sobol::{Points, Randomization, Sobol};

/// What can be wrong with a request for quasi-Monte Carlo points or a bridge.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum QmcError {
    /// A Sobol point set was asked for no dimensions or more than the table holds.
    #[error("sobol: {dims} dimensions requested; the Joe-Kuo table has 1 to {max}")]
    DimensionsOutOfRange {
        /// The number asked for.
        dims: usize,
        /// [`D_MAX`].
        max: usize,
    },
    /// A Brownian bridge was asked for no dates.
    #[error("brownian bridge: no dates; it needs at least one")]
    NoDates,
    /// A Brownian bridge date is not finite, not positive or not after the previous one.
    #[error(
        "brownian bridge: date {index} is {time}; dates must be finite, positive and \
         strictly increasing"
    )]
    BadDate {
        /// Its position, from 0.
        index: usize,
        /// Its value.
        time: f64,
    },
}

/// A point coordinate's 64 bits as a double in the open interval (0, 1).
///
/// The result is `(floor(bits / 2^12) + 1/2) 2^-52`, the midpoint of the `2^-52`-wide
/// cell holding `bits / 2^64`: never 0 or 1 (the extremes are `2^-53` and
/// `1 - 2^-53`), exact (no rounding), and symmetric, `to_unit(!x) == 1 - to_unit(x)`.
/// The map keeps the net property of every interval `[k 2^-m, (k + 1) 2^-m)` with
/// `m <= 52`. Why 52 bits and not 53: `(top 53 bits + 1/2) 2^-53` needs 54 significant
/// bits, rounds, and gives exactly 1.0 for the top coordinates.
#[inline(always)]
pub fn to_unit(bits: u64) -> f64 {
    // 1 + k 2^-52 in [1, 2), built from the exponent of 1.0 and the top 52 bits, minus
    // (1 - 2^-53): the exact difference (2k + 1) 2^-53 fits in 53 bits, so the
    // subtraction does not round. Cheaper than an integer-to-float conversion, and it
    // vectorizes.
    const ONE: u64 = 0x3ff0_0000_0000_0000;
    const ONE_MINUS_HALF_CELL: f64 = 1.0 - 1.0 / (1u64 << 53) as f64;
    f64::from_bits(ONE | (bits >> 12)) - ONE_MINUS_HALF_CELL
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::stream::{Family, stream};
    use rand::Rng;

    fn reference(bits: u64) -> f64 {
        ((bits >> 12) as f64 + 0.5) * (1.0 / (1u64 << 52) as f64)
    }

    #[test]
    fn to_unit_is_the_cell_midpoint_inside_the_open_interval() {
        let edge = [0, 1, 4095, 4096, 1 << 63, u64::MAX - 4096, u64::MAX];
        let mut rng = stream(7, Family::Chunk, 0);
        let random = (0..10_000).map(|_| rng.next_u64());
        for x in edge.into_iter().chain(random) {
            let u = to_unit(x);
            assert_eq!(u.to_bits(), reference(x).to_bits(), "{x:#x}");
            assert!(u > 0.0 && u < 1.0);
            assert_eq!(to_unit(!x), 1.0 - u, "{x:#x}");
            // The dyadic cell of the float is the integer's.
            for m in [1, 7, 32, 52] {
                assert_eq!((u * (1u64 << m) as f64) as u64, x >> (64 - m));
            }
        }
        assert_eq!(to_unit(0), 1.0 / (1u64 << 53) as f64);
        assert_eq!(to_unit(u64::MAX), 1.0 - 1.0 / (1u64 << 53) as f64);
    }

    /// Why the map keeps 52 bits: the 53-bit version rounds up to 1.0.
    #[test]
    fn a_53_bit_midpoint_would_reach_one() {
        let top53 = ((u64::MAX >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64);
        assert_eq!(top53, 1.0);
    }

    /// Mean and standard error of `values`.
    fn mean_se(values: &[f64]) -> (f64, f64) {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, (var / n).sqrt())
    }

    /// The half-width factor of a 99% Student t interval with `r - 1` degrees of freedom.
    fn t99(r: usize) -> f64 {
        use statrs::distribution::{ContinuousCDF, StudentsT};
        StudentsT::new(0.0, 1.0, (r - 1) as f64)
            .unwrap()
            .inverse_cdf(0.995)
    }

    /// `R` replicate means of `f` over points `0..2^m`, and the mean and standard
    /// error of `R 2^m` plain Monte Carlo samples of `f` on carlo's chunk stream.
    fn rqmc_and_mc(
        dims: usize,
        replicates: u64,
        m: u32,
        f: impl Fn(&[f64]) -> f64,
    ) -> ((f64, f64), (f64, f64)) {
        let mut u = vec![0.0; dims];
        let means: Vec<f64> = (0..replicates)
            .map(|r| {
                let sobol = Sobol::scrambled(dims, 2718, r).unwrap();
                let mut points = sobol.points(0);
                let mut sum = 0.0;
                for _ in 0..1u64 << m {
                    points.next_unit(&mut u);
                    sum += f(&u);
                }
                sum / (1u64 << m) as f64
            })
            .collect();
        let mut rng = stream(2718, Family::Chunk, 0);
        let mc: Vec<f64> = (0..replicates << m)
            .map(|_| {
                for u in &mut u {
                    *u = to_unit(rng.next_u64());
                }
                f(&u)
            })
            .collect();
        (mean_se(&means), mean_se(&mc))
    }

    /// A smooth integral, `prod_j (1 + (x_j - 1/2) / j)` over 12 dimensions, exactly
    /// 1: 16 replicates of 2^12 points have an error far below plain Monte Carlo's at
    /// the same 2^16 points, and their 99% t interval covers the truth. Fixed seed.
    #[test]
    fn rqmc_beats_monte_carlo_on_a_smooth_integral() {
        let f = |x: &[f64]| {
            x.iter()
                .enumerate()
                .map(|(j, &x)| 1.0 + (x - 0.5) / (j + 1) as f64)
                .product::<f64>()
        };
        let ((q, q_se), (mc, mc_se)) = rqmc_and_mc(12, 16, 12, f);
        assert!((q - 1.0).abs() <= t99(16) * q_se, "{q} +- {q_se}");
        assert!((mc - 1.0).abs() <= 4.0 * mc_se, "{mc} +- {mc_se}");
        assert!(q_se * 100.0 < mc_se, "rqmc {q_se:e} vs mc {mc_se:e}");
        eprintln!("product: rqmc {q} +- {q_se:e}, mc {mc} +- {mc_se:e}");
    }

    /// A path functional through the Brownian bridge: `E exp(mean_i W(t_i))` over 64
    /// dates in one year is `exp(v / 2)`, `v = sum_ij min(t_i, t_j) / 64^2`. 16
    /// replicates of 2^10 points against plain Monte Carlo at the same 2^14 paths.
    #[test]
    fn rqmc_with_a_brownian_bridge_prices_a_path_functional() {
        use statrs::distribution::{ContinuousCDF, Normal};
        const N: usize = 64;
        let bridge = BrownianBridge::uniform(N, 1.0).unwrap();
        let t = bridge.times();
        let v: f64 = (0..N)
            .flat_map(|i| (0..N).map(move |j| t[i].min(t[j])))
            .sum::<f64>()
            / (N * N) as f64;
        let exact = (v / 2.0).exp();
        let normal = Normal::standard();
        let f = |u: &[f64]| {
            let z: Vec<f64> = u.iter().map(|&u| normal.inverse_cdf(u)).collect();
            let mut w = [0.0; N];
            bridge.path(&z, &mut w);
            (w.iter().sum::<f64>() / N as f64).exp()
        };
        let ((q, q_se), (mc, mc_se)) = rqmc_and_mc(N, 16, 10, f);
        assert!(
            (q - exact).abs() <= t99(16) * q_se,
            "{q} +- {q_se} vs {exact}"
        );
        assert!(
            (mc - exact).abs() <= 4.0 * mc_se,
            "{mc} +- {mc_se} vs {exact}"
        );
        assert!(q_se * 10.0 < mc_se, "rqmc {q_se:e} vs mc {mc_se:e}");
        eprintln!("bridge: rqmc {q} +- {q_se:e}, mc {mc} +- {mc_se:e}, exact {exact}");
    }

    #[test]
    fn errors_name_the_problem() {
        let e = QmcError::DimensionsOutOfRange {
            dims: 0,
            max: D_MAX,
        };
        assert_eq!(
            e.to_string(),
            "sobol: 0 dimensions requested; the Joe-Kuo table has 1 to 1024"
        );
    }
}
