//! The normals of a block's lanes: [`super::NORMAL_METHOD`] on each lane's stream, the
//! eight lanes drawn side by side.
//!
//! Lane `l`'s normals are exactly the sequence [`super::ziggurat`] defines for one
//! stream, applied to lane `l`'s stream: blocks of `ZBLOCK` (256) words, each word a
//! ziggurat candidate, the rejected ones finished after the block's words in ascending
//! order. What changes is only how they are computed: the eight lanes' words come from
//! eight independent chains advanced together (one vector operation per state word),
//! and candidates are tested eight lanes at a time, so neither waits on the other.
//!
//! The normals are handed out in rows: row `i` holds normal `i` of every lane, so a
//! path model whose lane `l` walks lane `l`'s path reads one row per step, a vector
//! load with no gather.

use super::lanes::{LANES, LaneStates, step};
use super::stream::from_words;
use super::ziggurat::ZIG_X_BITS;
use super::ziggurat::{BLOCK as ZBLOCK, Words, candidate, finish, scramble, scramble_lanes};
use crate::math::Lanes;

/// The normals of a block's lanes, a row (one normal per lane) at a time.
#[derive(Debug)]
pub(crate) struct LaneNormals {
    /// Rows `next..` of `buf` are not handed out yet.
    buf: Box<[[f64; LANES]; ZBLOCK]>,
    next: usize,
    scratch: Box<Scratch>,
}

/// Room for one block of words of every lane: the scrambler's inputs, and which
/// candidates were accepted at once (bit `l` of `accepted[k]`).
#[derive(Debug)]
struct Scratch {
    s0: [[u64; LANES]; ZBLOCK],
    s3: [[u64; LANES]; ZBLOCK],
    accepted: [u8; ZBLOCK],
}

impl LaneNormals {
    /// Normals not drawn yet: the first row starts a new ziggurat block of every lane.
    pub(crate) fn new() -> Self {
        LaneNormals {
            buf: Box::new([[0.0; LANES]; ZBLOCK]),
            next: ZBLOCK,
            scratch: Box::new(Scratch {
                s0: [[0; LANES]; ZBLOCK],
                s3: [[0; LANES]; ZBLOCK],
                accepted: [0; ZBLOCK],
            }),
        }
    }

    /// The next `out.len() / LANES` rows, flat: `out[i * LANES + l]` is lane `l`'s next
    /// normal. A length that is not a multiple of [`LANES`] is rounded up: `out` must
    /// have room for it.
    ///
    /// # Safety
    /// The CPU must support `V`'s instruction set.
    #[inline(always)]
    pub(crate) unsafe fn fill<V: Lanes>(&mut self, lanes: &mut LaneStates, out: &mut [f64]) {
        let (rows, rest) = out.as_chunks_mut::<LANES>();
        assert!(rest.is_empty(), "whole rows of {LANES} lanes");
        // SAFETY: passed on from the caller.
        unsafe { self.rows::<V>(lanes, rows) }
    }

    /// The next `out.len()` rows: `out[i][l]` is lane `l`'s next normal.
    ///
    /// # Safety
    /// The CPU must support `V`'s instruction set.
    #[inline(always)]
    pub(crate) unsafe fn rows<V: Lanes>(
        &mut self,
        lanes: &mut LaneStates,
        out: &mut [[f64; LANES]],
    ) {
        let mut k = 0;
        while k < out.len() {
            if self.next == ZBLOCK {
                // SAFETY: passed on from the caller.
                unsafe { refill::<V>(lanes, &mut self.scratch, &mut self.buf) };
                self.next = 0;
            }
            let take = (ZBLOCK - self.next).min(out.len() - k);
            out[k..k + take].copy_from_slice(&self.buf[self.next..self.next + take]);
            self.next += take;
            k += take;
        }
    }
}

