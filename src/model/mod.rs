//! Models: what is simulated, one chunk at a time.
//!
//! A [`Model`] turns a [`Block`] of samples, with its lanes' random streams, into the
//! block's statistics. It is immutable, holds no threads and does no I/O; the engine
//! decides where and when blocks run, and merges their statistics exactly. The `[model]` table of a config is parsed into a [`ModelSpec`] (plain
//! data that can be hashed and sent to worker processes), and a [`Registry`] turns a
//! spec into a validated model. Built-in and user models are registered alike.

mod block;
pub mod python;
mod registry;

use std::borrow::Cow;
use std::fmt;

use crate::stats::{BlockStats, Control, Replicated};

pub use block::{Block, Chunk};
pub use registry::{Context, Entry, Key, ModelSpec, Params, Registry, did_you_mean};

/// A Monte Carlo model.
///
/// # Contract
/// - [`simulate`](Model::simulate) turns one [`Block`] into its statistics, and must
///   be a pure function of the block: its index, its sample count and its lanes'
///   streams. Sample `k` of the block draws its random numbers from lane `k % LANES`
///   ([`Block::lane`], or all lanes at once through [`Block::lanes`]) and from nothing
///   else (no global generator, no clock), so the same block gives the same bits on
///   any thread, in any process, in any chunk.
/// - The statistics count exactly the block's samples, one row of [`dim`](Model::dim)
///   columns each, pushed in sample order into an [`Accumulator`](crate::stats::Accumulator)
///   (or computed to the same bits): that fixed order is part of the bits.
/// - [`quantities`](Model::quantities) is fixed for the model's lifetime and every
///   column it names is below `dim`.
/// - An error (a model written in another language that raises) ends the run with
///   exit code 1 and a message naming the chunk.
pub trait Model: Send + Sync + fmt::Debug {
    /// Columns of each sample's row.
    fn dim(&self) -> usize;

    /// The quantities the model estimates, in output order.
    fn quantities(&self) -> &[Quantity];

    /// Draws the samples of `block` and returns their statistics.
    fn simulate(&self, block: &mut Block) -> Result<BlockStats, String>;

    /// Simulates every block of `chunk`, in order, handing each block's statistics to
    /// [`Chunk::record`]. The default calls [`simulate`](Model::simulate) per block; a
    /// model that keeps something across blocks (buffers, one call into Python for the
    /// whole chunk) overrides it, with the same bits.
    fn simulate_chunk(&self, chunk: &mut Chunk<'_>) -> Result<(), String> {
        for b in chunk.blocks() {
            let mut block = chunk.block(b);
            let stats = self.simulate(&mut block)?;
            chunk.record(b, stats)?;
        }
        Ok(())
    }

    /// The name of the method by which [`simulate`](Model::simulate) turns its lanes'
    /// words into standard normals (the summary's `normal` column), or `None` for a
    /// model that draws no normals (pi) or leaves the method to its author. Like the
    /// stream method, it is part of what decides the bits: a model that changes its
    /// method gives it a new name. The default is `None`.
    fn normal_method(&self) -> Option<&'static str> {
        None
    }
}

/// A boxed model is a model, so that a registry entry may choose among several
/// implementations of one model type.
impl Model for Box<dyn Model> {
    fn dim(&self) -> usize {
        self.as_ref().dim()
    }

    fn quantities(&self) -> &[Quantity] {
        self.as_ref().quantities()
    }

    fn simulate(&self, block: &mut Block) -> Result<BlockStats, String> {
        self.as_ref().simulate(block)
    }

    fn simulate_chunk(&self, chunk: &mut Chunk<'_>) -> Result<(), String> {
        self.as_ref().simulate_chunk(chunk)
    }

    fn normal_method(&self) -> Option<&'static str> {
        self.as_ref().normal_method()
    }
}

/// A quantity a model estimates: one row of the summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    /// Name in the `quantity` column (`pi`, `price`, `delta`, ...).
    pub name: Cow<'static, str>,
    /// Column of the statistics that holds its samples.
    pub column: usize,
    /// A control variate to correct it with, if any.
    pub control: Option<Control>,
    /// The value to compare the estimate with (the `reference` column), where carlo
    /// can compute one, and how it was computed.
    pub reference: Option<(f64, ReferenceKind)>,
    /// An approximation that is not a reference (the `approx_reference` column), for
    /// example a continuous-monitoring closed form for a discretely monitored barrier.
    pub approx_reference: Option<f64>,
    /// A column holding the plain estimator's samples, when the quantity's own
    /// column holds variance-reduced ones (the first path of each antithetic pair):
    /// the `variance_reduction` column compares with its variance.
    pub plain: Option<usize>,
    /// Set when the statistics hold one block of columns per randomized quasi-Monte
    /// Carlo replicate: the estimate is then Student's t on the replicate means, and
    /// `column`, `control` and `plain` count within a block.
    pub replicated: Option<Replicated>,
    /// The values of the swept keys at the quantity's sweep point (the midpoint, for
    /// a finite difference between two points), for runs with a sweep.
    pub point: Option<Vec<serde_json::Value>>,
    /// When not empty, the quantity is not a column but this combination of columns
    /// (`(column, weight)`), such as a finite difference between sweep points: its
    /// standard error comes from the co-moments of the paired samples.
    pub combination: Vec<(usize, f64)>,
}

impl Quantity {
    /// A quantity read from `column`, with no control and no reference.
    pub fn new(name: impl Into<Cow<'static, str>>, column: usize) -> Self {
        Quantity {
            name: name.into(),
            column,
            control: None,
            reference: None,
            approx_reference: None,
            plain: None,
            replicated: None,
            point: None,
            combination: Vec::new(),
        }
    }

    /// The same quantity with an exact reference value.
    pub fn exact(self, value: f64) -> Self {
        Quantity {
            reference: Some((value, ReferenceKind::Exact)),
            ..self
        }
    }
}

/// How a [`Quantity`]'s reference was computed (the `reference_kind` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceKind {
    /// A closed form, exact up to rounding.
    Exact,
    /// A numerical method accurate far beyond any Monte Carlo error (recursive
    /// quadrature over the dates of a discretely monitored barrier or a Bermudan
    /// option: within 1e-9), so not exact, but as good as exact to compare with.
    Quadrature,
}

impl ReferenceKind {
    /// The name written in the `reference_kind` column.
    pub fn name(self) -> &'static str {
        match self {
            ReferenceKind::Exact => "exact",
            ReferenceKind::Quadrature => "quadrature",
        }
    }
}
