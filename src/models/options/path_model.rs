//! Path models on lanes: a model is its dynamics and payoff, written once as a
//! [`PathKernel`]; [`PathModel`] walks it eight paths at a time on a block's lanes, on
//! pseudo-random normals or on scrambled Sobol points through a Brownian bridge, for
//! one market or every point of a sweep, with antithetic paths and the block
//! statistics of [`crate::stats`].
//!
//! This is how the Heston, basket, Merton and lookback models are built, and how a
//! user's own path model gets their speed, `sampler = "sobol"` and `--sweep` (see
//! `examples/cliquet` and docs/models.md).
//!
//! # What a kernel does
//! A kernel turns the standard normals of `V::LANES` paths into each path's values:
//! the discounted payoff first, then whatever else the model records (a control
//! variate, pathwise Greeks). [`PathKernel::walk`] is generic over the lane type
//! [`Lanes`]; carlo instantiates it for one lane (`f64`), AVX2 and AVX-512, and since
//! every [`Lanes`] operation is one IEEE-754 operation per lane, each level gives the
//! same bits. Transcendental functions must be carlo's own
//! ([`exp_lanes`](crate::math::exp_lanes), [`ln_lanes`](crate::math::ln_lanes)), never
//! the platform's.
//!
//! # Where the normals come from
//! A path takes [`PathKernel::normals`] standard normals, read with
//! [`PathNormals::get`]; normal `j * factors + f` is Brownian factor `f`'s
//! standardized increment over date `j` ([`PathKernel::factors`]).
//! - `sampler = "mc"`: sample `k` of a block is lane `k % 8`'s next path, and takes
//!   the next [`normals`](PathKernel::normals) normals of that lane's sequence
//!   ([`LaneNormals`], the block ziggurat of the lane's stream, `ziggurat-block-v1`).
//! - `sampler = "sobol"`: sample `k` of a replicate's block reads the replicate's
//!   scrambled Sobol point `base + k` ([`crate::random::sampler`]), each coordinate
//!   made a normal by inversion (`inversion-as241-v1`), and coordinate `i * factors +
//!   f` drives the `i`-th point of factor `f`'s Brownian bridge over the `dates`
//!   equally spaced dates ([`BrownianBridge`], terminal value first), whose increments
//!   are the factor's normals. The first coordinates thus decide every factor's
//!   terminal value, then its midpoint, and so on.
//!
//! With antithetic paths, each sample walks its normals `z` and their mirror `-z` and
//! averages every value; the row then ends with the first path's payoff alone (the
//! `variance_reduction` column compares with its variance).
//!
//! # Rows
//! One block of columns per scenario (one scenario, or one per sweep point, all
//! walked from the same normals): the kernel's values, then the plain payoff with
//! antithetic paths. With `sampler = "sobol"` the row holds one such row per
//! replicate ([`Replicated`]).

use std::fmt;
use std::sync::OnceLock;

use super::path::SAMPLES;
use super::path_estimator::INVERSION_METHOD;
use crate::Error;
use crate::math::{LaneProgram, Lanes, Simd, normals_from_bits};
use crate::model::{Block, Context, Model, Quantity, ReferenceKind};
use crate::random::lane_normals::LaneNormals;
use crate::random::lanes::{BLOCK, LANES, LaneStates};
use crate::random::qmc::{BrownianBridge, D_MAX, Sobol};
use crate::random::sampler::Sampler;
use crate::random::ziggurat::NORMAL_METHOD;
use crate::stats::{BlockAccumulator, BlockStats, Replicated, RowAccumulator};

/// Paths walked side by side: one per lane of the block.
pub const GROUP: usize = LANES;

