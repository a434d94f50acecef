//! The one encoding of chunk statistics.
//!
//! Every place that sends or keeps [`Moments`] uses it: the worker protocol, MPI
//! messages, checkpoints (and their trace), shard partials, and the group digests that
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
//!
//! # Exact sums
//! [`ExactSums`] (the 0.3.0 block statistics) have words of their own:
//! `[count, dim]`, then per sum (`S_0 .. S_{d-1}`, then `S_ij`, `i <= j`, row-major) a
//! header word, low 32 bits the weight `lo` of its lowest limb (`2^(64 lo)`, as a
//! signed integer), high 32 bits its number of limbs, and those limbs: a
//! two's-complement integer, least significant limb first. Each sum is in its
//! canonical form (no zero lowest limb, no top limb that merely extends the sign of the
//! one below, zero as no limbs with `lo == 0`), so a state has exactly one encoding
//! and its digest depends on its values alone. Decoding refuses anything else, with a
//! message and never a panic: a wrong length, a window outside the range blocks of
//! finite doubles can reach, a non-canonical sum, nonzero sums with a zero count.
//! There are no floats in these words, so no NaN or infinity can be read back. In
//! text, the same 16 hex digits a word.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::exact::{END_LIMB, MIN_LIMB};
use super::{ExactSums, Moments};

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
    hex_of(&words)
}

fn hex_of(words: &[u64]) -> String {
    words.iter().map(|w| format!("{w:016x}")).collect()
}

/// The words of a text of whole hex words.
fn words_of(text: &str) -> Result<Vec<u64>, String> {
    if !text.len().is_multiple_of(16) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("statistics that are not whole hex words".into());
    }
    Ok((0..text.len() / 16)
        .map(|k| u64::from_str_radix(&text[16 * k..16 * k + 16], 16).expect("hex digits"))
        .collect())
}

/// Reads what [`to_hex`] wrote.
pub(crate) fn from_hex(text: &str) -> Result<Moments, String> {
    let words = words_of(text)?;
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

/// Appends the canonical words of `e` to `out`.
pub(crate) fn exact_to_words(e: &ExactSums, out: &mut Vec<u64>) {
    out.push(e.count());
    out.push(e.dim() as u64);
    for k in 0..e.sums_len() {
        let (lo, limbs) = e.canonical(k);
        out.push(u64::from(lo as u32) | (limbs.len() as u64) << 32);
        out.extend_from_slice(limbs);
    }
}

/// The state whose canonical words are exactly `words`, or why there is none.
pub(crate) fn exact_from_words(words: &[u64]) -> Result<ExactSums, String> {
    let [count, dim, rest @ ..] = words else {
        return Err(format!(
            "{} words of exact statistics, fewer than 2",
            words.len()
        ));
    };
    // Every sum takes at least its header word, so no honest dim has more sums than
    // there are words (in u128: a dim read from a file may be anything).
    let (d, len) = (u128::from(*dim), rest.len() as u128);
    if d == 0 || d + d * (d + 1) / 2 > len {
        return Err(format!(
            "exact statistics of {dim} columns in {} words",
            words.len()
        ));
    }
    let dim = *dim as usize;
    let sums = dim + ExactSums::cross_len(dim);
    let mut windows = Vec::with_capacity(sums);
    let mut at = 0;
    for k in 0..sums {
        let Some(&header) = rest.get(at) else {
            return Err(format!("exact statistics cut short at sum {k} of {sums}"));
        };
        let (lo, len) = (header as u32 as i32, (header >> 32) as usize);
        let limbs = rest
            .get(at + 1..)
            .and_then(|r| r.get(..len))
            .ok_or_else(|| format!("exact statistics cut short in sum {k} of {sums}"))?;
        check_window(lo, limbs).map_err(|why| format!("exact sum {k}: {why}"))?;
        if *count == 0 && !limbs.is_empty() {
            return Err("exact statistics of no samples whose sums are not zero".into());
        }
        windows.push((lo, limbs));
        at += 1 + len;
    }
    if at != rest.len() {
        return Err(format!(
            "{} words after the last exact sum",
            rest.len() - at
        ));
    }
    Ok(ExactSums::from_parts(dim, *count, windows))
}

/// Why a sum's window is not the canonical form of a value blocks can reach, if not.
fn check_window(lo: i32, limbs: &[u64]) -> Result<(), String> {
    let sign = |limb: u64| ((limb as i64) >> 63) as u64;
    match limbs {
        [] if lo != 0 => Err(format!("zero at weight 2^(64*{lo})")),
        [] => Ok(()),
        [0, ..] => Err("a zero lowest limb".into()),
        [.., below, top] if *top == sign(*below) => Err("a redundant top limb".into()),
        _ if lo < MIN_LIMB || i64::from(lo) + limbs.len() as i64 > i64::from(END_LIMB) => {
            Err(format!(
                "limbs {lo}..{} outside {MIN_LIMB}..{END_LIMB}",
                i64::from(lo) + limbs.len() as i64
            ))
        }
        _ => Ok(()),
    }
}

/// The words of `e` as text: 16 lowercase hex digits a word.
pub(crate) fn exact_to_hex(e: &ExactSums) -> String {
    let mut words = Vec::new();
    exact_to_words(e, &mut words);
    hex_of(&words)
}

/// Reads what [`exact_to_hex`] wrote.
pub(crate) fn exact_from_hex(text: &str) -> Result<ExactSums, String> {
    exact_from_words(&words_of(text)?)
}

impl Serialize for ExactSums {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&exact_to_hex(self))
    }
}

