//! Gauss-Legendre panels and the Brownian transition kernel on them: the machinery of
//! the quadrature references of the discretely monitored barrier
//! ([`super::barrier_reference`]) and of the Bermudan option
//! ([`super::bermudan_reference`]).
//!
//! Between two monitoring or exercise dates, `ln S` moves by a normal step of mean
//! `m = (r - q - sigma^2 / 2) dt` and standard deviation `s = sigma sqrt(dt)`, so a
//! value function at one date is the value function at the next integrated against
//! the Gaussian density `p(y - x)`. Those functions are smooth (entire) except at
//! known points: a barrier, an exercise boundary. Each date's function is held at the
//! nodes of equal panels laid out from such a point (its *anchor*), so that no panel
//! straddles it, and the integral is Gauss-Legendre on every panel: spectrally
//! accurate (about 1e-10 relative with [`NODES`] nodes on panels [`PANEL`] steps
//! wide, measured against a dense quadrature converged to 1e-15; see the tests of
//! the two references).
//!
//! Because the panels are equal, the weight of source node `(a + l, beta)` seen from
//! target node `(a, alpha)` depends on `l`, `alpha`, `beta` alone (and on the offset
//! of the two grids' anchors): the step is a block-Toeplitz product with a few
//! hundred kernel values computed once per step shape, and no transcendental
//! function in the loop.
//!
//! Bits: everything here is `+ - * /`, `sqrt` and carlo's own [`math::exp`] in a
//! fixed order (each output's sum runs over blocks, then nodes, in index order), so
//! the references have the same bits on every platform and SIMD level.

use crate::math;

/// Gauss-Legendre nodes per panel.
pub(super) const NODES: usize = 12;

/// Panel width, in standard deviations `s` of one step.
pub(super) const PANEL: f64 = 4.0;

/// How far the kernel reaches, in standard deviations of one step: beyond, the
/// density is below `exp(-9.5^2 / 2) = 2e-20` of its peak.
pub(super) const REACH: f64 = 9.5;

/// Half-width, in standard deviations of `ln S_t`, of the region a date's values are
/// kept on: the probability of a path outside is below `4e-17`, and the error of
/// dropping values there is that probability times the values (checked against
/// wider regions in the tests).
pub(super) const CONE: f64 = 8.5;

/// The 12-point Gauss-Legendre rule on `[-1, 1]`, correctly rounded (mpmath, 50
/// digits).
#[allow(clippy::excessive_precision)]
const GL_X: [f64; NODES] = [
    -0.9815606342467192,
    -0.9041172563704749,
    -0.7699026741943047,
    -0.5873179542866175,
    -0.3678314989981802,
    -0.1252334085114689,
    0.1252334085114689,
    0.3678314989981802,
    0.5873179542866175,
    0.7699026741943047,
    0.9041172563704749,
    0.9815606342467192,
];
#[allow(clippy::excessive_precision)]
const GL_W: [f64; NODES] = [
    0.04717533638651183,
    0.10693932599531843,
    0.16007832854334622,
    0.20316742672306592,
    0.2334925365383548,
    0.24914704581340277,
    0.24914704581340277,
    0.2334925365383548,
    0.20316742672306592,
    0.16007832854334622,
    0.10693932599531843,
    0.04717533638651183,
];

/// `1 / sqrt(2 pi)`.
const INV_SQRT_2PI: f64 = 0.3989422804014327;

/// The standard normal density.
pub(super) fn normal_pdf(z: f64) -> f64 {
    INV_SQRT_2PI * math::exp(-0.5 * z * z)
}

/// One step of `ln S` between dates: mean `mean`, standard deviation `sd`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Step {
    pub mean: f64,
    pub sd: f64,
}

impl Step {
    /// The density of a move by `delta`, and its derivatives with respect to the
    /// step's mean and standard deviation: `(p, dp/dmean, dp/dsd)`.
    pub fn density(&self, delta: f64) -> (f64, f64, f64) {
        let z = (delta - self.mean) / self.sd;
        let p = normal_pdf(z) / self.sd;
        (p, p * z / self.sd, p * (z * z - 1.0) / self.sd)
    }
}

/// Equal panels of [`NODES`] Gauss-Legendre nodes each.
#[derive(Debug, Clone, Copy)]
pub(super) struct Panels {
    /// Panel width.
    pub width: f64,
    /// Node offsets within a panel, increasing, in `(0, width)`.
    pub offset: [f64; NODES],
    /// Node weights.
    pub weight: [f64; NODES],
}

impl Panels {
    /// Panels [`PANEL`] standard deviations of `step` wide.
    pub fn new(step: &Step) -> Self {
        let width = PANEL * step.sd;
        let half = 0.5 * width;
        let mut offset = [0.0; NODES];
        let mut weight = [0.0; NODES];
        for j in 0..NODES {
            offset[j] = half + half * GL_X[j];
            weight[j] = half * GL_W[j];
        }
        Panels {
            width,
            offset,
            weight,
        }
    }
}