/// A path model's dynamics and payoff: what one path does with its normals.
///
/// # Contract
/// - [`walk`](Self::walk) is a pure function of the normals: no state, no other
///   randomness, the same operations in the same order on every lane, carlo's own
///   `exp` and `ln` ([`crate::math::exp_lanes`], [`crate::math::ln_lanes`]) and no
///   platform math. Then every SIMD level gives the same bits.
/// - It writes [`values`](Self::values) values per path, the discounted payoff first.
/// - Mark `walk` `#[inline(always)]`, and everything it calls in its loop: it is
///   compiled inside each SIMD level's `#[target_feature]` function only if inlined.
pub trait PathKernel: Send + Sync + fmt::Debug + 'static {
    /// Standard normals one path takes.
    fn normals(&self) -> usize;

    /// Independent Brownian factors the normals belong to (default 1): normal `j *
    /// factors + f` is factor `f`'s standardized increment over date `j`. It must
    /// divide [`normals`](Self::normals); it only matters to `sampler = "sobol"`, whose
    /// Brownian bridge runs per factor.
    fn factors(&self) -> usize {
        1
    }

    /// Values per path.
    fn values(&self) -> usize;

    /// Walks `V::LANES` paths, whose normals `z` holds, and writes their values into
    /// `out` (`out.len() == self.values()`).
    ///
    /// # Safety
    /// The CPU supports `V`'s instruction set (carlo's drivers call it only there).
    unsafe fn walk<V: Lanes>(&self, z: PathNormals<'_>, out: &mut [V]);
}

/// The normals of the `V::LANES` paths a [`PathKernel::walk`] call walks: path `p`'s
/// normal `j` is lane `p` of [`get`](Self::get)`(j)`.
#[derive(Debug, Clone, Copy)]
pub struct PathNormals<'a> {
    /// Row `j` (`GROUP` values, one per path of the group) at `z[j * GROUP..]`.
    z: &'a [f64],
    /// The first path of the vector within the group.
    offset: usize,
    normals: usize,
}

impl<'a> PathNormals<'a> {
    /// The normals of a group of [`GROUP`] paths, `rows[j * GROUP + p]` being path `p`'s
    /// normal `j`, as seen by the vector of paths `offset..offset + V::LANES` (a
    /// multiple of `V::LANES` below [`GROUP`]).
    ///
    /// # Panics
    /// If `rows` is not a whole number of rows, or the offset is out of the group.
    pub fn new(rows: &'a [f64], offset: usize) -> Self {
        assert!(
            rows.len().is_multiple_of(GROUP) && offset < GROUP,
            "whole rows of {GROUP} paths"
        );
        PathNormals {
            z: rows,
            offset,
            normals: rows.len() / GROUP,
        }
    }

    /// Normals per path.
    pub fn len(&self) -> usize {
        self.normals
    }

    /// Whether a path takes no normals.
    pub fn is_empty(&self) -> bool {
        self.normals == 0
    }

    /// Normal `j` of each path.
    ///
    /// # Safety
    /// The CPU supports `V`'s instruction set, and `V` is the lane type the group was
    /// split for (`offset + V::LANES <= GROUP`).
    ///
    /// # Panics
    /// If `j` is not below [`len`](Self::len).
    #[inline(always)]
    pub unsafe fn get<V: Lanes>(&self, j: usize) -> V {
        assert!(j < self.normals, "normal {j} of {}", self.normals);
        debug_assert!(self.offset + V::LANES <= GROUP);
        // SAFETY: j * GROUP + offset + V::LANES <= normals * GROUP = z.len().
        unsafe { V::load(self.z.as_ptr().add(j * GROUP + self.offset)) }
    }
}

/// One market of a [`PathModel`]: its kernel and the quantities it reports, whose
/// columns count within the kernel's values.
#[derive(Debug, Clone)]
pub struct Scenario<K> {
    /// Dynamics and payoff.
    pub kernel: K,
    /// Quantities: `price` first (column 0), with its control and references.
    pub quantities: Vec<Quantity>,
}

/// The sweep a [`PathModel`] prices, where it prices one.
#[derive(Debug, Clone, Copy, Default)]
pub struct SweepPoints<'a> {
    /// The swept keys' values at each scenario.
    pub values: &'a [Vec<serde_json::Value>],
    /// The one numeric swept key, for `dprice_dKEY` rows (empty for none).
    pub difference_key: &'a str,
}

/// The scrambled Sobol points of a `sobol` run.
#[derive(Debug)]
struct Qmc {
    replicates: u64,
    seed: u64,
    bridge: BrownianBridge,
    /// Built the first time a block of the replicate runs.
    sobols: Vec<OnceLock<Sobol>>,
}

