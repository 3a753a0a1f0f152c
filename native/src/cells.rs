//! Table cells of string values, the JSON table encoder's per-cell hot loop.
//!
//! The rules are those of the Python reference (`headroom/_reference.py`, `string_cells`),
//! which are those of `headroom/jsontables/syntax.py`. A string is written **bare** (as it
//! is) when reading it back cannot mistake it for anything else:
//!
//! * it is not empty, and its first character is none of the ASCII control characters
//!   `U+0000..=U+001F`, space, `|`, `"`, `\`, `@`, `&`, `[`, `{` or `U+007F`;
//! * no later character is a control character `U+0000..=U+001F`, `|`, `"`, `\` or `U+007F`
//!   (spaces inside are fine), and the last character is not a space;
//! * it is not one of `null`, `true`, `false` (keywords) or `^` (the ditto mark);
//! * if it starts with `-` or an ASCII digit, it is not a whole JSON number
//!   (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`), so `007`, `1.` and `-` stay bare.
//!
//! Any other string is written as a JSON string literal exactly as Python's
//! `json.encoder.encode_basestring` writes it (`ensure_ascii=False`): in double quotes, with
//! `"` and `\` escaped by a backslash, `\b \f \n \r \t` for those five control characters,
//! `\u00XX` (lower-case hex) for the other characters below `U+0020`, and every other
//! character, `U+007F`, `U+2028` and non-ASCII text included, copied verbatim.
//!
//! Every character the rules single out is ASCII, and in UTF-8 no byte of a multi-byte
//! character is ASCII, so both checks are single passes over bytes, eight at a time: strings
//! are mostly long runs of ordinary characters.

use std::borrow::Cow;

/// The cell of each string, in order: borrowed when the string is written bare.
///
/// ```
/// let cells = headroom_native::string_cells(&["main", "007", "1e5", "a|b", "true"]);
/// assert_eq!(cells, ["main", "007", "\"1e5\"", "\"a|b\"", "\"true\""]);
/// ```
#[must_use]
pub fn string_cells<S: AsRef<str>>(values: &[S]) -> Vec<Cow<'_, str>> {
    values
        .iter()
        .map(|value| string_cell(value.as_ref()))
        .collect()
}

/// The cell of one string: the string itself when it is written bare, else its JSON literal.
///
/// ```
/// use std::borrow::Cow;
/// assert!(matches!(headroom_native::string_cell("ok"), Cow::Borrowed("ok")));
/// assert_eq!(headroom_native::string_cell(" ok"), "\" ok\"");
/// assert_eq!(headroom_native::string_cell("tab\there"), "\"tab\\there\"");
/// ```
#[must_use]
pub fn string_cell(value: &str) -> Cow<'_, str> {
    if is_bare(value) {
        Cow::Borrowed(value)
    } else {
        Cow::Owned(json_string(value))
    }
}

/// Whether `value` can be written in a cell without quotes (the rules in the module docs).
#[must_use]
pub fn is_bare(value: &str) -> bool {
    let bytes = value.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    if first <= b' ' || matches!(first, b'@' | b'&' | b'[' | b'{') || last == b' ' {
        return false;
    }
    let mut words = bytes.chunks_exact(8);
    if words.any(|chunk| not_bare(word(chunk)) != 0)
        || words
            .remainder()
            .iter()
            .any(|&b| b < b' ' || matches!(b, b'|' | b'"' | b'\\' | 0x7f))
    {
        return false;
    }
    if matches!(value, "null" | "true" | "false" | "^") {
        return false;
    }
    !(first == b'-' || first.is_ascii_digit()) || !is_json_number(bytes)
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Eight bytes as one word (`chunk` has exactly eight).
fn word(chunk: &[u8]) -> u64 {
    u64::from_le_bytes(<[u8; 8]>::try_from(chunk).unwrap_or_default())
}

/// Nonzero if a byte of `x` is below `n` (`n <= 0x80`; bits above the first hit may be off).
const fn below(x: u64, n: u8) -> u64 {
    x.wrapping_sub(ONES * n as u64) & !x & HIGHS
}

/// Nonzero if a byte of `x` equals `b`.
const fn equal(x: u64, b: u8) -> u64 {
    below(x ^ (ONES * b as u64), 1)
}

/// Nonzero if a byte of `x` needs a JSON escape: a control character, `"` or `\`.
const fn needs_escape(x: u64) -> u64 {
    below(x, b' ') | equal(x, b'"') | equal(x, b'\\')
}

/// Nonzero if a byte of `x` may not appear in a bare cell: those, `|` and `U+007F`.
const fn not_bare(x: u64) -> u64 {
    needs_escape(x) | equal(x, b'|') | equal(x, 0x7f)
}

/// Whether all of `bytes` is one JSON number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`.
fn is_json_number(bytes: &[u8]) -> bool {
    let digits = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let mut i = usize::from(bytes.first() == Some(&b'-'));
    match bytes.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i += 1 + digits(i + 1),
        _ => return false,
    }
    if bytes.get(i) == Some(&b'.') {
        let fraction = digits(i + 1);
        if fraction == 0 {
            return false;
        }
        i += 1 + fraction;
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let exponent = digits(i);
        if exponent == 0 {
            return false;
        }
        i += exponent;
    }
    i == bytes.len()
}