/// Where a date's nodes are: node `(a, j)`, for panels `a` in `lo..hi`, lies at
/// `anchor + sign (a width + offset[j])`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Grid {
    pub anchor: f64,
    /// `+1` or `-1`: which way the panels run from the anchor.
    pub sign: f64,
    pub lo: i64,
    pub hi: i64,
}

impl Grid {
    /// The panels of the grid anchored at `anchor` running `sign`-wards that meet
    /// `[from, to]`, no lower than panel `floor` (the side of a barrier). Empty
    /// (`lo == hi`) where none does.
    pub fn covering(
        panels: &Panels,
        anchor: f64,
        sign: f64,
        from: f64,
        to: f64,
        floor: Option<i64>,
    ) -> Grid {
        let (a, b) = (sign * (from - anchor), sign * (to - anchor));
        let (a, b) = if a <= b { (a, b) } else { (b, a) };
        let mut lo = (a / panels.width).floor() as i64;
        let mut hi = (b / panels.width).floor() as i64 + 1;
        if let Some(f) = floor {
            lo = lo.max(f);
            hi = hi.max(lo);
        }
        Grid {
            anchor,
            sign,
            lo,
            hi,
        }
    }

    /// Panels in the grid.
    pub fn count(&self) -> usize {
        (self.hi - self.lo) as usize
    }

    /// The position of node `(a, j)`.
    pub fn position(&self, panels: &Panels, a: i64, j: usize) -> f64 {
        self.anchor + self.sign * (a as f64 * panels.width + panels.offset[j])
    }

    /// The index of node `(a, j)` in a [`Values`] vector: node-major, so that one
    /// node of every panel is one contiguous row.
    pub fn index(&self, a: i64, j: usize) -> usize {
        j * self.count() + (a - self.lo) as usize
    }

    /// Every node as `(index, position)`.
    pub fn nodes<'a>(&'a self, panels: &'a Panels) -> impl Iterator<Item = (usize, f64)> + 'a {
        (0..NODES).flat_map(move |j| {
            (self.lo..self.hi).map(move |a| (self.index(a, j), self.position(panels, a, j)))
        })
    }

    /// Nodes in the grid.
    pub fn len(&self) -> usize {
        NODES * self.count()
    }
}

/// Which function of the step a [`Kernel`] holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Part {
    /// The density.
    Density,
    /// Its derivative with respect to the step's parameters, weighted: `dmean *
    /// dp/dmean + dsd * dp/dsd` (a parameter's tangent, the chain rule applied once).
    Tangent { dmean: f64, dsd: f64 },
}

/// The quadrature weights from the nodes of a source grid to those of a target grid
/// with the same panels and direction, whose anchors are `shift` apart: block `l`
/// holds, for target node `alpha` of panel `a` and source node `beta` of panel
/// `a + l`, `weight[beta] * f(y - x)`.
#[derive(Debug, Clone)]
pub(super) struct Kernel {
    first: i64,
    blocks: Vec<[[f64; NODES]; NODES]>,
}

impl Kernel {
    /// The kernel of `f`, the density of `step` or a tangent of it (see [`Part`]),
    /// from a grid anchored at `source_anchor` to one anchored at `target_anchor`,
    /// both running `sign`-wards on `panels`.
    pub fn new(
        panels: &Panels,
        step: &Step,
        sign: f64,
        source_anchor: f64,
        target_anchor: f64,
        part: Part,
    ) -> Kernel {
        let shift = source_anchor - target_anchor;
        // y - x = shift + sign (l width + offset_beta - offset_alpha), with the last
        // two terms in (-width, width): keep the blocks where that can come within
        // REACH standard deviations of the mean.
        let w = panels.width;
        let centre = sign * (step.mean - shift) / w;
        let reach = REACH * step.sd / w;
        let first = (centre - reach - 1.0).floor() as i64;
        let last = (centre + reach + 1.0).ceil() as i64;
        let blocks = (first..=last)
            .map(|l| {
                let mut block = [[0.0; NODES]; NODES];
                for (alpha, row) in block.iter_mut().enumerate() {
                    for (beta, cell) in row.iter_mut().enumerate() {
                        let delta = shift
                            + sign * (l as f64 * w + panels.offset[beta] - panels.offset[alpha]);
                        let (p, dm, ds) = step.density(delta);
                        let f = match part {
                            Part::Density => p,
                            Part::Tangent { dmean, dsd } => dmean * dm + dsd * ds,
                        };
                        *cell = panels.weight[beta] * f;
                    }
                }
                block
            })
            .collect();
        Kernel { first, blocks }
    }

    /// Blocks of `NODES x NODES` weights (the cost of a step is that times the
    /// target's nodes times `NODES`).
    pub fn blocks(&self) -> usize {
        self.blocks.len()
    }

