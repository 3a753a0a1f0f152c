//! Word tokens of text for BM25, and how often each query term occurs in each document.
//!
//! The rules are those of `headroom/_reference.py` (`word_tokens`, `term_counts`), for ASCII
//! text only: a **word** is a maximal run of ASCII letters and digits (Python's `[^\W_]+`
//! restricted to ASCII). A word yields its lower-cased self, and, when it mixes case or
//! letters and digits (`getUserById`, `http2`), also its lower-cased parts as the pattern
//! `[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+` cuts them (`get`, `user`, `by`, `id`).
//! A word that is all digits, all lower-case, or capitalised (`Title`) is one token.
//!
//! Python's definitions of letters, digits and case mappings differ from Rust's outside
//! ASCII (and between Unicode versions), so a document holding any non-ASCII byte is not
//! counted here: its entry is `None` and the caller counts it with the reference.

use crate::hash::FxHashMap;

/// For one document: its length in tokens, and `(term index, occurrences)` for each term
/// that occurs, in term order.
pub type DocTerms = (usize, Vec<(usize, usize)>);

/// For each document, its [`DocTerms`] for `terms`, or `None` if it is not ASCII.
///
/// ```
/// let counts = headroom_native::term_counts(&["getUserById failed", "é"], &["user", "failed"]);
/// assert_eq!(counts[0], Some((6, vec![(0, 1), (1, 1)])));
/// assert_eq!(counts[1], None);
/// ```
#[must_use]
pub fn term_counts<D: AsRef<str>, T: AsRef<str>>(
    documents: &[D],
    terms: &[T],
) -> Vec<Option<DocTerms>> {
    let mut index: FxHashMap<&[u8], usize> = FxHashMap::default();
    for (i, term) in terms.iter().enumerate() {
        index.entry(term.as_ref().as_bytes()).or_insert(i);
    }
    let mut counts = vec![0usize; terms.len()];
    let mut lower: Vec<u8> = Vec::new();
    documents
        .iter()
        .map(|document| {
            let mut length = 0usize;
            let ascii = for_each_text_token(document.as_ref(), &mut lower, |token| {
                length += 1;
                if let Some(&i) = index.get(token) {
                    counts[i] += 1;
                }
            });
            if !ascii {
                return None;
            }
            let found = counts
                .iter_mut()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(i, n)| (i, std::mem::take(n)))
                .collect();
            Some((length, found))
        })
        .collect()
}

/// The word tokens of each text, in order, or `None` for a text that is not ASCII.
///
/// ```
/// let lists = headroom_native::token_lists(&["getUserById failed", "é"]);
/// assert_eq!(lists[0].as_deref(), Some(&["getuserbyid", "get", "user", "by", "id", "failed"].map(String::from)[..]));
/// assert_eq!(lists[1], None);
/// ```
#[must_use]
pub fn token_lists<D: AsRef<str>>(texts: &[D]) -> Vec<Option<Vec<String>>> {
    let mut lower: Vec<u8> = Vec::new();
    texts
        .iter()
        .map(|text| {
            let mut tokens = Vec::new();
            let ascii = for_each_text_token(text.as_ref(), &mut lower, |token| {
                // ASCII in, ASCII out: every byte is a char.
                tokens.push(token.iter().map(|&b| char::from(b)).collect());
            });
            ascii.then_some(tokens)
        })
        .collect()
}

/// Calls `emit` with each lower-cased token of each word of `text`, and returns `true`; or
/// returns `false` at once, emitting nothing, when `text` is not ASCII.
fn for_each_text_token(text: &str, buffer: &mut Vec<u8>, mut emit: impl FnMut(&[u8])) -> bool {
    let bytes = text.as_bytes();
    if !bytes.is_ascii() {
        return false;
    }
    for word in bytes
        .split(|b| !b.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        for_each_token(word, buffer, &mut emit);
    }
    true
}

/// Calls `emit` with each lower-cased token of the ASCII `word` (letters and digits only).
fn for_each_token(word: &[u8], buffer: &mut Vec<u8>, mut emit: impl FnMut(&[u8])) {
    buffer.clear();
    buffer.extend(word.iter().map(u8::to_ascii_lowercase));
    emit(buffer);
    if is_single_token(word) {
        return;
    }
    let parts = camel_parts(word);
    if parts.len() > 1 {
        for (start, end) in parts {
            emit(&buffer[start..end]);
        }
    }
}

/// `word.isdigit() or (word.isalpha() and (word.islower() or word[1:].islower()))`.
fn is_single_token(word: &[u8]) -> bool {
    if word.iter().all(u8::is_ascii_digit) {
        return true;
    }
    if !word.iter().all(u8::is_ascii_alphabetic) {
        return false;
    }
    let no_upper = |w: &[u8]| !w.iter().any(u8::is_ascii_uppercase);
    no_upper(word) || (word.len() > 1 && no_upper(&word[1..]))
}

/// The spans `[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+` finds in `word`, in order.
fn camel_parts(word: &[u8]) -> Vec<(usize, usize)> {
    let run = |from: usize, class: fn(&u8) -> bool| {
        from + word[from..].iter().take_while(|b| class(b)).count()
    };
    let lower_at = |i: usize| word.get(i).is_some_and(u8::is_ascii_lowercase);
    let mut parts = Vec::new();
    let mut i = 0;
    while i < word.len() {
        let c = word[i];
        let end = if c.is_ascii_uppercase() {
            let upper_end = run(i, u8::is_ascii_uppercase);
            if upper_end - i >= 2 && lower_at(upper_end) {
                upper_end - 1 // the last capital starts the next part
            } else if lower_at(i + 1) {
                run(i + 1, u8::is_ascii_lowercase)
            } else {
                upper_end
            }
        } else if c.is_ascii_lowercase() {
            run(i, u8::is_ascii_lowercase)
        } else {
            run(i, u8::is_ascii_digit)
        };
        parts.push((i, end));
        i = end;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(word: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut buffer = Vec::new();
        for_each_token(word.as_bytes(), &mut buffer, |t| {
            out.push(String::from_utf8(t.to_vec()).unwrap());
        });
        out
    }

    #[test]
    fn words_split_like_the_reference() {
        assert_eq!(
            tokens("getUserById"),
            ["getuserbyid", "get", "user", "by", "id"]
        );
        assert_eq!(tokens("HTTPServer"), ["httpserver", "http", "server"]);
        assert_eq!(tokens("http2"), ["http2", "http", "2"]);
        assert_eq!(tokens("Title"), ["title"]);
        assert_eq!(tokens("ABC"), ["abc"]);
        assert_eq!(tokens("A"), ["a"]);
        assert_eq!(tokens("42"), ["42"]);
        assert_eq!(tokens("aB"), ["ab", "a", "b"]);
        assert_eq!(tokens("ABc2D"), ["abc2d", "a", "bc", "2", "d"]);
    }

    #[test]
    fn counts_terms_and_lengths() {
        let counts = term_counts(&["a_b a", "", "x-y"], &["a", "z"]);
        assert_eq!(
            counts,
            [
                Some((3, vec![(0, 2)])),
                Some((0, vec![])),
                Some((2, vec![]))
            ]
        );
    }

    #[test]
    fn repeated_terms_take_the_first_index() {
        let counts = term_counts(&["a"], &["a", "a"]);
        assert_eq!(counts, [Some((1, vec![(0, 1)]))]);
    }
}