/// A model made of a [`PathKernel`]: see the module docs.
#[derive(Debug)]
pub struct PathModel<K> {
    kernels: Vec<K>,
    normals: usize,
    factors: usize,
    values: usize,
    antithetic: bool,
    /// Columns of one scenario's row.
    width: usize,
    qmc: Option<Qmc>,
    quantities: Vec<Quantity>,
}

/// Most columns a row may have, every scenario and replicate together: the
/// statistics hold a co-moment per pair of columns.
pub const MAX_COLUMNS: usize = 256;

impl<K: PathKernel> PathModel<K> {
    /// The model of one scenario in `context`'s sampler. `normals_key` names the key
    /// that sets the number of normals (for the error when a Sobol point would need
    /// too many dimensions).
    pub fn new(
        scenario: Scenario<K>,
        antithetic: bool,
        context: &Context,
        normals_key: &str,
    ) -> Result<Self, Error> {
        Self::sweep(
            vec![scenario],
            antithetic,
            context,
            normals_key,
            &SweepPoints::default(),
        )
    }

    /// The model of every point of a sweep (at least one scenario, all taking the same
    /// normals and giving the same values), walked from the same normals: common random
    /// numbers. For a sweep of one numeric key, `dprice_dKEY` rows give the finite
    /// differences of the price between neighbouring points, at their midpoints.
    pub fn sweep(
        scenarios: Vec<Scenario<K>>,
        antithetic: bool,
        context: &Context,
        normals_key: &str,
        sweep: &SweepPoints<'_>,
    ) -> Result<Self, Error> {
        let first = &scenarios.first().expect("at least one scenario").kernel;
        let (normals, factors, values) = (first.normals(), first.factors(), first.values());
        assert!(
            normals >= 1 && factors >= 1 && normals.is_multiple_of(factors) && values >= 1,
            "a kernel takes whole dates of normals and gives at least one value"
        );
        for s in &scenarios {
            let k = &s.kernel;
            if (k.normals(), k.factors(), k.values()) != (normals, factors, values) {
                let bare = normals_key.trim_start_matches("model.");
                return Err(Error::parameter(
                    &format!("sweep.{bare}"),
                    "every point of a sweep walks the same dates from the same random \
                     numbers; sweep market and contract keys, not the dates",
                ));
            }
        }
        let qmc = match context.sampler {
            Sampler::Mc => None,
            Sampler::Sobol { replicates } => {
                if normals > D_MAX {
                    return Err(Error::parameter(
                        normals_key,
                        format!(
                            "a path takes {normals} normals, so {normals} Sobol dimensions; \
                             sampler = \"sobol\" has at most {D_MAX} (Joe-Kuo \
                             new-joe-kuo-6.21201); use fewer dates or sampler = \"mc\""
                        ),
                    ));
                }
                let bridge = BrownianBridge::uniform(normals / factors, (normals / factors) as f64)
                    .map_err(|e| Error::parameter(normals_key, e.to_string()))?;
                Some(Qmc {
                    replicates,
                    seed: context.seed,
                    bridge,
                    sobols: (0..replicates).map(|_| OnceLock::new()).collect(),
                })
            }
        };
        let width = values + usize::from(antithetic);
        let replicates = qmc.as_ref().map_or(1, |q| q.replicates as usize);
        if width * scenarios.len() * replicates > MAX_COLUMNS {
            let key = if qmc.is_some() {
                "simulation.replicates"
            } else {
                "sweep"
            };
            return Err(Error::parameter(
                key,
                format!(
                    "{} sweep points x {width} columns x {replicates} replicates make rows of \
                     {} columns; at most {MAX_COLUMNS}: use fewer replicates, points or greeks",
                    scenarios.len(),
                    width * scenarios.len() * replicates
                ),
            ));
        }
        let replicated = qmc.as_ref().map(|q| Replicated {
            replicates: q.replicates,
            width: width * scenarios.len(),
            chunk_size: BLOCK as u64,
        });
        let mut quantities = Vec::new();
        let mut prices = Vec::new();
        for (p, s) in scenarios.iter().enumerate() {
            let offset = p * width;
            let point = sweep.values.get(p).cloned();
            for q in &s.quantities {
                let mut q = q.clone();
                if antithetic && q.column == 0 && q.combination.is_empty() {
                    q.plain = Some(values);
                }
                q.column += offset;
                if let Some(c) = &mut q.control {
                    c.column += offset;
                }
                q.plain = q.plain.map(|c| c + offset);
                for (c, _) in &mut q.combination {
                    *c += offset;
                }
                q.replicated = replicated;
                q.point = point.clone();
                if q.name == "price" && q.combination.is_empty() {
                    prices.push((q.column, q.reference));
                }
                quantities.push(q);
            }
        }
        if !sweep.difference_key.is_empty() && prices.len() == scenarios.len() {
            let xs: Vec<f64> = sweep
                .values
                .iter()
                .map(|p| p[0].as_f64().unwrap_or(f64::NAN))
                .collect();
            for k in 0..xs.len().saturating_sub(1) {
                let h = xs[k + 1] - xs[k];
                if !(h.is_finite() && h != 0.0) {
                    continue;
                }
                let mut q = Quantity::new(format!("dprice_d{}", sweep.difference_key), 0);
                q.combination = vec![(prices[k].0, -1.0 / h), (prices[k + 1].0, 1.0 / h)];
                q.replicated = replicated;
                q.point = Some(vec![serde_json::Value::from(0.5 * (xs[k] + xs[k + 1]))]);
                if let (Some((a, ReferenceKind::Exact)), Some((b, ReferenceKind::Exact))) =
                    (prices[k].1, prices[k + 1].1)
                {
                    q = q.exact((b - a) / h);
                }
                quantities.push(q);
            }
        }
        Ok(PathModel {
            kernels: scenarios.into_iter().map(|s| s.kernel).collect(),
            normals,
            factors,
            values,
            antithetic,
            width,
            qmc,
            quantities,
        })
    }

