//! Rank 0's bookkeeping of the hand-out, and the words chunks travel as.

use std::ops::Range;

use std::collections::VecDeque;

use crate::stats::ChunkStats;

/// Chunks in a batch, at most. A batch costs one question and one answer; 64 chunks of
/// pi at the default size are about 10 ms of work, and rank 0 answers each question in
/// microseconds.
pub(super) const MAX_BATCH: u64 = 64;

/// A batch takes `1 / (GUIDE * ranks)` of the chunks not yet handed out (guided
/// self-scheduling), so that the last batches are small and the ranks finish together.
const GUIDE: u64 = 4;

/// Rank 0's bookkeeping.
pub(super) struct Hub {
    /// Ranks in the run.
    ranks: usize,
    /// Chunks of the run.
    total: u64,
    /// First position not handed out.
    next: u64,
    /// Chunks reported to the engine, in the order they were reported.
    pub reported: u64,
    /// Whether the engine has stopped or every chunk is reported.
    pub ended: bool,
    /// The [`encode`]d records of the chunks reported from the `log_start`-th on, in
    /// the order they were reported, kept until every rank has been sent them, and
    /// where each record starts in `log`.
    log: Vec<u64>,
    offsets: VecDeque<usize>,
    log_start: u64,
    /// Rank `r` has been sent the first `sent[r]` logged records.
    sent: Vec<u64>,
    /// Ranks whose question waits for the end.
    pub parked: Vec<bool>,
    /// Ranks that have been told the end (rank 0 counts as told).
    pub gone: Vec<bool>,
}

