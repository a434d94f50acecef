//! Rank 0's bookkeeping of the hand-out, and the words chunks travel as.

use std::ops::Range;

use crate::stats::{Moments, codec};

/// Chunks in a batch, at most. A batch costs one question and one answer; 64 chunks of
/// pi at the default size are about 10 ms of work, and rank 0 answers each question in
/// microseconds.
pub(super) const MAX_BATCH: u64 = 64;

/// A batch takes `1 / (GUIDE * ranks)` of the chunks not yet handed out (guided
/// self-scheduling), so that the last batches are small and the ranks finish together.
const GUIDE: u64 = 4;

/// Words of reported chunks in one answer, about: 128 KiB, 4096 chunks of pi. A
/// rank that fell behind catches up over several answers.
const ANSWER_WORDS: usize = 1 << 14;

/// Rank 0's bookkeeping.
pub(super) struct Hub {
    /// Ranks in the run.
    ranks: usize,
    /// Words per encoded chunk.
    pub stride: usize,
    /// Chunks of the run.
    total: u64,
    /// First position not handed out.
    next: u64,
    /// Chunks reported to the engine, in the order they were reported.
    pub reported: u64,
    /// Whether the engine has stopped or every chunk is reported.
    pub ended: bool,
    /// The encoded chunks reported from the `log_start`-th on, in the order they
    /// were reported, kept until every rank has been sent them.
    pub log: Vec<u64>,
    log_start: u64,
    /// Rank `r` has been sent the first `sent[r]` reported chunks.
    sent: Vec<u64>,
    /// Ranks whose question waits for the end.
    pub parked: Vec<bool>,
    /// Ranks that have been told the end (rank 0 counts as told).
    pub gone: Vec<bool>,
}

impl Hub {
    pub fn new(ranks: usize, stride: usize, total: u64) -> Self {
        let mut gone = vec![false; ranks];
        gone[0] = true;
        Hub {
            ranks,
            stride,
            total,
            next: 0,
            reported: 0,
            ended: false,
            log: Vec::new(),
            log_start: 0,
            sent: vec![0; ranks],
            parked: vec![false; ranks],
            gone,
        }
    }

    /// The next batch, if the run goes on and chunks are left.
    pub fn hand_out(&mut self) -> Option<Range<u64>> {
        let left = self.total - self.next;
        if self.ended || left == 0 {
            return None;
        }
        let batch = self.next..self.next + batch_size(left, self.ranks as u64);
        self.next = batch.end;
        Some(batch)
    }

    /// Whether every chunk has been reported.
    pub fn complete(&self) -> bool {
        self.reported == self.total
    }

    /// What rank `to` is answered: `batch` and the chunks reported since its last
    /// answer, as many as fit in one answer, with the kind of answer: after the end,
    /// the answer that brings it up to date is the end; until then it asks again.
    pub fn answer(&mut self, to: usize, batch: Range<u64>) -> (u64, Range<u64>, &[u64]) {
        let from = (self.sent[to] - self.log_start) as usize * self.stride;
        let count = ((self.log.len() - from) / self.stride).min(answer_chunks(self.stride));
        self.sent[to] += count as u64;
        let caught_up = from + count * self.stride == self.log.len();
        let kind = match (self.ended, caught_up) {
            (false, _) => super::ANSWER_GO,
            (true, true) => super::ANSWER_END,
            (true, false) => super::ANSWER_DRAIN,
        };
        self.gone[to] = kind == super::ANSWER_END;
        (kind, batch, &self.log[from..from + count * self.stride])
    }

    /// Forgets the reported chunks that every rank still running has been sent.
    pub fn trim(&mut self) {
        let oldest = (1..self.ranks)
            .filter(|&r| !self.gone[r])
            .map(|r| self.sent[r])
            .min()
            .unwrap_or(self.log_start + (self.log.len() / self.stride) as u64);
        if oldest - self.log_start >= 1024 {
            self.log
                .drain(..(oldest - self.log_start) as usize * self.stride);
            self.log_start = oldest;
        }
    }
}

/// Reported chunks in one answer, at most: [`ANSWER_WORDS`] words' worth, at least one.
pub(super) fn answer_chunks(stride: usize) -> usize {
    (ANSWER_WORDS / stride).max(1)
}

/// Chunks in the next batch when `left` chunks are not handed out yet to `ranks`.
fn batch_size(left: u64, ranks: u64) -> u64 {
    left.div_ceil(GUIDE * ranks).clamp(1, MAX_BATCH).min(left)
}

/// The chunk indices at positions `wanted` of the chunks listed by `todo`.
pub(super) fn positions(todo: &[Range<u64>], wanted: Range<u64>) -> impl Iterator<Item = u64> + '_ {
    let mut offset = 0;
    todo.iter().flat_map(move |range| {
        let len = range.end - range.start;
        let (lo, hi) = (
            wanted.start.clamp(offset, offset + len),
            wanted.end.clamp(offset, offset + len),
        );
        let base = range.start - offset;
        offset += len;
        lo + base..hi + base
    })
}

/// Appends a chunk's index and its statistics' words ([`codec`]): bits, not
/// values, so the exchange is exact.
pub(super) fn encode(words: &mut Vec<u64>, index: u64, m: &Moments) {
    words.push(index);
    codec::to_words(m, words);
}

/// The chunks [`encode`]d into `words`, for statistics of `dim` columns; `None` if
/// the words are not whole chunks.
pub(super) fn decode(words: &[u64], dim: usize) -> Option<Vec<(u64, Moments)>> {
    let stride = 1 + codec::words_len(dim);
    words
        .len()
        .is_multiple_of(stride)
        .then(|| decode_all(words, dim).collect())
}

/// The whole chunks [`encode`]d into `words`.
pub(super) fn decode_all(words: &[u64], dim: usize) -> impl Iterator<Item = (u64, Moments)> + '_ {
    let stride = 1 + codec::words_len(dim);
    words.chunks_exact(stride).map(|w| {
        let moments = codec::from_words(&w[1..]).expect("a whole chunk's words");
        (w[0], moments)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_walk_ranges() {
        let todo = [0..2, 5..6, 9..12];
        let got: Vec<u64> = positions(&todo, 1..5).collect();
        assert_eq!(got, [1, 5, 9, 10]);
    }

    #[test]
    fn encoding_is_exact() {
        let m = Moments {
            count: 7,
            mean: vec![f64::NAN, -0.0],
            comoment: vec![1e-310, f64::INFINITY, 3.5, -1.0],
        };
        let mut words = Vec::new();
        encode(&mut words, 42, &m);
        let back = decode(&words, 2).unwrap();
        assert_eq!(back[0].0, 42);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back[0].1.mean), bits(&m.mean));
        assert_eq!(bits(&back[0].1.comoment), bits(&m.comoment));
        assert!(decode(&words[1..], 2).is_none());
    }

    #[test]
    fn batches_shrink_to_one_and_cover_everything() {
        for (total, ranks) in [(1, 1), (101, 2), (101, 3), (100_000, 16)] {
            let (mut next, mut sizes) = (0, Vec::new());
            while next < total {
                let size = batch_size(total - next, ranks);
                assert!((1..=MAX_BATCH).contains(&size));
                sizes.push(size);
                next += size;
            }
            assert_eq!(next, total);
            assert_eq!(*sizes.last().unwrap(), 1, "{total} chunks, {ranks} ranks");
            assert!(sizes.windows(2).all(|w| w[0] >= w[1]));
        }
    }
}
