//! What one chunk of a run reports: its blocks' statistics, merged exactly per
//! decision interval, and each block's digest.
//!
//! A run takes decisions (a trace point, a target check, the end) after fixed block
//! counts, on the statistics of exactly the blocks before them. A chunk may span a
//! decision point, so it reports one [`ExactSums`] per decision interval it touches
//! (named by the interval's end), and the engine adds each to its interval's: merging
//! is exact, so neither the chunk size nor the order chunks finish in changes a bit.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::ExactSums;

/// A chunk's statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkStats {
    /// The chunk's blocks.
    pub blocks: Range<u64>,
    /// `(end, sums)`: the exact statistics of the chunk's blocks in the decision
    /// interval that ends before block `end`, ascending by `end`.
    pub parts: Vec<(u64, ExactSums)>,
    /// Each block's digest ([`super::BlockStats::digest`]), in block order.
    pub digests: Vec<u64>,
}

impl ChunkStats {
    /// Nothing yet for the chunk of `blocks`.
    pub fn new(blocks: Range<u64>) -> Self {
        ChunkStats {
            blocks,
            parts: Vec::new(),
            digests: Vec::new(),
        }
    }

    /// Appends the statistics of the chunk that follows this one (its blocks start
    /// where these end): one record for both, parts of the same decision interval
    /// merged exactly.
    ///
    /// # Panics
    /// When `next` does not start where this chunk ends.
    pub fn absorb(&mut self, next: ChunkStats) {
        assert_eq!(
            self.blocks.end, next.blocks.start,
            "chunks that do not follow"
        );
        self.blocks.end = next.blocks.end;
        for (end, sums) in next.parts {
            match self.parts.last_mut() {
                Some((last, s)) if *last == end => s.merge(&sums),
                _ => self.parts.push((end, sums)),
            }
        }
        self.digests.extend(next.digests);
    }

    /// Samples in every part.
    pub fn count(&self) -> u64 {
        self.parts.iter().map(|(_, s)| s.count()).sum()
    }

    /// All the chunk's statistics in one.
    pub fn total(&self, dim: usize) -> ExactSums {
        let mut all = ExactSums::new(dim);
        for (_, s) in &self.parts {
            all.merge(s);
        }
        all
    }

    /// The statistics as words: the block range, the number of parts, each part's
    /// end, its word count and its words ([`ExactSums::to_words`]), then the number of
    /// digests and the digests. For binary channels (MPI messages).
    pub fn to_words(&self, out: &mut Vec<u64>) {
        out.extend([self.blocks.start, self.blocks.end, self.parts.len() as u64]);
        for (end, sums) in &self.parts {
            let words = sums.to_words();
            out.extend([*end, words.len() as u64]);
            out.extend(words);
        }
        out.push(self.digests.len() as u64);
        out.extend(&self.digests);
    }

    /// Reads what [`to_words`](Self::to_words) wrote, exactly the whole of `words`.
    pub fn from_words(words: &[u64]) -> Result<Self, String> {
        let mut at = 0usize;
        let mut take = |n: usize| -> Result<&[u64], String> {
            let end = at
                .checked_add(n)
                .ok_or_else(|| "chunk statistics cut short".to_string())?;
            let got = words
                .get(at..end)
                .ok_or_else(|| "chunk statistics cut short".to_string())?;
            at = end;
            Ok(got)
        };
        let head = take(3)?;
        let (start, end, parts) = (head[0], head[1], head[2]);
        let mut out = ChunkStats::new(start..end);
        for _ in 0..parts {
            let p = take(2)?;
            let (part_end, len) = (p[0], usize::try_from(p[1]).map_err(|e| e.to_string())?);
            out.parts
                .push((part_end, ExactSums::from_words(take(len)?)?));
        }
        let n = usize::try_from(take(1)?[0]).map_err(|e| e.to_string())?;
        out.digests = take(n)?.to_vec();
        if at != words.len() {
            return Err("chunk statistics followed by more words".into());
        }
        Ok(out)
    }

    /// Checks statistics received or read back: `dim` columns, a digest per block,
    /// parts ascending within the chunk, plausible sums where `plausible`.
    pub fn check(&self, dim: usize, plausible: bool) -> Result<(), String> {
        let blocks = self.blocks.end.saturating_sub(self.blocks.start);
        if self.blocks.start >= self.blocks.end {
            return Err(format!("a chunk of no block ({:?})", self.blocks));
        }
        if self.digests.len() as u64 != blocks {
            return Err(format!(
                "{} block digests for the {blocks} blocks {:?}",
                self.digests.len(),
                self.blocks
            ));
        }
        let mut last = self.blocks.start;
        for (end, sums) in &self.parts {
            if *end <= last {
                return Err(format!("its parts end at {end} after {last}"));
            }
            last = *end;
            sums.check(dim, plausible)?;
        }
        if last < self.blocks.end {
            return Err(format!(
                "its last part ends at block {last}, before the chunk's end {}",
                self.blocks.end
            ));
        }
        Ok(())
    }
}
