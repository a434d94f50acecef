//! The pieces every option model's sample loop is made of: exact GBM steps, the
//! columns of a sample's row, and the loop that accumulates rows.
//!
//! A sample's row holds the discounted payoff, then the control variate (when
//! `control_variate` is on), then the payoff of the first path alone (when
//! `antithetic` is on: its variance is the plain estimator's, which is what the
//! `variance_reduction` column compares with).

use super::market::{Market, Reduction};
use crate::math::Lanes;
use crate::model::Quantity;
use crate::random::lane_normals::LaneNormals;
use crate::random::lanes::{LANES, LaneStates};
use crate::stats::{BlockAccumulator, BlockStats, Control};

/// Samples per block of the vector sample loops: the unit in which the statistics
/// are folded (part of what decides the bits).
pub(crate) const SAMPLES: usize = 256;

/// The columns of one block of samples, one entry per sample.
#[derive(Debug, Clone)]
pub(crate) struct Columns {
    /// The samples (the average of a path and its mirror with antithetic paths).
    pub price: [f64; SAMPLES + 24],
    /// The control variate's samples, where the layout has a control.
    pub control: [f64; SAMPLES + 24],
    /// The payoff of the first path of each pair, where paths are antithetic.
    pub plain: [f64; SAMPLES],
}

impl Columns {
    fn new() -> Self {
        Columns {
            price: [0.0; SAMPLES + 24],
            control: [0.0; SAMPLES + 24],
            plain: [0.0; SAMPLES],
        }
    }
}

/// Paths a path model walks side by side, one per lane of the block (two vectors of
/// four lanes on AVX2, eight scalar paths in turn without SIMD): path `p` of a group is
/// lane `p`'s sample.
pub(crate) const GROUP: usize = LANES;

/// The normal of each lane's path at step `j`, from a group's normals: row `j` holds
/// step `j`'s normal of every lane's path (`z[j * GROUP + p]`, lane `p` drawing from its
/// own stream), and the lanes of the `h`-th vector of the group are its paths `h *
/// V::LANES..`.
///
/// # Safety
/// The CPU must support `V`'s instruction set, and `z` must hold `GROUP * steps`
/// values with `j < steps`.
#[inline(always)]
pub(crate) unsafe fn normal_at<V: Lanes>(z: &[f64], steps: usize, h: usize, j: usize) -> V {
    debug_assert!(z.len() >= GROUP * steps && j < steps);
    // SAFETY: lane k reads z[j GROUP + h LANES + k], below GROUP steps.
    unsafe { V::load(z.as_ptr().add(j * GROUP + h * V::LANES)) }
}

/// `discount max(phi (s - strike), 0)` of each lane.
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn payoff<V: Lanes>(s: V, strike: f64, phi: f64) -> V {
    // SAFETY: passed on from the caller.
    unsafe {
        V::splat(phi)
            .mul(s.sub(V::splat(strike)))
            .max(V::splat(0.0))
    }
}

/// Exact steps of geometric Brownian motion over a fixed time `dt`:
/// `S(t + dt) = S(t) exp((r - q - sigma^2 / 2) dt + sigma sqrt(dt) z)`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Step {
    drift: f64,
    vol: f64,
}

impl Step {
    /// Steps of length `dt` in `market`.
    pub(crate) fn new(market: &Market, dt: f64) -> Self {
        let sigma = market.volatility;
        Step {
            drift: (market.rate - market.dividend - 0.5 * sigma * sigma) * dt,
            vol: sigma * dt.sqrt(),
        }
    }

    /// The log-growth `(r - q - sigma^2 / 2) dt + sigma sqrt(dt) z` of each lane.
    ///
    /// # Safety
    /// The CPU must support `V`'s instruction set.
    #[inline(always)]
    pub(crate) unsafe fn log_growth<V: Lanes>(&self, z: V) -> V {
        // SAFETY: passed on from the caller.
        unsafe { V::splat(self.drift).add(V::splat(self.vol).mul(z)) }
    }

    /// The log-growth for the mirror normal `-z`.
    ///
    /// # Safety
    /// The CPU must support `V`'s instruction set.
    #[inline(always)]
    pub(crate) unsafe fn mirror_log_growth<V: Lanes>(&self, z: V) -> V {
        // SAFETY: passed on from the caller.
        unsafe { V::splat(self.drift).sub(V::splat(self.vol).mul(z)) }
    }
}

/// Which columns a model's rows have, from its variance reduction switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout(Reduction);

impl Layout {
    /// The columns `reduction` needs.
    pub(crate) fn new(reduction: Reduction) -> Self {
        Layout(reduction)
    }

    /// Whether samples are antithetic pairs.
    pub(crate) fn antithetic(self) -> bool {
        self.0.antithetic
    }

    /// Columns of a row.
    pub(crate) fn dim(self) -> usize {
        1 + usize::from(self.0.control_variate) + usize::from(self.0.antithetic)
    }