    /// The kernel of each scenario.
    pub fn kernels(&self) -> &[K] {
        &self.kernels
    }

    /// Columns of one replicate's row: every scenario's.
    fn total_width(&self) -> usize {
        self.width * self.kernels.len()
    }

    /// The statistics of a block of `samples` samples: for each group of [`GROUP`]
    /// paths, `fill(rows, first)` writes the normals of the group whose first sample is
    /// `first` (row `j` at `rows[j * GROUP..]`), and every scenario's kernel walks them.
    ///
    /// Hand-written hot loop: the kernels' walks, then a store per value into the
    /// column buffers, which the accumulator reads a run of [`SAMPLES`] at a time.
    #[inline(always)]
    unsafe fn block_stats<V: Lanes>(
        &self,
        samples: usize,
        mut fill: impl FnMut(&mut [f64], usize),
    ) -> BlockStats {
        let n = self.normals;
        let values = self.values;
        let total = self.total_width();
        let mut z = vec![0.0; GROUP * n];
        let mut mirror = vec![0.0; if self.antithetic { GROUP * n } else { 0 }];
        let mut cols = vec![0.0; total * COLUMN];
        let mut acc = Acc::new(total);
        // SAFETY: the caller guarantees the instruction set; every store is at
        // `c * COLUMN + k` with `c < total` and `k + V::LANES <= SAMPLES`.
        unsafe {
            let half = V::splat(0.5);
            let mut out = vec![V::splat(0.0); values];
            let mut out_m = vec![V::splat(0.0); values];
            let mut first = 0;
            while first < samples {
                let run = (samples - first).min(SAMPLES);
                let cp = cols.as_mut_ptr();
                let mut at = 0;
                while at < run {
                    fill(&mut z, first + at);
                    if self.antithetic {
                        for (m, &x) in mirror.iter_mut().zip(&z) {
                            *m = -x;
                        }
                    }
                    for (s, kernel) in self.kernels.iter().enumerate() {
                        let base = s * self.width;
                        for h in 0..GROUP / V::LANES {
                            let k = at + h * V::LANES;
                            let col = |c: usize| cp.add((base + c) * COLUMN + k);
                            kernel.walk::<V>(PathNormals::new(&z, h * V::LANES), &mut out);
                            if self.antithetic {
                                kernel
                                    .walk::<V>(PathNormals::new(&mirror, h * V::LANES), &mut out_m);
                                for (c, (&v, &m)) in out.iter().zip(&out_m).enumerate() {
                                    half.mul(v.add(m)).store(col(c));
                                }
                                out[0].store(col(values));
                            } else {
                                for (c, &v) in out.iter().enumerate() {
                                    v.store(col(c));
                                }
                            }
                        }
                    }
                    at += GROUP;
                }
                acc.add::<V>(&mut cols, run);
                first += run;
            }
        }
        acc.take()
    }

