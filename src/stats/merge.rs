//! The in-order merge of chunk statistics.

use std::collections::BTreeMap;

use super::Moments;

/// Folds chunk statistics in ascending chunk order, whatever order they arrive in.
///
/// Chunks that arrive early wait until every chunk before them has been folded; with
/// workers that take chunks from an ascending queue, only about one chunk per worker
/// ever waits, so memory does not grow with the run.
#[derive(Debug, Clone, PartialEq)]
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
        self.offer(index, moments);
        self.advance(u64::MAX)
    }

    /// Accepts the statistics of chunk `index` without folding anything; a chunk
    /// already merged or waiting is ignored.
    pub fn offer(&mut self, index: u64, moments: Moments) {
        if index >= self.next {
            self.waiting.entry(index).or_insert(moments);
        }
    }

    /// Folds waiting chunks that are next in line, but none at or beyond `end`, so
    /// that a caller can look at the statistics of exactly chunks `0..end`. Returns
    /// how many chunks were folded.
    pub fn advance(&mut self, end: u64) -> u64 {
        let before = self.next;
        while self.next < end
            && let Some(m) = self.waiting.remove(&self.next)
        {
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
    fn advance_stops_at_its_end() {
        let mut m = InOrder::new(1);
        for i in [2, 0, 1, 3] {
            m.offer(i, chunk(i as f64));
        }
        assert_eq!(m.next(), 0);
        assert_eq!(m.advance(2), 2);
        assert_eq!(m.merged().count, 4);
        assert_eq!(m.waiting().map(|(i, _)| i).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(m.advance(10), 2);
        let mut all = InOrder::new(1);
        for i in 0..4 {
            all.insert(i, chunk(i as f64));
        }
        assert_eq!(all.merged(), m.merged());
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
