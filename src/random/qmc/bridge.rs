//! The Brownian bridge: standard normals to a Brownian path, coarsest features first.
//!
//! Contract. For dates `0 < t_1 < ... < t_n`, [`BrownianBridge::path`] maps `n`
//! standard normals `z` to `W(t_1), ..., W(t_n)` of a standard Brownian motion with
//! `W(0) = 0`; [`BrownianBridge::increments`] gives `W(t_i) - W(t_{i-1})` instead. The
//! map is linear, and `z` independent standard normals give exactly the law of the
//! Brownian path (covariance `min(t_i, t_j)`). Why a bridge: `z[0]` alone decides the
//! terminal value, `z[1]` the middle date, `z[2]` and `z[3]` the quarter dates, and so
//! on, so the first coordinates of a quasi-Monte Carlo point, the best distributed
//! ones, carry most of the variance of a payoff (Glasserman 2004, 3.1 and 5.5;
//! Moskowitz & Caflisch 1996).
//!
//! Order, for any `n` (not only powers of two), and identical to QuantLib's
//! `BrownianBridge` (Jaeckel's construction): `z[0]` sets `W(t_n) = sqrt(t_n) z[0]`.
//! Then the gaps between known dates, with date 0 known, are bisected breadth first,
//! left to right: a gap between known date indices `l < r` with `r - l >= 2` gets its
//! date `m = l + (r - l) / 2` (rounded down) from the next coordinate,
//! `W(t_m) = wl W(t_l) + wr W(t_r) + s z[k]`, with `wl = (t_r - t_m) / (t_r - t_l)`,
//! `wr = (t_m - t_l) / (t_r - t_l)` and `s = sqrt((t_m - t_l)(t_r - t_m) / (t_r - t_l))`,
//! and leaves the gaps `(l, m)` and `(m, r)` for later. [`BrownianBridge::order`] lists
//! which date each coordinate drives; for 8 dates it is `t_8, t_4, t_2, t_6, t_1, t_3,
//! t_5, t_7`.
//!
//! Determinism: the weights are computed once, in a fixed order, and each date is the
//! expression above evaluated left to right, `((wl * W_l) + (wr * W_r)) + (s * z)`,
//! with `W_0 = 0.0` (Rust does not fuse multiplications and additions), so the same `z`
//! give the same bits everywhere.

use std::collections::VecDeque;

use super::QmcError;

/// How one date is filled in from its neighbours.
#[derive(Debug, Clone, Copy)]
struct Fill {
    /// The date's index into the path (0 for `t_1`).
    date: usize,
    /// The left neighbour's index plus one (0 is time 0, where `W = 0`).
    left: usize,
    /// The right neighbour's index.
    right: usize,
    left_weight: f64,
    right_weight: f64,
    std_dev: f64,
}

/// The Brownian bridge construction for fixed dates (see the module docs).
#[derive(Debug, Clone)]
pub struct BrownianBridge {
    times: Box<[f64]>,
    /// `sqrt(t_n)`: the terminal value's standard deviation.
    terminal: f64,
    /// The other dates, in construction order: `fills[k - 1]` uses `z[k]`.
    fills: Box<[Fill]>,
    /// `order[k]`: the date index `z[k]` drives.
    order: Box<[usize]>,
}

impl BrownianBridge {
    /// The bridge over `steps` equally spaced dates `t_i = (i / steps) T`,
    /// `i = 1..=steps`, with `T = maturity` (so `t_steps` is exactly `T`).
    pub fn uniform(steps: usize, maturity: f64) -> Result<Self, QmcError> {
        let times: Vec<f64> = (1..=steps)
            .map(|i| (i as f64 / steps as f64) * maturity)
            .collect();
        Self::new(&times)
    }