/// The next ziggurat block of every lane into `out` (row `k` = candidate `k` of every
/// lane, finished where it was rejected).
///
/// Hand-written hot loop: the words of all lanes first (the serial part, eight chains
/// side by side), then the tests, a vector of lanes per row, then the rare rejected
/// candidates lane by lane, in ascending order within each lane, from that lane's
/// stream after its block's words.
#[inline(always)]
unsafe fn refill<V: Lanes>(
    lanes: &mut LaneStates,
    scratch: &mut Scratch,
    out: &mut [[f64; LANES]; ZBLOCK],
) {
    let Scratch { s0, s3, accepted } = scratch;
    let mut s = lanes.s;
    for k in 0..ZBLOCK {
        s0[k] = s[0];
        s3[k] = s[3];
        step(&mut s);
    }
    lanes.s = s;
    for k in 0..ZBLOCK {
        let mut ok = 0u32;
        for h in 0..LANES / V::LANES {
            let l = h * V::LANES;
            // SAFETY: l + V::LANES <= LANES; the caller guarantees the instruction set.
            unsafe {
                let w = scramble_lanes(
                    V::load_bits(s0[k].as_ptr().add(l)),
                    V::load_bits(s3[k].as_ptr().add(l)),
                );
                let (edge, next) = V::lookup_pair(&ZIG_X_BITS, w.and(V::splat_bits(0xff)));
                let (x, accepted) = candidate(w, edge, next);
                x.store(out[k].as_mut_ptr().add(l));
                ok |= V::mask_bits(accepted) << l;
            }
        }
        accepted[k] = ok as u8;
    }
    if accepted.iter().all(|&a| a == 0xff) {
        return;
    }
    for l in 0..LANES {
        if accepted.iter().all(|&a| a & (1 << l) != 0) {
            continue;
        }
        let mut words = Words::new(&lanes.stream(l));
        for k in 0..ZBLOCK {
            if accepted[k] & (1 << l) == 0 {
                out[k][l] = finish(&mut words, scramble(s0[k][l], s3[k][l]));
            }
        }
        lanes.set_stream(l, &from_words(&words.s));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::{LaneProgram, Level, Simd};
    use crate::random::lanes::LaneCursor;
    use crate::random::ziggurat::Normals;

    struct Draw<'a>(&'a mut LaneStates, usize, usize);

    impl LaneProgram for Draw<'_> {
        type Output = Vec<[f64; LANES]>;
        unsafe fn run<V: Lanes>(self) -> Self::Output {
            let mut normals = LaneNormals::new();
            let mut out = vec![[0.0; LANES]; self.1];
            for part in out.chunks_mut(self.2) {
                // SAFETY: passed on from the caller.
                unsafe { normals.rows::<V>(self.0, part) };
            }
            out
        }
    }

    struct One<'a>(&'a mut Normals, &'a mut [f64]);

    impl LaneProgram for One<'_> {
        type Output = ();
        unsafe fn run<V: Lanes>(self) {
            // SAFETY: passed on from the caller.
            unsafe { self.0.fill::<V>(self.1) };
        }
    }

    #[test]
    fn each_lane_draws_the_block_ziggurat_of_its_stream() {
        let n = 3000;
        let start = LaneCursor::new(42).lanes(9);
        let want: Vec<Vec<f64>> = (0..LANES)
            .map(|l| {
                let mut normals = Normals::new(&start.stream(l));
                let mut out = vec![0.0; n];
                Simd::new(Level::Scalar)
                    .unwrap()
                    .run(One(&mut normals, &mut out));
                out
            })
            .collect();
        for level in Level::available() {
            for at in [1, 3, 256, 1000] {
                let mut lanes = start;
                let rows = Simd::new(level).unwrap().run(Draw(&mut lanes, n, at));
                for l in 0..LANES {
                    for (i, row) in rows.iter().enumerate() {
                        assert_eq!(
                            row[l].to_bits(),
                            want[l][i].to_bits(),
                            "{level}, {at} rows at a time, lane {l}, normal {i}"
                        );
                    }
                }
            }
        }
    }
}
