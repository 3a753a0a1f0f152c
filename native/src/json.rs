//! JSON whitespace removal outside string literals, the lossless minifier's hot loop.
//!
//! The rule is that of the Python reference (`headroom/_reference.py`, `json_strip`), a
//! regex tried left to right: a string literal (`"`, then characters or `\`-escapes, then
//! `"`) is copied as it is; a run of JSON whitespace (space, tab, CR, LF) outside one is
//! dropped; any other character is copied. A `"` that opens no complete literal is an
//! ordinary character. The scan works on bytes: `"` and `\` are ASCII and never occur inside
//! a multi-byte UTF-8 sequence, so every cut falls on a character boundary.

/// `document` without the JSON whitespace outside its string literals.
///
/// ```
/// assert_eq!(headroom_native::json_strip("{ \"a b\" : [1, 2] }\n"), "{\"a b\":[1,2]}");
/// ```
#[must_use]
pub fn json_strip(document: &str) -> String {
    let bytes = document.as_bytes();
    let mut out = String::with_capacity(document.len());
    let mut copied = 0; // bytes[..copied] are written (or dropped) already
    let mut i = 0;
    // Once one literal fails to close, none after it can: the failed scan passed every later
    // quote in the state a new scan from there would start in.
    let mut strings_close = true;
    while i < bytes.len() {
        match bytes[i] {
            b'"' if strings_close => match closing_quote(bytes, i + 1) {
                Some(end) => i = end + 1,
                None => {
                    strings_close = false;
                    i += 1;
                }
            },
            b' ' | b'\t' | b'\r' | b'\n' => {
                out.push_str(&document[copied..i]);
                while i < bytes.len() && matches!(bytes[i], b' ' | b'\t' | b'\r' | b'\n') {
                    i += 1;
                }
                copied = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&document[copied..]);
    out
}

/// Whether `written` (a serializer's output for the value parsed from `text`) is `text`
/// outside its string literals, byte for byte, with no number in `text` spelled as orjson
/// and Python spell differently.
///
/// The exact-parse check of the JSON compressor: when it holds, the parsed value has every
/// key `text` has (a duplicate key would be missing from `written`) and every number spelled
/// as Python writes it, whatever escapes the strings use (`\/`, `\u00e9`). Literals are
/// skipped on each side on their own, so their escapes may differ; a literal that does not
/// close makes the answer `false`. The numbers that differ are below 1e-4: orjson spells them
/// `0.00001` or `1e-7`, Python `1e-05` and `1e-07`, so any `e-` or `E-` outside literals (in
/// JSON only an exponent has it) and any `0.0000` not preceded by a digit answer `false`.
///
/// ```
/// use headroom_native::json_same_outside_strings as same;
/// assert!(same(r#"{"u":"a\/b","n":1.5}"#, br#"{"u":"a/b","n":1.5}"#));
/// assert!(!same(r#"{"a":1,"a":2}"#, br#"{"a":2}"#));
/// assert!(!same(r#"[0.00001]"#, br#"[0.00001]"#));
/// ```
#[must_use]
pub fn json_same_outside_strings(text: &str, written: &[u8]) -> bool {
    let a = text.as_bytes();
    let b = written;
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let c = a[i];
        if c != b[j] {
            return false;
        }
        match c {
            b'"' => match (closing_quote(a, i + 1), closing_quote(b, j + 1)) {
                (Some(end_a), Some(end_b)) => {
                    i = end_a + 1;
                    j = end_b + 1;
                }
                _ => return false,
            },
            b'-' if i > 0 && matches!(a[i - 1], b'e' | b'E') => return false,
            b'0' if a[i..].starts_with(b"0.0000") && (i == 0 || !a[i - 1].is_ascii_digit()) => {
                return false
            }
            _ => {
                i += 1;
                j += 1;
            }
        }
    }
    i == a.len() && j == b.len()
}

/// The index of the `"` closing a literal whose content starts at `start`, if any.
fn closing_quote(bytes: &[u8], start: usize) -> Option<usize> {
    let mut j = start;
    while j < bytes.len() {
        match bytes[j] {
            b'"' => return Some(j),
            // An escape takes the next character whole: its first byte is enough, the rest
            // (continuation bytes) can be neither a quote nor a backslash.
            b'\\' if j + 1 < bytes.len() => j += 2,
            b'\\' => return None,
            _ => j += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{json_same_outside_strings, json_strip};

    #[test]
    fn strings_may_differ_in_escapes_only_outside_them_must_match() {
        let same = json_same_outside_strings;
        assert!(same(
            r#"{"a":"\u00e9\/","b":[1,2.5,true,null]}"#,
            "{\"a\":\"é/\",\"b\":[1,2.5,true,null]}".as_bytes()
        ));
        assert!(!same(r#"{"a":1}"#, br#"{"a":1.0}"#));
        assert!(!same(r#"{"a":1} "#, br#"{"a":1}"#));
        assert!(!same(r#"{"a":1}"#, br#"{"a":1} "#));
        assert!(!same(r#"{"a":"x}"#, br#"{"a":"x}"#)); // unclosed literal
        assert!(same("", b""));
    }

    #[test]
    fn numbers_python_spells_apart_answer_false() {
        let same = json_same_outside_strings;
        for number in ["1e-7", "1E-7", "2.5e-10", "0.00001", "-0.00009"] {
            let text = format!("[{number}]");
            assert!(!same(&text, text.as_bytes()), "{number}");
        }
        for number in ["10.00001", "0.0001", "1e+16", "1e16", "0.5"] {
            let text = format!("[{number}]");
            assert!(same(&text, text.as_bytes()), "{number}");
        }
        // inside a literal they are text
        assert!(same(r#"["1e-7 0.00001"]"#, br#"["1e-7 0.00001"]"#));
    }

    #[test]
    fn keeps_strings_and_drops_whitespace_between_tokens() {
        assert_eq!(
            json_strip("{\n  \"a\": \"x  y\",\n  \"b\": [1, 2]\n}"),
            "{\"a\":\"x  y\",\"b\":[1,2]}"
        );
    }

    #[test]
    fn escaped_quotes_and_backslashes_stay_inside_the_string() {
        assert_eq!(
            json_strip(r#"[ "a \" b" , "c\\" , 1 ]"#),
            r#"["a \" b","c\\",1]"#
        );
    }

    #[test]
    fn an_unterminated_literal_is_ordinary_text() {
        assert_eq!(json_strip("[\"a b, 1 ]"), "[\"ab,1]");
        assert_eq!(json_strip("\"\\\""), "\"\\\"");
        assert_eq!(json_strip("x \"\\"), "x\"\\");
    }

    #[test]
    fn multibyte_text_is_cut_on_character_boundaries() {
        assert_eq!(
            json_strip("{ \"é ü\" : \"\\é\" , \"日本\" : 1 }"),
            "{\"é ü\":\"\\é\",\"日本\":1}"
        );
    }

    #[test]
    fn many_backslash_quotes_are_linear() {
        let text = "\"\\\"".repeat(200_000);
        assert_eq!(json_strip(&text), text);
    }
}