    /// The statistics of an mc block (see the module docs).
    fn simulate_mc(&self, block: &mut Block) -> BlockStats {
        let samples = block.samples();
        let lanes = block.lanes();
        Simd::current().run(Mc {
            model: self,
            lanes,
            samples,
        })
    }

    /// The statistics of a sobol block: block `b` holds points `(b / R) BLOCK ..` of
    /// replicate `b % R`, embedded in the replicate's columns.
    fn simulate_qmc(&self, qmc: &Qmc, block: &Block) -> BlockStats {
        let r = block.index() % qmc.replicates;
        let start = (block.index() / qmc.replicates) * BLOCK as u64;
        let sobol = qmc.sobols[r as usize].get_or_init(|| {
            Sobol::scrambled(self.normals, qmc.seed, r).expect("dimensions checked when built")
        });
        Simd::current()
            .run(Qmc1 {
                model: self,
                qmc,
                sobol,
                start,
                samples: block.samples(),
            })
            .embed(r as usize, qmc.replicates as usize)
    }
}

/// Entries of one column buffer: a run of samples, padded to whole lanes.
const COLUMN: usize = SAMPLES + LANES;

/// One block of a path model on pseudo-random normals, at the current SIMD level.
struct Mc<'a, K> {
    model: &'a PathModel<K>,
    lanes: &'a mut LaneStates,
    samples: usize,
}

impl<K: PathKernel> LaneProgram for Mc<'_, K> {
    type Output = BlockStats;

    #[inline(always)]
    unsafe fn run<V: Lanes>(self) -> BlockStats {
        let mut normals = LaneNormals::new();
        let lanes = self.lanes;
        // SAFETY: passed on from the caller.
        unsafe {
            self.model.block_stats::<V>(
                self.samples,
                #[inline(always)]
                |z, _| normals.fill::<V>(lanes, z),
            )
        }
    }
}

/// One block of a path model on Sobol points, at the current SIMD level.
struct Qmc1<'a, K> {
    model: &'a PathModel<K>,
    qmc: &'a Qmc,
    sobol: &'a Sobol,
    start: u64,
    samples: usize,
}

impl<K: PathKernel> LaneProgram for Qmc1<'_, K> {
    type Output = BlockStats;

    #[inline(always)]
    unsafe fn run<V: Lanes>(self) -> BlockStats {
        let model = self.model;
        let (n, factors) = (model.normals, model.factors);
        let dates = n / factors;
        let mut points = self.sobol.points(self.start);
        let mut bits = vec![0u64; GROUP * n];
        let mut u = vec![0.0; GROUP * n];
        let (mut coords, mut dw) = (vec![0.0; dates], vec![0.0; dates]);
        let bridge = &self.qmc.bridge;
        // SAFETY: passed on from the caller.
        unsafe {
            model.block_stats::<V>(self.samples, |z, _| {
                for point in bits.chunks_exact_mut(n) {
                    points.next_bits(point);
                }
                normals_from_bits(&bits, &mut u);
                for (p, point) in u.chunks_exact(n).enumerate() {
                    for f in 0..factors {
                        for (i, c) in coords.iter_mut().enumerate() {
                            *c = point[i * factors + f];
                        }
                        bridge.increments(&coords, &mut dw);
                        for (j, &x) in dw.iter().enumerate() {
                            z[(j * factors + f) * GROUP + p] = x;
                        }
                    }
                }
            })
        }
    }
}