    /// The bridge over the dates `times`: finite, positive, strictly increasing.
    pub fn new(times: &[f64]) -> Result<Self, QmcError> {
        let n = times.len();
        if n == 0 {
            return Err(QmcError::NoDates);
        }
        let mut previous = 0.0;
        for (index, &time) in times.iter().enumerate() {
            if !(time.is_finite() && time > previous) {
                return Err(QmcError::BadDate { index, time });
            }
            previous = time;
        }
        // t(0) is time 0; t(i) is times[i - 1].
        let t = |i: usize| if i == 0 { 0.0 } else { times[i - 1] };
        let mut fills = Vec::with_capacity(n - 1);
        let mut order = Vec::with_capacity(n);
        order.push(n - 1);
        let mut gaps = VecDeque::from([(0, n)]);
        while let Some((l, r)) = gaps.pop_front() {
            if r - l < 2 {
                continue;
            }
            let m = l + (r - l) / 2;
            let (tl, tm, tr) = (t(l), t(m), t(r));
            fills.push(Fill {
                date: m - 1,
                left: l,
                right: r - 1,
                left_weight: (tr - tm) / (tr - tl),
                right_weight: (tm - tl) / (tr - tl),
                std_dev: ((tm - tl) * (tr - tm) / (tr - tl)).sqrt(),
            });
            order.push(m - 1);
            gaps.push_back((l, m));
            gaps.push_back((m, r));
        }
        Ok(BrownianBridge {
            times: times.into(),
            terminal: times[n - 1].sqrt(),
            fills: fills.into_boxed_slice(),
            order: order.into_boxed_slice(),
        })
    }

    /// The number of dates (and of normals a path takes).
    pub fn steps(&self) -> usize {
        self.times.len()
    }

    /// The dates `t_1..t_n`.
    pub fn times(&self) -> &[f64] {
        &self.times
    }

    /// `order()[k]` is the index (0 for `t_1`) of the date that `z[k]` drives.
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// Writes `W(t_1), ..., W(t_n)` built from the normals `z` into `w`.
    ///
    /// Panics unless `z` and `w` both have [`steps`](Self::steps) elements.
    #[inline]
    pub fn path(&self, z: &[f64], w: &mut [f64]) {
        let n = self.times.len();
        assert!(
            z.len() == n && w.len() == n,
            "one normal and one value per date"
        );
        w[n - 1] = self.terminal * z[0];
        for (f, &z) in self.fills.iter().zip(&z[1..]) {
            let left = if f.left == 0 { 0.0 } else { w[f.left - 1] };
            w[f.date] = f.left_weight * left + f.right_weight * w[f.right] + f.std_dev * z;
        }
    }

