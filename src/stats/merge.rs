//! The in-order merge of chunk statistics.

use std::collections::BTreeMap;

use super::Moments;

/// Folds chunk statistics in ascending chunk order, whatever order they arrive in.
///
/// Chunks that arrive early wait until every chunk before them has been folded; with
/// workers that take chunks from an ascending queue, only about one chunk per worker
/// ever waits, so memory does not grow with the run.
#[derive(Debug, Clone)]
pub struct InOrder {
    next: u64,
    merged: Moments,
    waiting: BTreeMap<u64, Moments>,
}

impl InOrder {
    /// Expects chunk `start` next, with `merged` the statistics of chunks `0..start`.
    pub fn resume(start: u64, merged: Moments) -> Self {
        InOrder {
            next: start,
            merged,
            waiting: BTreeMap::new(),
        }
    }

    /// Nothing merged yet; chunks of `dim` columns.
    pub fn new(dim: usize) -> Self {
        Self::resume(0, Moments::empty(dim))
    }

    /// Accepts the statistics of chunk `index` and folds every chunk that is now
    /// next in line. Returns how many chunks were folded.
    ///
    /// A chunk that was already merged or is already waiting is ignored, so a chunk
    /// that was run twice (a worker that died after reporting) counts once.
    pub fn insert(&mut self, index: u64, moments: Moments) -> u64 {
        if index < self.next {
            return 0;
        }
        self.waiting.entry(index).or_insert(moments);
        let before = self.next;
        while let Some(m) = self.waiting.remove(&self.next) {
            self.merged.merge(&m);
            self.next += 1;
        }
        self.next - before
    }

    /// Chunks `0..next()` are merged.
    pub fn next(&self) -> u64 {
        self.next
    }

    /// The statistics of chunks `0..next()`.
    pub fn merged(&self) -> &Moments {
        &self.merged
    }

    /// Chunks that arrived ahead of their turn, in ascending order.
    pub fn waiting(&self) -> impl Iterator<Item = (u64, &Moments)> {
        self.waiting.iter().map(|(i, m)| (*i, m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(v: f64) -> Moments {
        Moments::from_rows(1, &[vec![v], vec![v * 2.0]])
    }

    #[test]
    fn arrival_order_does_not_matter() {
        let mut forward = InOrder::new(1);
        for i in 0..6 {
            forward.insert(i, chunk(i as f64 + 0.1));
        }
        let mut shuffled = InOrder::new(1);
        for i in [3, 1, 5, 0, 2, 4, 2] {
            shuffled.insert(i, chunk(i as f64 + 0.1));
        }
        assert_eq!(shuffled.next(), 6);
        assert_eq!(forward.merged(), shuffled.merged());
    }

    #[test]
    fn waits_for_gaps() {
        let mut m = InOrder::new(1);
        assert_eq!(m.insert(1, chunk(1.0)), 0);
        assert_eq!(m.waiting().count(), 1);
        assert_eq!(m.insert(0, chunk(0.0)), 2);
        assert_eq!(m.next(), 2);
    }
}
