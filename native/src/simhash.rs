//! SimHash fingerprints for near-duplicate detection.
//!
//! Words are the runs of bytes between ASCII whitespace, with ASCII letters lower-cased. The
//! features are the word 3-shingles (words joined by one space), or a single feature made of
//! all the words when there are fewer than three; a text without words hashes to 0. Each
//! feature is hashed with 64-bit FNV-1a over its UTF-8 bytes; bit `i` of the fingerprint is set
//! when more features have bit `i` set than clear. Near-duplicates differ in few bits.

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// 64-bit FNV-1a of the words joined by single spaces, lower-casing ASCII letters.
fn hash_words(words: &[&[u8]]) -> u64 {
    let mut h = FNV_OFFSET;
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            h = (h ^ u64::from(b' ')).wrapping_mul(FNV_PRIME);
        }
        for &byte in *word {
            h = (h ^ u64::from(byte.to_ascii_lowercase())).wrapping_mul(FNV_PRIME);
        }
    }
    h
}

/// The SimHash fingerprint of `text`.
///
/// ```
/// use headroom_native::simhash;
/// assert_eq!(simhash(""), 0);
/// assert_eq!(simhash("The cat  sat on the mat"), simhash("the cat sat on THE mat"));
/// assert_ne!(simhash("the cat sat on the mat"), simhash("a dog ran in the park"));
/// ```
#[must_use]
pub fn simhash(text: &str) -> u64 {
    let words: Vec<&[u8]> = text
        .as_bytes()
        .split(|&b| is_space(b))
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return 0;
    }
    let mut counts = [0i64; 64];
    let mut add = |h: u64| {
        for (bit, count) in counts.iter_mut().enumerate() {
            *count += if (h >> bit) & 1 == 1 { 1 } else { -1 };
        }
    };
    if words.len() < 3 {
        add(hash_words(&words));
    } else {
        for window in words.windows(3) {
            add(hash_words(window));
        }
    }
    counts
        .iter()
        .enumerate()
        .filter(|(_, &count)| count > 0)
        .fold(0u64, |acc, (bit, _)| acc | (1u64 << bit))
}

/// [`simhash`] of each text.
#[must_use]
pub fn simhashes<S: AsRef<str>>(texts: &[S]) -> Vec<u64> {
    texts.iter().map(|t| simhash(t.as_ref())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_of_one_word_is_plain_fnv1a() {
        assert_eq!(hash_words(&[b"a"]), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn near_duplicates_are_close() {
        let a = "The quick brown fox jumps over the lazy dog near the old river bank today";
        let b = "The quick brown fox jumps over the lazy dog near the old river bank now";
        let c = "Completely different text about databases and indexes and query planners";
        assert!((simhash(a) ^ simhash(b)).count_ones() < (simhash(a) ^ simhash(c)).count_ones());
        assert_eq!(simhashes(&[a, b]), [simhash(a), simhash(b)]);
    }
}
