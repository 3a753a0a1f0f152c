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
    use super::json_strip;

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
