//! The one encoding of chunk statistics.
//!
//! Every place that sends or keeps [`Moments`] uses it: the worker protocol, MPI
//! messages, checkpoints (and their trace), shard partials, and the chunk digests that
//! `carlo verify` compares. A new statistic is therefore one change: to [`Moments`]
//! (its field, its merge) and to the two functions here.
//!
//! # The words
//! `[count, mean_0 .. mean_{d-1}, comoment_0 .. comoment_{d*d-1}]`, floats as their
//! IEEE-754 bit patterns (`f64::to_bits`), so every value travels with exactly the bits
//! it left with. The number of columns `d` follows from the length (`1 + d + d^2`
//! words), so an encoding needs no header. In text (JSON files and protocol lines) the
//! words are one string of 16 lowercase hex digits each.
//!
//! Decoding checks the shape only; what a reader knows beyond it (the model's column
//! count, whether statistics read from a file are plausible) it checks with
//! [`Moments::check`].

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Moments;

/// Appends the words of `m` to `out`.
pub(crate) fn to_words(m: &Moments, out: &mut Vec<u64>) {
    out.push(m.count);
    out.extend(m.mean.iter().chain(&m.comoment).map(|x| x.to_bits()));
}

/// Words of statistics of `dim` columns.
pub(crate) fn words_len(dim: usize) -> usize {
    1 + dim + dim * dim
}

/// The statistics whose words are exactly `words`; `None` when the length is not
/// `1 + d + d^2` for any `d`.
pub(crate) fn from_words(words: &[u64]) -> Option<Moments> {
    let dim = dim_of(words.len())?;
    let floats = |w: &[u64]| w.iter().map(|&b| f64::from_bits(b)).collect();
    Some(Moments {
        count: words[0],
        mean: floats(&words[1..1 + dim]),
        comoment: floats(&words[1 + dim..]),
    })
}

/// The `d >= 1` with `1 + d + d^2 == len`, if there is one (statistics have at least
/// one column).
fn dim_of(len: usize) -> Option<usize> {
    // d^2 < len, so the square root bounds d; check the neighbours for rounding.
    let guess = (len as f64).sqrt() as usize;
    (guess.saturating_sub(1)..=guess + 1).find(|&d| d > 0 && words_len(d) == len)
}

/// The words of `m` as text: 16 lowercase hex digits a word.
pub(crate) fn to_hex(m: &Moments) -> String {
    let mut words = Vec::with_capacity(words_len(m.dim()));
    to_words(m, &mut words);
    words.iter().map(|w| format!("{w:016x}")).collect()
}

/// Reads what [`to_hex`] wrote.
pub(crate) fn from_hex(text: &str) -> Result<Moments, String> {
    if !text.len().is_multiple_of(16) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("statistics that are not whole hex words".into());
    }
    let words: Vec<u64> = (0..text.len() / 16)
        .map(|k| u64::from_str_radix(&text[16 * k..16 * k + 16], 16).expect("hex digits"))
        .collect();
    from_words(&words).ok_or_else(|| {
        format!(
            "{} words of statistics, which is no number of columns",
            words.len()
        )
    })
}

impl Serialize for Moments {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&to_hex(self))
    }
}

impl<'de> Deserialize<'de> for Moments {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        from_hex(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(dim: usize) -> Moments {
        let rows: Vec<Vec<f64>> = (0..5)
            .map(|i| (0..dim).map(|j| (i * 7 + j) as f64 / 3.0).collect())
            .collect();
        Moments::from_rows(dim, &rows)
    }

    #[test]
    fn words_and_text_round_trip_every_bit() {
        for dim in [1, 2, 3, 7, 32] {
            let mut m = sample(dim);
            m.mean[0] = f64::NAN;
            m.comoment[dim * dim - 1] = -0.0;
            let mut words = Vec::new();
            to_words(&m, &mut words);
            assert_eq!(words.len(), words_len(dim));
            let back = from_words(&words).unwrap();
            let again = from_hex(&to_hex(&m)).unwrap();
            for other in [back, again] {
                let mut w = Vec::new();
                to_words(&other, &mut w);
                assert_eq!(w, words, "dim {dim}");
            }
        }
    }

    #[test]
    fn lengths_that_are_no_shape_are_refused() {
        for len in [0, 1, 2, 4, 5, 6, 8, 12, 14] {
            // 1 word would be 0 columns, which no model has.
            assert!(from_words(&vec![0; len]).is_none(), "{len} words");
        }
        assert!(from_words(&[0; 3]).is_some()); // 1 column
        assert!(from_words(&[0; 7]).is_some()); // 2 columns
        assert!(from_hex("abc").is_err());
        assert!(from_hex(&"z".repeat(48)).is_err());
        assert!(from_hex(&"0".repeat(16 * 4)).is_err());
    }

    #[test]
    fn the_digest_is_that_of_the_words() {
        // The digest hashes the words' little-endian bytes, so digests kept by an
        // earlier carlo stay comparable.
        use sha2::{Digest, Sha256};
        let m = sample(2);
        let mut words = Vec::new();
        to_words(&m, &mut words);
        let mut hasher = Sha256::new();
        for w in &words {
            hasher.update(w.to_le_bytes());
        }
        let hash = hasher.finalize();
        assert_eq!(
            m.digest(),
            u64::from_le_bytes(hash[..8].try_into().unwrap())
        );
    }
}