/// The block accumulator of a row width: vector partial sums in registers for up to
/// eight columns, rows otherwise (the same bits either way). One lives on the stack
/// per block and its sums are updated in place, so its size is no cost worth a box.
#[allow(clippy::large_enum_variant)]
enum Acc {
    D1(BlockAccumulator<1>),
    D2(BlockAccumulator<2>),
    D3(BlockAccumulator<3>),
    D4(BlockAccumulator<4>),
    D5(BlockAccumulator<5>),
    D6(BlockAccumulator<6>),
    D7(BlockAccumulator<7>),
    D8(BlockAccumulator<8>),
    Rows(RowAccumulator, Vec<f64>),
}

impl Acc {
    fn new(width: usize) -> Acc {
        match width {
            1 => Acc::D1(BlockAccumulator::new()),
            2 => Acc::D2(BlockAccumulator::new()),
            3 => Acc::D3(BlockAccumulator::new()),
            4 => Acc::D4(BlockAccumulator::new()),
            5 => Acc::D5(BlockAccumulator::new()),
            6 => Acc::D6(BlockAccumulator::new()),
            7 => Acc::D7(BlockAccumulator::new()),
            8 => Acc::D8(BlockAccumulator::new()),
            w => Acc::Rows(RowAccumulator::new(w), vec![0.0; w]),
        }
    }

    /// Adds the next `n` samples, column `c` at `cols[c * COLUMN..][..n]`.
    #[inline(always)]
    unsafe fn add<V: Lanes>(&mut self, cols: &mut [f64], n: usize) {
        fn split<const D: usize>(cols: &mut [f64]) -> [&mut [f64]; D] {
            let mut it = cols.chunks_exact_mut(COLUMN);
            std::array::from_fn(|_| it.next().expect("D columns"))
        }
        // SAFETY: passed on from the caller.
        unsafe {
            match self {
                Acc::D1(a) => a.add::<V>(split(cols), n),
                Acc::D2(a) => a.add::<V>(split(cols), n),
                Acc::D3(a) => a.add::<V>(split(cols), n),
                Acc::D4(a) => a.add::<V>(split(cols), n),
                Acc::D5(a) => a.add::<V>(split(cols), n),
                Acc::D6(a) => a.add::<V>(split(cols), n),
                Acc::D7(a) => a.add::<V>(split(cols), n),
                Acc::D8(a) => a.add::<V>(split(cols), n),
                Acc::Rows(a, row) => {
                    for k in 0..n {
                        for (c, x) in row.iter_mut().enumerate() {
                            *x = cols[c * COLUMN + k];
                        }
                        a.push(row);
                    }
                }
            }
        }
    }

    fn take(&mut self) -> BlockStats {
        match self {
            Acc::D1(a) => a.take(),
            Acc::D2(a) => a.take(),
            Acc::D3(a) => a.take(),
            Acc::D4(a) => a.take(),
            Acc::D5(a) => a.take(),
            Acc::D6(a) => a.take(),
            Acc::D7(a) => a.take(),
            Acc::D8(a) => a.take(),
            Acc::Rows(a, _) => a.finish(),
        }
    }
}

impl<K: PathKernel> Model for PathModel<K> {
    fn dim(&self) -> usize {
        self.total_width() * self.qmc.as_ref().map_or(1, |q| q.replicates as usize)
    }

    fn quantities(&self) -> &[Quantity] {
        &self.quantities
    }

    fn simulate(&self, block: &mut Block) -> Result<BlockStats, String> {
        Ok(match &self.qmc {
            None => self.simulate_mc(block),
            Some(q) => self.simulate_qmc(q, block),
        })
    }

    fn normal_method(&self) -> Option<&'static str> {
        Some(if self.qmc.is_some() {
            INVERSION_METHOD
        } else {
            NORMAL_METHOD
        })
    }
}

/// The parameters of a model built on [`PathModel`]: how a registry entry turns its
/// `[model]` keys into a scenario ([`build`], [`build_sweep`]).
pub trait KernelParams {
    /// The model's kernel.
    type Kernel: PathKernel;
    /// The key that sets how many normals a path takes (`model.steps`), named in errors.
    const NORMALS_KEY: &'static str;
    /// Validates the keys and builds the scenario; errors name the `model.` key.
    fn scenario(&self) -> Result<Scenario<Self::Kernel>, Error>;
    /// Whether samples are antithetic pairs.
    fn antithetic(&self) -> bool;
}

