//! The sequential executor: one chunk after another on the calling thread.

use std::ops::Range;

use super::{Executor, Flow, Work};
use crate::Error;
use crate::stats::Moments;

/// Runs chunks in order on the calling thread; the reference every other backend is
/// tested against.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sequential;

impl Executor for Sequential {
    fn backend(&self) -> &'static str {
        "sequential"
    }

    fn workers(&self) -> usize {
        1
    }

    fn execute(
        &mut self,
        work: &Work<'_>,
        todo: &[Range<u64>],
        done: &mut dyn FnMut(u64, Moments) -> Flow,
    ) -> Result<(), Error> {
        let mut cursor = work.cursor();
        for index in todo.iter().flat_map(Range::clone) {
            if done(index, work.run_chunk(&mut cursor, index)?) == Flow::Stop {
                break;
            }
        }
        Ok(())
    }
}
