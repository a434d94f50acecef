//! Pi from the fraction of uniform points in the unit square that fall in the
//! quarter disc.

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::math::{LaneProgram, Lanes, Simd};
use crate::model::{Entry, Model, Quantity};
use crate::random::stream::Stream;
use crate::random::ziggurat::{Words, scramble_lanes, step};
use crate::stats::Moments;

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

    fn simulate(&self, rng: &mut Stream, samples: u64) -> Moments {
        // Count hits, then derive the statistics of the 0/4 samples exactly from the
        // count, instead of a per-sample update.
        let hits = Simd::current().run(Hits { rng, samples });
        let n = samples as f64;
        let h = hits as f64;
        let mut m = Moments::empty(1);
        m.count = samples;
        m.mean[0] = 4.0 * h / n;
        // sum (x - mean)^2 over h fours and n - h zeros = 16 h (n - h) / n.
        m.comoment[0] = 16.0 * h * (n - h) / n;
        m
    }
}

/// Points per block of the hit-counting loop.
const POINTS: usize = 256;

/// Points per group: one iteration of the block loop.
const GROUP: usize = 8;

/// Counts the points of one chunk that fall in the quarter disc, on the lanes of the
/// current SIMD level.
///
/// Hand-written hot loop. A point is two consecutive words of the stream, `x` then
/// `y`, each made a uniform in `[0, 1)` as rand's `StandardUniform` makes it
/// (`(w >> 11) 2^-53`), and it is a hit when `x * x + y * y < 1`, evaluated in `f64`:
/// the same points and the same test as one point at a time (the known-answer tests
/// pin the hit counts). The serial part draws the words of group `g`, keeping the two
/// state words the output scrambler needs, in separate arrays for `x` and `y`; the
/// vector part scrambles and tests group `g - LAG` meanwhile (see `draw::block` on
/// why the lag).
struct Hits<'a> {
    rng: &'a mut Stream,
    samples: u64,
}

impl LaneProgram for Hits<'_> {
    type Output = u64;

    #[inline(always)]
    unsafe fn run<V: Lanes>(self) -> u64 {
        const LAG: usize = 4;
        let mut words = Words::new(self.rng);
        let mut s = words.s;
        let (mut x0, mut x3) = ([0u64; POINTS], [0u64; POINTS]);
        let (mut y0, mut y3) = ([0u64; POINTS], [0u64; POINTS]);
        let mut hits = 0u64;
        let mut left = self.samples;
        while left > 0 {
            let n = left.min(POINTS as u64) as usize;
            let groups = n.div_ceil(GROUP);
            for g in 0..groups + LAG {
                if g < groups {
                    for k in g * GROUP..((g + 1) * GROUP).min(n) {
                        x0[k] = s[0];
                        x3[k] = s[3];
                        step(&mut s);
                        y0[k] = s[0];
                        y3[k] = s[3];
                        step(&mut s);
                    }
                }
                if g >= LAG {
                    let at = (g - LAG) * GROUP;
                    // points past `n` in the last group hold stale words: not counted
                    let valid = if n - at >= GROUP {
                        u32::MAX
                    } else {
                        (1 << (n - at)) - 1
                    };
                    for h in 0..GROUP / V::LANES {
                        let k = at + h * V::LANES;
                        // SAFETY: k + LANES <= POINTS; the caller guarantees the
                        // instruction set.
                        let inside = unsafe {
                            let x = uniform(scramble_lanes(
                                V::load_bits(x0.as_ptr().add(k)),
                                V::load_bits(x3.as_ptr().add(k)),
                            ));
                            let y = uniform(scramble_lanes(
                                V::load_bits(y0.as_ptr().add(k)),
                                V::load_bits(y3.as_ptr().add(k)),
                            ));
                            V::mask_bits(x.mul(x).add(y.mul(y)).lt(V::splat(1.0)))
                        };
                        hits += u64::from((inside & (valid >> (h * V::LANES))).count_ones());
                    }
                }
            }
            left -= n as u64;
        }
        words.s = s;
        words.write_back(self.rng);
        hits
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
    use crate::random::stream::{Family, stream};
    use crate::stats::Accumulator;
    use rand::{Rng, RngExt};

    #[test]
    fn lanes_make_rands_uniforms() {
        let mut rng = stream(9, Family::Chunk, 0);
        let mut words: Vec<u64> = (0..10_000).map(|_| rng.next_u64()).collect();
        words.extend([0, u64::MAX, 1 << 11, (1 << 11) - 1, 1 << 63, 0xfff]);
        for &w in &words {
            // SAFETY: scalar lanes.
            let got = unsafe { uniform(f64::from_bits(w)) };
            assert_eq!(got, (w >> 11) as f64 * 2f64.powi(-53), "{w:#x}");
        }
    }

    #[test]
    fn every_level_counts_the_same_hits() {
        use crate::math::Level;
        for samples in [1, 7, 8, 9, 255, 256, 257, 1000, 65_537] {
            let mut want = stream(4, Family::Chunk, 1);
            let mut hits = 0;
            for _ in 0..samples {
                let x: f64 = want.random();
                let y: f64 = want.random();
                hits += u64::from(x * x + y * y < 1.0);
            }
            for level in Level::available() {
                let mut rng = stream(4, Family::Chunk, 1);
                let got = Simd::new(level).unwrap().run(Hits {
                    rng: &mut rng,
                    samples,
                });
                assert_eq!(got, hits, "{level}, {samples} points");
                assert_eq!(
                    rng.next_u64(),
                    want.clone().next_u64(),
                    "{level}: words used"
                );
            }
        }
    }

    #[test]
    fn hit_count_statistics_equal_per_sample_accumulation() {
        let pi = Pi::new(&PiParams {}).unwrap();
        let fast = pi.simulate(&mut stream(1, Family::Chunk, 0), 10_000);
        let mut rng = stream(1, Family::Chunk, 0);
        let mut acc = Accumulator::<1>::new();
        for _ in 0..10_000 {
            let x: f64 = rng.random();
            let y: f64 = rng.random();
            acc.push([if x * x + y * y < 1.0 { 4.0 } else { 0.0 }]);
        }
        let slow = acc.finish();
        assert_eq!(fast.count, slow.count);
        assert!((fast.mean[0] - slow.mean[0]).abs() < 1e-13);
        assert!((fast.comoment[0] - slow.comoment[0]).abs() < 1e-9 * slow.comoment[0]);
    }
}