/// The model of `params` in `context`'s sampler.
pub fn build<P: KernelParams>(
    params: &P,
    context: &Context,
) -> Result<PathModel<P::Kernel>, Error> {
    PathModel::new(
        params.scenario()?,
        params.antithetic(),
        context,
        P::NORMALS_KEY,
    )
}

/// The model that prices every point of a sweep (`params`, the swept keys taking
/// `values`) from common random numbers; for [`Entry::sweeps`](crate::model::Entry::sweeps).
pub fn build_sweep<P: KernelParams>(
    params: &[P],
    values: &[Vec<serde_json::Value>],
    difference_key: &str,
    context: &Context,
) -> Result<Box<dyn Model>, Error> {
    let scenarios = params
        .iter()
        .map(KernelParams::scenario)
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(Box::new(PathModel::sweep(
        scenarios,
        params[0].antithetic(),
        context,
        P::NORMALS_KEY,
        &SweepPoints {
            values,
            difference_key,
        },
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::Level;
    use crate::random::lanes::LaneCursor;
    use crate::stats::Accumulator;

    /// A kernel whose values are its first normal and the sum of squares of all.
    #[derive(Debug)]
    struct Squares(usize);

    impl PathKernel for Squares {
        fn normals(&self) -> usize {
            self.0
        }
        fn values(&self) -> usize {
            2
        }
        #[inline(always)]
        unsafe fn walk<V: Lanes>(&self, z: PathNormals<'_>, out: &mut [V]) {
            // SAFETY: passed on from the caller.
            unsafe {
                let mut s = V::splat(0.0);
                for j in 0..z.len() {
                    let x = z.get::<V>(j);
                    s = s.add(x.mul(x));
                }
                out[0] = z.get::<V>(0);
                out[1] = s;
            }
        }
    }

    fn model(normals: usize, antithetic: bool) -> PathModel<Squares> {
        PathModel::new(
            Scenario {
                kernel: Squares(normals),
                quantities: vec![Quantity::new("price", 0), Quantity::new("squares", 1)],
            },
            antithetic,
            &Context::new(7),
            "model.steps",
        )
        .unwrap()
    }

    /// The rows a one-path-at-a-time loop computes from each lane's normal sequence.
    fn by_hand(normals: usize, antithetic: bool, samples: usize) -> BlockStats {
        let lanes = LaneCursor::new(7).lanes(3);
        let seqs: Vec<Vec<f64>> = (0..LANES)
            .map(|l| {
                let mut n = crate::random::ziggurat::Normals::new(&lanes.stream(l));
                let mut out = vec![0.0; normals * BLOCK / LANES + 64];
                crate::math::Simd::new(Level::Scalar)
                    .unwrap()
                    .run(Fill(&mut n, &mut out));
                out
            })
            .collect();
        let mut acc = Accumulator::<3>::new();
        let mut acc2 = Accumulator::<2>::new();
        for k in 0..samples {
            let (l, i) = (k % LANES, k / LANES);
            let z = &seqs[l][i * normals..(i + 1) * normals];
            let row = |sign: f64| {
                let mut s = 0.0;
                for &x in z {
                    s += (sign * x) * (sign * x);
                }
                [sign * z[0], s]
            };
            let a = row(1.0);
            if antithetic {
                let m = row(-1.0);
                acc.push([0.5 * (a[0] + m[0]), 0.5 * (a[1] + m[1]), a[0]]);
            } else {
                acc2.push(a);
            }
        }
        if antithetic {
            acc.finish()
        } else {
            acc2.finish()
        }
    }

    struct Fill<'a>(&'a mut crate::random::ziggurat::Normals, &'a mut [f64]);

    impl LaneProgram for Fill<'_> {
        type Output = ();
        unsafe fn run<V: Lanes>(self) {
            // SAFETY: passed on from the caller.
            unsafe { self.0.fill::<V>(self.1) };
        }
    }

    #[test]
    fn lanes_walk_each_lane_s_own_normals_in_order() {
        for (normals, antithetic, samples) in [(3, false, 4096), (5, true, 1000), (1, true, 13)] {
            let want = by_hand(normals, antithetic, samples);
            let m = model(normals, antithetic);
            let mut block = Block::new(3, samples, LaneCursor::new(7).lanes(3));
            let got = m.simulate(&mut block).unwrap();
            assert_eq!(got, want, "{normals} normals, antithetic {antithetic}");
        }
    }

    #[test]
    fn every_width_accumulates_the_same_bits() {
        // Nine columns take the row accumulator; eight the vector one. The first eight
        // columns' statistics must agree.
        #[derive(Debug)]
        struct Wide(usize);
        impl PathKernel for Wide {
            fn normals(&self) -> usize {
                2
            }
            fn values(&self) -> usize {
                self.0
            }
            #[inline(always)]
            unsafe fn walk<V: Lanes>(&self, z: PathNormals<'_>, out: &mut [V]) {
                // SAFETY: passed on from the caller.
                unsafe {
                    for (c, o) in out.iter_mut().enumerate() {
                        *o = z.get::<V>(c % 2).mul(V::splat(c as f64 + 1.0));
                    }
                }
            }
        }
        let stats = |w: usize| {
            let m = PathModel::new(
                Scenario {
                    kernel: Wide(w),
                    quantities: vec![Quantity::new("price", 0)],
                },
                false,
                &Context::new(1),
                "model.steps",
            )
            .unwrap();
            m.simulate(&mut Block::new(0, 1000, LaneCursor::new(1).lanes(0)))
                .unwrap()
        };
        let (a, b) = (stats(8), stats(9));
        assert_eq!(a.sum[..], b.sum[..8]);
        assert_eq!(a.shift[..], b.shift[..8]);
        assert_eq!(a.cross[..8], b.cross[..8]);
    }

    #[test]
    fn sobol_points_go_through_the_bridge_per_factor() {
        #[derive(Debug)]
        struct Two;
        impl PathKernel for Two {
            fn normals(&self) -> usize {
                8
            }
            fn factors(&self) -> usize {
                2
            }
            fn values(&self) -> usize {
                2
            }
            #[inline(always)]
            unsafe fn walk<V: Lanes>(&self, z: PathNormals<'_>, out: &mut [V]) {
                // SAFETY: passed on from the caller.
                unsafe {
                    // the sums of each factor's increments: its terminal value
                    let (mut a, mut b) = (V::splat(0.0), V::splat(0.0));
                    for j in 0..4 {
                        a = a.add(z.get::<V>(2 * j));
                        b = b.add(z.get::<V>(2 * j + 1));
                    }
                    out[0] = a;
                    out[1] = b;
                }
            }
        }
        let context = Context::new(5).with_sampler(Sampler::Sobol { replicates: 2 });
        let m = PathModel::new(
            Scenario {
                kernel: Two,
                quantities: vec![Quantity::new("price", 0)],
            },
            false,
            &context,
            "model.steps",
        )
        .unwrap();
        assert_eq!(m.dim(), 4);
        let stats = m
            .simulate(&mut Block::new(1, 16, LaneCursor::new(5).lanes(1)))
            .unwrap();
        // Block 1 is replicate 1's first block: its terminal values are 2 (= sqrt 4)
        // times the normals of coordinates 0 and 1, embedded with weight 2.
        let sobol = Sobol::scrambled(8, 5, 1).unwrap();
        let mut bits = [0u64; 8];
        let (mut s0, mut s1) = (0.0, 0.0);
        let mut first = [0.0; 2];
        for k in 0..16 {
            sobol.point_bits(k, &mut bits);
            let a = 2.0 * crate::math::normal_from_bits(bits[0]);
            let b = 2.0 * crate::math::normal_from_bits(bits[1]);
            if k == 0 {
                first = [a, b];
            }
            s0 += a - first[0];
            s1 += b - first[1];
        }
        assert_eq!(stats.shift[..2], [0.0, 0.0]);
        assert!((stats.shift[2] - 2.0 * first[0]).abs() < 1e-12);
        assert!(
            (stats.sum[2] - 2.0 * s0).abs() < 1e-9,
            "{} vs {s0}",
            stats.sum[2]
        );
        assert!((stats.sum[3] - 2.0 * s1).abs() < 1e-9);
    }
}
