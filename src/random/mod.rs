//! Where randomness comes from: streams, normals, quasi-random points and samplers.
//!
//! Everything a run draws is a function of its seed and of where the draw sits in the
//! run, never of the machine or the thread:
//! - [`stream`](mod@stream): the documented map from `(seed, index)` to a xoshiro256++ generator,
//!   reached in O(log index) by jump polynomials;
//! - `ziggurat`: a stream's words in bulk, and standard normals by the block ziggurat
//!   (the normal method named in every summary's `normal` column);
//! - [`normal`](mod@normal): rand_distr's ziggurat one variate at a time (what Python's
//!   `rng.normal` draws);
//! - [`qmc`]: scrambled Sobol points and the Brownian bridge;
//! - [`sampler`]: the `sampler` key, pseudo-random (`mc`) or randomized quasi-Monte
//!   Carlo (`sobol`).
//!
//! This module knows nothing of models, chunks' schedules or files: a model asks it
//! for numbers, the executors ask it for the stream of a chunk.

pub(crate) mod lane_normals;
pub mod lanes;
pub mod normal;
pub mod qmc;
pub mod sampler;
pub mod stream;
mod zig_tables;
pub(crate) mod ziggurat;

pub use normal::normal;
pub use sampler::Sampler;
pub use stream::{Cursor, DERIVATION, Family, Stream, stream};
pub use ziggurat::NORMAL_METHOD;