    /// `out += K v`: `out` holds the target grid's nodes, `v` the source grid's.
    ///
    /// Hand-written hot loop: one row (one node of every panel) at a time, so the
    /// innermost loop runs over contiguous panels and vectorizes; each output's
    /// terms are added in one fixed order (blocks, then source nodes), whatever the
    /// vector width.
    pub fn apply(&self, source: &Grid, v: &[f64], target: &Grid, out: &mut [f64]) {
        let (sc, tc) = (source.count(), target.count());
        for (k, block) in self.blocks.iter().enumerate() {
            let l = self.first + k as i64;
            // Target panels a with a + l among the source's panels.
            let a0 = target.lo.max(source.lo - l);
            let a1 = target.hi.min(source.hi - l);
            if a0 >= a1 {
                continue;
            }
            let len = (a1 - a0) as usize;
            let t0 = (a0 - target.lo) as usize;
            let s0 = (a0 + l - source.lo) as usize;
            for (alpha, row) in block.iter().enumerate() {
                let out_row = &mut out[alpha * tc + t0..alpha * tc + t0 + len];
                for (beta, &c) in row.iter().enumerate() {
                    if c == 0.0 {
                        continue;
                    }
                    let src = &v[beta * sc + s0..beta * sc + s0 + len];
                    for (o, &x) in out_row.iter_mut().zip(src) {
                        *o += c * x;
                    }
                }
            }
        }
    }
}

/// The integral of a date's values against the density of one step from the point
/// `x` (not a node): `sum_nodes weight p(y - x) v(y)` with its derivatives in `x`
/// and in the step's mean and standard deviation, `(I, dI/dx, d2I/dx2, dI/dmean,
/// dI/dsd)`. Only nodes within reach of `x` are visited.
pub(super) fn integrate_at(
    panels: &Panels,
    step: &Step,
    grid: &Grid,
    v: &[f64],
    x: f64,
) -> [f64; 5] {
    let mut sums = [0.0; 5];
    if grid.count() == 0 {
        return sums;
    }
    // Panels whose nodes can lie within REACH standard deviations of x + mean.
    let centre = grid.sign * (x + step.mean - grid.anchor) / panels.width;
    let reach = REACH * step.sd / panels.width;
    let lo = ((centre - reach).floor() as i64 - 1).max(grid.lo);
    let hi = ((centre + reach).ceil() as i64 + 1).min(grid.hi);
    for a in lo..hi {
        for j in 0..NODES {
            let y = grid.position(panels, a, j);
            let z = (y - x - step.mean) / step.sd;
            let wp = panels.weight[j] * normal_pdf(z) / step.sd * v[grid.index(a, j)];
            // d/dx p(y - x) = p z / s; d2/dx2 = p (z^2 - 1) / s^2; the mean and sd
            // derivatives as in Step::density.
            sums[0] += wp;
            sums[1] += wp * z / step.sd;
            sums[2] += wp * (z * z - 1.0) / (step.sd * step.sd);
            sums[3] += wp * z / step.sd;
            sums[4] += wp * (z * z - 1.0) / step.sd;
        }
    }
    sums
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_integrates_polynomials_of_degree_23() {
        let step = Step {
            mean: 0.0,
            sd: 0.25,
        };
        let panels = Panels::new(&step);
        for k in [0, 5, 22, 23] {
            let q: f64 = (0..NODES)
                .map(|j| panels.weight[j] * (panels.offset[j] / panels.width).powi(k))
                .sum();
            let exact = panels.width / (k + 1) as f64;
            assert!((q - exact).abs() < 1e-15, "degree {k}: {q} vs {exact}");
        }
    }

    #[test]
    fn the_kernel_integrates_the_density_to_one() {
        // Constant values: every target well inside the source grid sees weight 1,
        // also with shifted anchors and the panels running down (to the rule's
        // accuracy on a Gaussian four panels wide: a few 1e-13).
        let step = Step {
            mean: 0.003,
            sd: 0.02,
        };
        let panels = Panels::new(&step);
        for (sign, shift) in [(1.0, 0.0), (-1.0, 0.0137), (1.0, -0.05)] {
            let source = Grid {
                anchor: shift,
                sign,
                lo: -20,
                hi: 20,
            };
            let target = Grid {
                anchor: 0.0,
                sign,
                lo: -5,
                hi: 5,
            };
            let kernel = Kernel::new(&panels, &step, sign, shift, 0.0, Part::Density);
            let mut out = vec![0.0; target.len()];
            kernel.apply(&source, &vec![1.0; source.len()], &target, &mut out);
            for o in out {
                assert!((o - 1.0).abs() < 1e-12, "{o}");
            }
            // The mean of the step: values y give x + mean.
            let v: Vec<f64> = {
                let mut v = vec![0.0; source.len()];
                for (i, y) in source.nodes(&panels) {
                    v[i] = y;
                }
                v
            };
            let mut out = vec![0.0; target.len()];
            kernel.apply(&source, &v, &target, &mut out);
            for (i, x) in target.nodes(&panels) {
                assert!(
                    (out[i] - (x + step.mean)).abs() < 1e-12,
                    "{} vs {x}",
                    out[i]
                );
            }
            let at = integrate_at(&panels, &step, &source, &v, 0.01);
            assert!((at[0] - (0.01 + step.mean)).abs() < 1e-12);
            assert!((at[1] - 1.0).abs() < 1e-10, "{}", at[1]);
        }
    }
}
