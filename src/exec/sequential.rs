//! The sequential executor: one chunk after another on the calling thread.

use std::ops::Range;

use super::{Event, Executor, Flow, Work};
use crate::Error;

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
        done: &mut dyn FnMut(Event) -> Flow,
    ) -> Result<(), Error> {
        let mut cursor = work.cursor();
        for index in todo.iter().flat_map(Range::clone) {
            let moments = work.run_chunk(&mut cursor, index)?;
            if done(Event::Done(index, moments)) == Flow::Stop {
                break;
            }
        }
        Ok(())
    }
}