    /// Writes the increments `W(t_1) - W(0), W(t_2) - W(t_1), ...` built from the
    /// normals `z` into `dw`: the differences of [`path`](Self::path), bit for bit.
    ///
    /// Panics unless `z` and `dw` both have [`steps`](Self::steps) elements.
    #[inline]
    pub fn increments(&self, z: &[f64], dw: &mut [f64]) {
        self.path(z, dw);
        for i in (1..dw.len()).rev() {
            dw[i] -= dw[i - 1];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::stream::{Family, stream};
    use rand::RngExt;
    use rand_distr::StandardNormal;
    use sha2::{Digest, Sha256};

    #[test]
    fn one_date_is_sqrt_t_times_z() {
        for t in [1.0, 0.25, 2.7, 1e-3] {
            let bridge = BrownianBridge::uniform(1, t).unwrap();
            assert_eq!(bridge.times(), &[t]);
            for z in [0.0, 1.0, -2.3, 0.123456789] {
                let mut w = [f64::NAN];
                bridge.path(&[z], &mut w);
                assert_eq!(w[0].to_bits(), (t.sqrt() * z).to_bits());
                bridge.increments(&[z], &mut w);
                assert_eq!(w[0].to_bits(), (t.sqrt() * z).to_bits());
            }
        }
    }

    /// The construction order is QuantLib 1.44's `BrownianBridge::bridgeIndex()`.
    #[test]
    fn order_is_quantlibs() {
        let order = |n| BrownianBridge::uniform(n, 1.0).unwrap().order().to_vec();
        assert_eq!(order(1), [0]);
        assert_eq!(order(2), [1, 0]);
        assert_eq!(order(5), [4, 1, 0, 2, 3]);
        assert_eq!(order(8), [7, 3, 1, 5, 0, 2, 4, 6]);
        assert_eq!(order(12), [11, 5, 2, 8, 0, 3, 6, 9, 1, 4, 7, 10]);
        let o252 = order(252);
        assert_eq!(
            o252[..16],
            [
                251, 125, 62, 188, 30, 93, 156, 219, 14, 46, 77, 109, 140, 172, 203, 235
            ]
        );
        let text: Vec<String> = o252.iter().map(|i| i.to_string()).collect();
        let digest: String = Sha256::digest(text.join(",").as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            digest,
            "98e11197e7a0d29b54317e0809b1646e57038f3f7cbd1c69c80382238028f4a2"
        );
        // Every date exactly once, for every n.
        for n in 1..=300 {
            let mut o = order(n);
            o.sort();
            assert_eq!(o, (0..n).collect::<Vec<_>>());
        }
    }

    /// Paths from fixed normals equal QuantLib's (its increments, divided by
    /// `sqrt(dt)` as QuantLib returns them, multiplied back and summed in Python):
    /// equally spaced and uneven dates. The operation order differs from QuantLib's,
    /// hence a tolerance of a few ulps.
    #[test]
    fn paths_match_quantlib() {
        let z = [
            0.3, -1.2, 0.7, 2.1, -0.4, 0.05, -2.5, 1.1, 0.9, -0.8, 1.7, -0.2,
        ];
        let cases: [(BrownianBridge, &[f64]); 2] = [
            (
                BrownianBridge::uniform(12, 1.5).unwrap(),
                &[
                    -0.10628962208410982,
                    0.1856258365886681,
                    0.027541295261445997,
                    -0.150917110471367,
                    -0.5510261512987911,
                    -0.551135192126215,
                    -0.816621028364745,
                    0.425424890127273,
                    0.8174708086192912,
                    0.9849976742729804,
                    0.6262105678452284,
                    0.36742346141747656,
                ],
            ),
            (
                BrownianBridge::new(&[0.1, 0.25, 0.5, 0.6, 1.0, 1.7, 2.0]).unwrap(),
                &[
                    0.07223371760083908,
                    -0.3131212532599986,
                    -0.6287809056569712,
                    -0.30194865868233756,
                    0.9346696510975429,
                    -0.5682581803113474,
                    0.42426406871192845,
                ],
            ),
        ];
        for (bridge, expect) in cases {
            let n = bridge.steps();
            let mut w = vec![0.0; n];
            bridge.path(&z[..n], &mut w);
            for (a, b) in w.iter().zip(expect) {
                assert!((a - b).abs() <= 1e-14, "{w:?}");
            }
        }
    }

    /// The map's matrix `A` (column k is the path of the k-th unit vector) satisfies
    /// `A A^T = min(t_i, t_j)`: the exact covariance of Brownian motion.
    #[test]
    fn covariance_is_exactly_min_s_t() {
        let cases = [
            BrownianBridge::uniform(1, 2.0).unwrap(),
            BrownianBridge::uniform(2, 1.0).unwrap(),
            BrownianBridge::uniform(5, 0.5).unwrap(),
            BrownianBridge::uniform(12, 1.0).unwrap(),
            BrownianBridge::uniform(252, 1.0).unwrap(),
            BrownianBridge::new(&[0.01, 0.3, 0.31, 1.0, 4.0, 4.5]).unwrap(),
        ];
        for bridge in cases {
            let n = bridge.steps();
            let columns: Vec<Vec<f64>> = (0..n)
                .map(|k| {
                    let mut e = vec![0.0; n];
                    e[k] = 1.0;
                    let mut w = vec![0.0; n];
                    bridge.path(&e, &mut w);
                    w
                })
                .collect();
            for i in 0..n {
                for j in 0..n {
                    let c: f64 = columns.iter().map(|col| col[i] * col[j]).sum();
                    let exact = bridge.times()[i].min(bridge.times()[j]);
                    assert!((c - exact).abs() <= 1e-13 * exact.max(1.0), "{n}: {i}, {j}");
                }
            }
            // z[0] alone is the straight line to sqrt(T) z[0].
            let t_n = bridge.times()[n - 1];
            for (w, t) in columns[0].iter().zip(bridge.times()) {
                assert!((w - t / t_n.sqrt()).abs() <= 1e-15 * t_n.max(1.0));
            }
        }
    }

    /// On pseudo-random normals, the sample covariance of the path is `min(s, t)`
    /// within 5 standard errors of a sample covariance (`sqrt((s t + min^2) / N)`),
    /// and the increments are uncorrelated with variance `dt`. Fixed seed.
    #[test]
    fn sample_covariance_on_random_normals() {
        const N: usize = 20_000;
        let bridge = BrownianBridge::uniform(12, 1.0).unwrap();
        let times = bridge.times();
        let mut rng = stream(2024, Family::Chunk, 0);
        let (mut z, mut w, mut dw) = ([0.0; 12], [0.0; 12], [0.0; 12]);
        let mut sum = [[0.0; 12]; 12];
        let mut sum_dw = [[0.0; 12]; 12];
        for _ in 0..N {
            for z in &mut z {
                *z = rng.sample(StandardNormal);
            }
            bridge.path(&z, &mut w);
            bridge.increments(&z, &mut dw);
            for i in 0..12 {
                let expected = if i == 0 { w[0] } else { w[i] - w[i - 1] };
                assert_eq!(dw[i].to_bits(), expected.to_bits());
                for j in 0..12 {
                    sum[i][j] += w[i] * w[j];
                    sum_dw[i][j] += dw[i] * dw[j];
                }
            }
        }
        let dt = 1.0 / 12.0;
        for i in 0..12 {
            for j in 0..12 {
                let (s, t) = (times[i], times[j]);
                let se = ((s * t + s.min(t).powi(2)) / N as f64).sqrt();
                assert!(
                    (sum[i][j] / N as f64 - s.min(t)).abs() < 5.0 * se,
                    "{i} {j}"
                );
                let (exact, se) = if i == j {
                    (dt, (2.0f64 / N as f64).sqrt() * dt)
                } else {
                    (0.0, dt / (N as f64).sqrt())
                };
                assert!(
                    (sum_dw[i][j] / N as f64 - exact).abs() < 5.0 * se,
                    "{i} {j}"
                );
            }
        }
    }

    #[test]
    fn bad_dates_are_refused() {
        assert_eq!(
            BrownianBridge::uniform(0, 1.0).unwrap_err(),
            QmcError::NoDates
        );
        assert_eq!(BrownianBridge::new(&[]).unwrap_err(), QmcError::NoDates);
        let bad: [(&[f64], usize); 5] = [
            (&[0.0, 1.0], 0),
            (&[-1.0], 0),
            (&[0.5, 0.5], 1),
            (&[0.5, 0.4], 1),
            (&[0.5, f64::INFINITY], 1),
        ];
        for (times, index) in bad {
            match BrownianBridge::new(times) {
                Err(QmcError::BadDate { index: i, .. }) => assert_eq!(i, index, "{times:?}"),
                other => panic!("{times:?}: {other:?}"),
            }
        }
        assert!(BrownianBridge::new(&[f64::NAN]).is_err());
        assert!(BrownianBridge::uniform(3, 0.0).is_err());
        assert!(BrownianBridge::uniform(3, f64::NAN).is_err());
    }
}