impl Hub {
    pub fn new(ranks: usize, total: u64) -> Self {
        let mut gone = vec![false; ranks];
        gone[0] = true;
        Hub {
            ranks,
            total,
            next: 0,
            reported: 0,
            ended: false,
            log: Vec::new(),
            offsets: VecDeque::new(),
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

    /// Logs a reported record of `chunks` chunks, whole, for the other ranks.
    pub fn log(&mut self, record: &[u64], chunks: u64) {
        self.offsets.push_back(self.log.len());
        self.log.extend_from_slice(record);
        self.reported += chunks;
    }

    /// What rank `to` is answered: `batch` and the chunks reported since its last
    /// answer, as many whole records as fit in [`ANSWER_WORDS`] (at least one), with
    /// the kind of answer: after the end, the answer that brings it up to date is the
    /// end; until then it asks again.
    pub fn answer(&mut self, to: usize, batch: Range<u64>) -> (u64, Range<u64>, &[u64]) {
        let first = (self.sent[to] - self.log_start) as usize;
        let start_of = |k: usize| self.offsets.get(k).copied().unwrap_or(self.log.len());
        let from = start_of(first);
        let mut count = 0;
        while first + count < self.offsets.len() {
            let end = start_of(first + count + 1);
            if count > 0 && end - from > ANSWER_WORDS {
                break;
            }
            count += 1;
        }
        let to_end = start_of(first + count);
        self.sent[to] += count as u64;
        let caught_up = to_end == self.log.len();
        let kind = match (self.ended, caught_up) {
            (false, _) => super::ANSWER_GO,
            (true, true) => super::ANSWER_END,
            (true, false) => super::ANSWER_DRAIN,
        };
        self.gone[to] = kind == super::ANSWER_END;
        (kind, batch, &self.log[from..to_end])
    }

    /// Forgets the reported chunks that every rank still running has been sent.
    pub fn trim(&mut self) {
        let oldest = (1..self.ranks)
            .filter(|&r| !self.gone[r])
            .map(|r| self.sent[r])
            .min()
            .unwrap_or(self.log_start + self.offsets.len() as u64);
        let drop = (oldest - self.log_start) as usize;
        if drop >= 1024 {
            let cut = self.offsets.get(drop).copied().unwrap_or(self.log.len());
            self.log.drain(..cut);
            self.offsets.drain(..drop);
            for o in &mut self.offsets {
                *o -= cut;
            }
            self.log_start = oldest;
        }
    }
}

/// Words of an answer's reported chunks, about (128 KiB), beyond which it stops
/// adding records; a single record larger than this travels alone.
pub(super) const ANSWER_WORDS: usize = 1 << 14;

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

/// Words before a record's statistics: its first chunk's index, its chunk count and
/// the length of its statistics' words.
const HEADER: usize = 3;

/// Appends a record of `chunks` consecutive chunks from chunk `index` on (their
/// statistics absorbed into one, [`ChunkStats::absorb`]): the header, then the words
/// ([`ChunkStats::to_words`]): bits, not values, so the exchange is exact. One record
/// a batch rather than one a chunk keeps what every rank replays small.
pub(super) fn encode(words: &mut Vec<u64>, index: u64, chunks: u64, stats: &ChunkStats) {
    let at = words.len();
    words.extend([index, chunks, 0]);
    stats.to_words(words);
    words[at + 2] = (words.len() - at - HEADER) as u64;
}

/// The records [`encode`]d into `words`: each one's first chunk, its chunk count and
/// where the whole record is; `None` if the words are not whole records.
pub(super) fn records(words: &[u64]) -> Option<Vec<(u64, u64, Range<usize>)>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < words.len() {
        let head = words.get(at..at + HEADER)?;
        let len = usize::try_from(head[2]).ok()?;
        let end = (at + HEADER)
            .checked_add(len)
            .filter(|&e| e <= words.len())?;
        out.push((head[0], head[1], at..end));
        at = end;
    }
    Some(out)
}

/// The statistics of a whole record (as [`records`] delimits it).
pub(super) fn decode(record: &[u64]) -> Result<ChunkStats, String> {
    ChunkStats::from_words(&record[HEADER..])
}

/// Words of one chunk's record at most, for a plan's chunks of `dim` columns: every
/// part of its exact sums at their widest (a sum of doubles spans at most 2,200 bits,
/// 35 limbs and a header word), a part per block at most, and a digest per block.
pub(super) fn max_record_words(dim: usize, chunk_blocks: u64) -> usize {
    let sums = dim + dim * (dim + 1) / 2;
    let blocks = chunk_blocks as usize;
    HEADER + 3 + blocks * (2 + 2 + sums * 36) + 1 + blocks
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
        let mut sums = crate::stats::ExactSums::new(2);
        sums.add_block(7, &[1e-310, -0.0], &[3.5, -1.0], &[1.0, 2.0, 1e300]);
        let stats = ChunkStats {
            blocks: 3..5,
            parts: vec![(4, sums.clone()), (8, sums)],
            digests: vec![1, u64::MAX],
        };
        let mut words = Vec::new();
        encode(&mut words, 42, 1, &stats);
        encode(&mut words, 7, 5, &stats);
        let found = records(&words).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!((found[0].0, found[0].1), (42, 1));
        assert_eq!((found[1].0, found[1].1), (7, 5));
        let back = decode(&words[found[1].2.clone()]).unwrap();
        assert_eq!(back, stats);
        assert_eq!(back.parts[0].1.to_words(), stats.parts[0].1.to_words());
        assert!(records(&words[..words.len() - 1]).is_none());
        assert!(records(&words[1..]).is_none());
    }

    #[test]
    fn answers_carry_whole_records_and_at_least_one() {
        let mut hub = Hub::new(2, 10);
        for k in 0..3u64 {
            let len = [4, ANSWER_WORDS, 5][k as usize];
            let mut record = vec![k, 1, (len - HEADER) as u64];
            record.resize(len, 0);
            hub.log(&record, 1);
        }
        // The first two exceed ANSWER_WORDS together: one record.
        let (_, _, words) = hub.answer(1, 0..0);
        assert_eq!(words.len(), 4);
        // A record larger than ANSWER_WORDS travels alone.
        let (_, _, words) = hub.answer(1, 0..0);
        assert_eq!(words.len(), ANSWER_WORDS);
        let (_, _, words) = hub.answer(1, 0..0);
        assert_eq!(words.len(), 5);
        let (_, _, words) = hub.answer(1, 0..0);
        assert!(words.is_empty());
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