impl<'de> Deserialize<'de> for ExactSums {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        exact_from_hex(&text).map_err(serde::de::Error::custom)
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

    fn exact_sample(dim: usize) -> ExactSums {
        let mut e = ExactSums::new(dim);
        for i in 0..7 {
            let row: Vec<f64> = (0..dim)
                .map(|j| (i * 7 + j) as f64 / 3.0 - 2.0 + 1e-300 * j as f64)
                .collect();
            e.add_sample(&row);
        }
        e
    }

    #[test]
    fn exact_sums_round_trip_through_words_text_and_serde() {
        for dim in [1, 2, 3, 7] {
            let e = exact_sample(dim);
            let words = e.to_words();
            assert_eq!(words[..2], [7, dim as u64]);
            assert_eq!(ExactSums::from_words(&words).unwrap(), e);
            assert_eq!(ExactSums::from_hex(&e.to_hex()).unwrap().to_words(), words);
            let json = serde_json::to_string(&e).unwrap();
            let back: ExactSums = serde_json::from_str(&json).unwrap();
            assert_eq!(back.to_words(), words);
            assert_eq!(back.digest(), e.digest());
        }
        // a state with nothing in it: every sum is one header of zero
        assert_eq!(ExactSums::new(2).to_words(), vec![0, 2, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn malformed_exact_words_are_refused_with_a_reason() {
        let good = exact_sample(1).to_words();
        let header = |lo: i32, len: u64| u64::from(lo as u32) | len << 32;
        let with = |k: usize, w: u64| {
            let mut v = good.clone();
            v[k] = w;
            v
        };
        let cases: Vec<(Vec<u64>, &str)> = vec![
            (vec![], "fewer than 2"),
            (vec![1, 0], "0 columns"),
            (vec![1, 1 << 40, 0], "columns"),
            (vec![1, u64::MAX, 0, 0], "columns"),
            (good[..good.len() - 1].to_vec(), "cut short"),
            ([good.clone(), vec![0]].concat(), "after the last"),
            (vec![0, 1, 0, header(0, 1), 5], "no samples"),
            (vec![1, 1, header(3, 0), 0], "zero at weight"),
            (vec![1, 1, header(0, 1), 0, 0], "zero lowest limb"),
            (vec![1, 1, header(0, 2), 5, 0, 0], "redundant top"),
            (
                vec![1, 1, header(0, 2), 1 << 63, u64::MAX, 0],
                "redundant top",
            ),
            (vec![1, 1, header(-35, 1), 1, 0], "outside"),
            (vec![1, 1, header(33, 2), 1, 1, 0], "outside"),
            (vec![1, 1, header(0, u32::MAX as u64), 1, 0], "cut short"),
            (with(2, header(0, 1000)), "cut short"),
        ];
        for (words, why) in cases {
            let err = ExactSums::from_words(&words).unwrap_err();
            assert!(err.contains(why), "{words:x?}: {err}");
        }
        assert!(ExactSums::from_hex("00").is_err());
        assert!(ExactSums::from_hex(&"g".repeat(32)).is_err());
        // a sign limb that is not redundant is kept: 2^63 needs a zero limb above
        let e = ExactSums::from_words(&[1, 1, header(0, 2), 1 << 63, 0, 0]).unwrap();
        assert_eq!(e.to_words(), vec![1, 1, header(0, 2), 1 << 63, 0, 0]);
    }

    proptest::proptest! {
        /// Words from a file or another process are never trusted: random words, and
        /// valid encodings with a word changed, are refused or read as the one state
        /// they are the canonical encoding of; nothing panics.
        #[test]
        fn exact_decoding_never_panics(
            random in proptest::collection::vec(proptest::prelude::any::<u64>(), 0..40),
            small in proptest::collection::vec(0u64..4, 0..40),
            dim in 1usize..4,
            at in proptest::prelude::any::<proptest::sample::Index>(),
            word in proptest::prelude::any::<u64>(),
        ) {
            for words in [random, small] {
                if let Ok(e) = ExactSums::from_words(&words) {
                    proptest::prop_assert_eq!(e.to_words(), words);
                    let _ = e.check(e.dim(), true);
                    let _ = e.moments();
                }
            }
            let mut words = exact_sample(dim).to_words();
            let k = at.index(words.len());
            words[k] = word;
            if let Ok(e) = ExactSums::from_words(&words) {
                proptest::prop_assert_eq!(e.to_words(), words);
                let _ = e.check(dim, true);
                let mut sum = e.clone();
                sum.merge(&exact_sample(e.dim()));
                let _ = sum.moments();
            }
        }
    }

    #[test]
    fn the_exact_digest_is_that_of_the_words() {
        use sha2::{Digest, Sha256};
        let e = exact_sample(3);
        let mut hasher = Sha256::new();
        for w in e.to_words() {
            hasher.update(w.to_le_bytes());
        }
        let hash = hasher.finalize();
        assert_eq!(
            e.digest(),
            u64::from_le_bytes(hash[..8].try_into().unwrap())
        );
    }
}
