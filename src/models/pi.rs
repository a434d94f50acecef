//! Pi from the fraction of uniform points in the unit square that fall in the
//! quarter disc.

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::math::{LaneProgram, Lanes, Simd};
use crate::model::Block;
use crate::model::{Entry, Model, Quantity};
use crate::random::lanes::{LANES, LaneStates};
use crate::stats::BlockStats;

/// `pi` takes no parameters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PiParams {}

/// Each sample is `4` if a uniform point of `[0,1)^2` lies inside the unit circle,
/// else `0`; its mean is pi and its variance `pi (4 - pi)`.
#[derive(Debug, Clone)]
pub struct Pi {
    quantities: [Quantity; 1],
}

/// The registry entry of `type = "pi"`.
pub(super) fn entry() -> Entry {
    Entry::new(
        "pi",
        "pi from points in the unit square (reference: pi)",
        |p: &PiParams, _| Pi::new(p),
    )
}

impl Pi {
    /// The pi model.
    pub fn new(_params: &PiParams) -> Result<Self, Error> {
        Ok(Pi {
            quantities: [Quantity::new("pi", 0).exact(std::f64::consts::PI)],
        })
    }
}

impl Model for Pi {
    fn dim(&self) -> usize {
        1
    }

    fn quantities(&self) -> &[Quantity] {
        &self.quantities
    }

    fn simulate(&self, block: &mut Block) -> Result<BlockStats, String> {
        // Count hits, then write the statistics of the 0/4 samples from the count:
        // every partial sum of an accumulator of them is a whole number below 2^53,
        // so it is exact, and so are these (a test checks it).
        let samples = block.samples();
        let (hits, first) = Simd::current().run(Hits {
            lanes: block.lanes(),
            samples,
        });
        Ok(from_hits(samples, hits, first))
    }
}

/// The statistics of `samples` samples of 0 or 4, `hits` of them 4, the first one 4
/// when `first`.
fn from_hits(samples: usize, hits: u64, first: bool) -> BlockStats {
    let n = samples as f64;
    let h = hits as f64;
    let (shift, sum, cross) = if first {
        // shifted by 4: the misses are -4 each
        (4.0, -4.0 * (n - h), 16.0 * (n - h))
    } else {
        (0.0, 4.0 * h, 16.0 * h)
    };
    BlockStats {
        count: samples as u64,
        shift: vec![shift],
        sum: vec![sum],
        cross: vec![cross],
    }
}

/// Counts the points of one block that fall in the quarter disc, on the lanes of the
/// current SIMD level; also says whether the block's first point is a hit.
///
/// Hand-written hot loop. A lane's point is two consecutive words of its stream, `x`
/// then `y`, each made a uniform in `[0, 1)` as rand's `StandardUniform` makes it
/// (`(w >> 11) 2^-53`), and it is a hit when `x * x + y * y < 1`, evaluated in `f64`:
/// the same points and the same test as one point at a time (the tests compare). The
/// eight lanes' words come from eight chains advanced together.
struct Hits<'a> {
    lanes: &'a mut LaneStates,
    samples: usize,
}

impl LaneProgram for Hits<'_> {
    type Output = (u64, bool);

    #[inline(always)]
    unsafe fn run<V: Lanes>(self) -> (u64, bool) {
        let mut hits = 0u64;
        let mut first = false;
        let groups = self.samples.div_ceil(LANES);
        for g in 0..groups {
            let x = self.lanes.next_words();
            let y = self.lanes.next_words();
            // lanes past the block's last sample hold points that are not counted
            let valid = if (g + 1) * LANES <= self.samples {
                u32::MAX
            } else {
                (1 << (self.samples - g * LANES)) - 1
            };
            let mut inside = 0u32;
            for h in 0..LANES / V::LANES {
                let l = h * V::LANES;
                // SAFETY: l + V::LANES <= LANES; the caller guarantees the
                // instruction set.
                inside |= unsafe {
                    let x = uniform(V::load_bits(x.as_ptr().add(l)));
                    let y = uniform(V::load_bits(y.as_ptr().add(l)));
                    V::mask_bits(x.mul(x).add(y.mul(y)).lt(V::splat(1.0)))
                } << l;
            }
            inside &= valid;
            if g == 0 {
                first = inside & 1 != 0;
            }
            hits += u64::from(inside.count_ones());
        }
        (hits, first)
    }
}

/// rand's `StandardUniform` `f64` of each lane's word, `(w >> 11) 2^-53`, computed
/// exactly without a 64-bit integer conversion (which AVX-512F and AVX2 lack): the top
/// 52 bits as the mantissa of a number in `[1, 2)`, minus one, plus bit 11 times 2^-53.
#[inline(always)]
unsafe fn uniform<V: Lanes>(w: V) -> V {
    // SAFETY: the caller guarantees the instruction set of `V`.
    unsafe {
        let one = V::splat(1.0);
        let top = w.shr::<12>().or(one).sub(one);
        // bit 11 as the integer 0 or 1 of a number in [2^52, 2^52 + 1], minus 2^52
        let magic = V::splat(4503599627370496.0);
        let low = w.shr::<11>().and(V::splat_bits(1)).or(magic).sub(magic);
        top.add(low.mul(V::splat(1.0 / 9007199254740992.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::Level;
    use crate::random::lanes::{BLOCK, LaneCursor};
    use crate::stats::Accumulator;
    use rand::RngExt;

    #[test]
    fn lanes_make_rands_uniforms() {
        let mut rng = crate::random::stream(9, crate::random::Family::Chunk, 0);
        let mut words: Vec<u64> = (0..10_000).map(|_| rand::Rng::next_u64(&mut rng)).collect();
        words.extend([0, u64::MAX, 1 << 11, (1 << 11) - 1, 1 << 63, 0xfff]);
        for &w in &words {
            // SAFETY: scalar lanes.
            let got = unsafe { uniform(f64::from_bits(w)) };
            assert_eq!(got, (w >> 11) as f64 * 2f64.powi(-53), "{w:#x}");
        }
    }

    /// The block's statistics pushed one sample at a time, each drawing its point from
    /// its lane: what the contract says the statistics are.
    fn one_at_a_time(b: u64, samples: usize) -> BlockStats {
        let mut block = Block::new(b, samples, LaneCursor::new(4).lanes(b));
        let mut acc = Accumulator::<1>::new();
        for k in 0..samples {
            let rng = block.lane(k);
            let x: f64 = rng.random();
            let y: f64 = rng.random();
            acc.push([if x * x + y * y < 1.0 { 4.0 } else { 0.0 }]);
        }
        acc.finish()
    }

    #[test]
    fn every_level_gives_the_statistics_of_one_point_at_a_time() {
        let pi = Pi::new(&PiParams {}).unwrap();
        for (b, samples) in [(0, BLOCK), (3, 1), (5, 7), (6, 9), (100, 1000), (7, BLOCK)] {
            let want = one_at_a_time(b, samples);
            for level in Level::available() {
                let mut block = Block::new(b, samples, LaneCursor::new(4).lanes(b));
                let (hits, first) = Simd::new(level).unwrap().run(Hits {
                    lanes: block.lanes(),
                    samples,
                });
                let got = from_hits(samples, hits, first);
                assert_eq!(got, want, "block {b}, {samples} samples, {level}");
            }
            let mut block = Block::new(b, samples, LaneCursor::new(4).lanes(b));
            assert_eq!(pi.simulate(&mut block).unwrap(), want);
            {}
        }
    }
}