    /// The `price` quantity: column 0, corrected by the control (whose exact mean is
    /// `control_mean`) when there is one.
    pub(crate) fn price(self, control_mean: f64) -> Quantity {
        let mut q = Quantity::new("price", 0);
        if self.0.control_variate {
            q.control = Some(Control {
                column: 1,
                mean: control_mean,
            });
        }
        if self.0.antithetic {
            q.plain = Some(self.dim() - 1);
        }
        q
    }

    /// The statistics of a block of `samples` samples computed a run at a time:
    /// `block(n, columns)` fills entries `..n` of the columns the layout has, for the
    /// block's next `n` samples (`n` is [`SAMPLES`], less in the last run).
    ///
    /// # Safety
    /// The CPU must support `V`'s instruction set.
    #[inline(always)]
    pub(crate) unsafe fn blocks<V: Lanes>(
        self,
        samples: usize,
        block: impl FnMut(usize, &mut Columns),
    ) -> BlockStats {
        // SAFETY: passed on from the caller.
        unsafe {
            match self.dim() {
                1 => self.blocks_of::<V, 1>(samples, block),
                2 => self.blocks_of::<V, 2>(samples, block),
                _ => self.blocks_of::<V, 3>(samples, block),
            }
        }
    }

    /// The statistics of a block of `samples` samples whose paths take `steps` normals
    /// each, walked [`GROUP`] at a time, one per lane: for each group,
    /// `walk(z, columns, at)` gets the normals of the group's paths from `normals`
    /// (step `j` of every lane's path in row `j`, `z[j * GROUP..]`; past the block's
    /// last sample, normals of lanes whose paths are not counted) and fills entries
    /// `at..at + GROUP` of the columns the layout has.
    ///
    /// Lane `l`'s `i`-th path (sample `8 i + l` of the block) thus takes normals `i
    /// steps..(i + 1) steps` of lane `l`'s normal sequence, as a one-path-at-a-time
    /// loop drawing from the lane would.
    ///
    /// # Safety
    /// The CPU must support `V`'s instruction set.
    #[inline(always)]
    pub(crate) unsafe fn paths<V: Lanes>(
        self,
        samples: usize,
        steps: usize,
        normals: &mut LaneNormals,
        lanes: &mut LaneStates,
        mut walk: impl FnMut(&[f64], &mut Columns, usize),
    ) -> BlockStats {
        let mut z = vec![0.0; GROUP * steps];
        // SAFETY: passed on from the caller.
        unsafe {
            self.blocks::<V>(
                samples,
                #[inline(always)]
                |n, columns| {
                    let mut at = 0;
                    while at < n {
                        normals.fill::<V>(lanes, &mut z);
                        walk(&z, columns, at);
                        at += GROUP;
                    }
                },
            )
        }
    }

    #[inline(always)]
    unsafe fn blocks_of<V: Lanes, const D: usize>(
        self,
        samples: usize,
        mut block: impl FnMut(usize, &mut Columns),
    ) -> BlockStats {
        let mut acc = BlockAccumulator::<D>::new();
        let mut columns = Columns::new();
        let mut left = samples;
        while left > 0 {
            let n = left.min(SAMPLES);
            block(n, &mut columns);
            let cols = self.used(&mut columns);
            // SAFETY: passed on from the caller.
            unsafe { acc.add::<V>(cols, n) };
            left -= n;
        }
        acc.take()
    }

    /// The columns of `columns` this layout has: price, then control, then plain.
    #[inline(always)]
    fn used<const D: usize>(self, columns: &mut Columns) -> [&mut [f64]; D] {
        let Columns {
            price,
            control,
            plain,
        } = columns;
        let mut used = [
            Some(&mut price[..]),
            self.0.control_variate.then_some(&mut control[..]),
            self.0.antithetic.then_some(&mut plain[..]),
        ]
        .into_iter()
        .flatten();
        std::array::from_fn(|_| used.next().expect("D columns"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(antithetic: bool, control_variate: bool) -> Layout {
        Layout::new(Reduction {
            antithetic,
            control_variate,
        })
    }

    #[test]
    fn columns_follow_the_switches() {
        let cases = [
            (false, false, vec![1.0]),
            (false, true, vec![1.0, 2.0]),
            (true, false, vec![1.0, 3.0]),
            (true, true, vec![1.0, 2.0, 3.0]),
        ];
        for (anti, cv, expected) in cases {
            let l = layout(anti, cv);
            // SAFETY: the scalar lanes need no instruction set.
            let m = unsafe {
                l.blocks::<f64>(2, |n, columns| {
                    columns.price[..n].fill(1.0);
                    columns.control[..n].fill(2.0);
                    columns.plain[..n].fill(3.0);
                })
            };
            assert_eq!(m.count, 2);
            assert_eq!(m.shift, expected, "antithetic {anti}, control {cv}");
            let q = l.price(5.0);
            assert_eq!(q.control.map(|c| c.column), cv.then_some(1));
            assert_eq!(q.plain, anti.then_some(expected.len() - 1));
        }
    }
}