/// `value` as a JSON string literal, as Python's `json.encoder.encode_basestring` writes it.
#[must_use]
pub fn json_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    push_json_string(&mut out, value);
    out
}

/// Appends [`json_string`] of `value` to `out`.
pub fn push_json_string(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let mut copied = 0; // value[..copied] is written already
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if i + 8 <= bytes.len() && needs_escape(word(&bytes[i..i + 8])) == 0 {
            i += 8;
            continue;
        }
        let byte = bytes[i];
        i += 1;
        let escape: &str = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        // Every escaped byte is ASCII, so `i - 1` and `i` are character boundaries.
        out.push_str(&value[copied..i - 1]);
        if escape.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        } else {
            out.push_str(escape);
        }
        copied = i;
    }
    out.push_str(&value[copied..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::{is_bare, is_json_number, json_string, string_cell, string_cells};
    use std::borrow::Cow;

    #[test]
    fn plain_words_and_sentences_are_bare_and_borrowed() {
        for text in [
            "main", "a b", "é ü", "日本", "x:y", "a@b", "a&b", "a[0]", "😀", "nul",
        ] {
            assert!(
                matches!(string_cell(text), Cow::Borrowed(t) if t == text),
                "{text}"
            );
        }
    }

    #[test]
    fn a_first_character_that_starts_another_value_needs_quotes() {
        for text in ["@1", "&x", "[a", "{a", " a", "\ta", "\u{7f}a", ""] {
            assert!(!is_bare(text), "{text:?}");
        }
    }

    #[test]
    fn separators_quotes_controls_and_a_trailing_space_need_quotes() {
        for text in ["a|b", "a\"b", "a\\b", "a\nb", "a\u{1f}", "a\u{7f}", "a "] {
            assert!(!is_bare(text), "{text:?}");
        }
    }

    #[test]
    fn keywords_ditto_and_numbers_need_quotes_look_alikes_do_not() {
        for text in [
            "null", "true", "false", "^", "0", "-1.5e3", "1e5", "12", "0.5", "1E+2",
        ] {
            assert!(!is_bare(text), "{text:?}");
        }
        for text in [
            "007", "-", "1.", ".5", "1e", "-x", "1e+", "--1", "Null", "^^", "1_000",
        ] {
            assert!(is_bare(text), "{text:?}");
        }
    }

    #[test]
    fn numbers_follow_the_json_grammar() {
        for text in ["0", "-0", "10", "1.25", "1e5", "1E-5", "-1.5e+3"] {
            assert!(is_json_number(text.as_bytes()), "{text}");
        }
        for text in ["", "-", "01", "1.", "1.e5", "1e", "+1", "1e5.0", "0x1", "١"] {
            assert!(!is_json_number(text.as_bytes()), "{text}");
        }
    }

    #[test]
    fn literals_escape_as_python_json_does() {
        assert_eq!(json_string("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(
            json_string("\u{8}\u{c}\n\r\t\u{0}\u{1f}"),
            r#""\b\f\n\r\t\u0000\u001f""#
        );
        assert_eq!(json_string("\u{7f}é\u{2028}😀"), "\"\u{7f}é\u{2028}😀\"");
        assert_eq!(json_string(""), "\"\"");
    }

    #[test]
    fn every_position_of_a_long_string_is_checked() {
        let plain = "abcdefghijklmnopqrstuvwxyzé日😀".repeat(3);
        assert!(is_bare(&plain));
        for at in 0..=plain.len() {
            if !plain.is_char_boundary(at) {
                continue;
            }
            for special in ["|", "\"", "\\", "\n", "\u{0}", "\u{1f}", "\u{7f}"] {
                let text = format!("x{}{special}{}y", &plain[..at], &plain[at..]);
                assert!(!is_bare(&text), "{text:?}");
                let literal = json_string(&text);
                assert_eq!(
                    literal.len() > text.len() + 2,
                    special != "|" && special != "\u{7f}"
                );
            }
            assert_eq!(json_string(&plain[at..]), format!("\"{}\"", &plain[at..]));
        }
    }

    #[test]
    fn cells_keep_input_order() {
        let values = vec![String::from("x"), String::from("1"), String::from("")];
        assert_eq!(string_cells(&values), ["x", "\"1\"", "\"\""]);
    }
}
