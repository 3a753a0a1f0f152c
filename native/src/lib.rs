//! Hot loops of Headroom's context compressors.
//!
//! This crate is pure Rust: it knows nothing about Python, and `cargo test` runs without an
//! interpreter. The PyO3 bindings that turn it into the extension module `headroom._native`
//! live in `py.rs`, compiled only with the `python` cargo feature. Every kernel here has a
//! pure-Python twin in `headroom/_reference.py`; differential property tests keep them equal,
//! so the rules below are a contract shared by both. The one exception is the token counter
//! in [`bpe`], whose reference is tiktoken itself.
//!
//! # Per-line variable masking
//!
//! Log lines and search results repeat a small number of *templates* with changing *values*
//! (timestamps, ids, counters, paths). Masking turns a line into its template so that lines
//! can be grouped and the values factored out.
//!
//! * **Separators** are the ASCII whitespace characters `' '`, `'\t'`, `'\n'`, `'\r'`,
//!   `'\x0b'`, `'\x0c'`, the characters `, ; = ( ) [ ] { } < > " ' |`, and every `.` that has
//!   another `.` right before or after it (a run of two or more dots, as in
//!   `icbi.........0` or `Loading...`). A lone `.` (as in `10.0.0.1`) is not a separator.
//! * A **token** is a maximal run of non-separator characters; any other Unicode character
//!   belongs to tokens.
//! * A token is **variable** if it contains an ASCII digit `0-9`, or if it starts with `/` and
//!   contains at least two `/` (a path such as `/usr/lib/x`).
//! * The **template** of a line is the line with every variable token replaced by
//!   [`WILDCARD`]; separators and other tokens are kept verbatim. The **values** are the
//!   replaced tokens, in order.
//!
//! ```
//! let (template, values) = headroom_native::mask_line("took 12ms reading /etc/hosts");
//! assert_eq!(template, "took <*> reading <*>");
//! assert_eq!(values, ["12ms", "/etc/hosts"]);
//! ```
//!
//! Masking a template gives the same template back (`<` and `>` are separators and `*` is not
//! variable), so the operation is idempotent. A template has exactly as many tokens as its
//! line: each variable token becomes the token `*` between the separators `<` and `>`.
//!
//! Every separator, digit, `.` and `/` is ASCII, and in UTF-8 no byte of a multi-byte
//! character is ASCII, so the kernel is a single pass over bytes that never needs to decode
//! characters.
//!
//! # Template mining and clustering
//!
//! [`mine_templates`] groups lines by exact template (with counts and first occurrences), and
//! [`cluster_templates`] merges templates into Drain-style clusters; see the [`cluster`]
//! module for the rules. [`variable_values`] counts the values the variables of chosen
//! templates take (see the [`values`] module).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bm25;
pub mod bpe;
pub mod cells;
pub mod cluster;
mod hash;
pub mod json;
pub mod simhash;
pub mod tables;
pub mod terms;
pub mod values;

pub use bm25::bm25_okapi;
pub use cells::{string_cell, string_cells};
pub use cluster::{cluster_templates, mine_templates, ClusterError, Clusters, Mined};
pub use json::{json_same_outside_strings, json_strip};
pub use simhash::{simhash, simhashes};
pub use tables::{is_text_bare, seeds_inside, table_rows, text_cells, RowsError};
pub use terms::{term_counts, token_lists, DocTerms};
pub use values::{variable_values, ValueCounts, ValuesError};

/// The placeholder that replaces each variable token in a template.
pub const WILDCARD: &str = "<*>";

const SEPARATOR: u8 = 1;
const DIGIT: u8 = 2;
const SLASH: u8 = 4;
const DOT: u8 = 8;

/// Character class of every byte value; multi-byte UTF-8 sequences are all zero (token bytes).
static CLASS: [u8; 256] = build_class_table();

const fn build_class_table() -> [u8; 256] {
    let mut table = [0u8; 256];
    let separators = b" \t\n\r\x0b\x0c,;=()[]{}<>\"'|";
    let mut i = 0;
    while i < separators.len() {
        table[separators[i] as usize] = SEPARATOR;
        i += 1;
    }
    let mut digit = b'0';
    while digit <= b'9' {
        table[digit as usize] = DIGIT;
        digit += 1;
    }
    table[b'/' as usize] = SLASH;
    table[b'.' as usize] = DOT;
    table
}

/// Returns `true` if `c` always separates tokens.
///
/// A `.` separates only next to another `.`, which this per-character test cannot see, so it
/// answers `false` for `.`.
///
/// ```
/// assert!(headroom_native::is_separator('|'));
/// assert!(!headroom_native::is_separator('/'));
/// assert!(!headroom_native::is_separator('\u{a0}')); // only ASCII whitespace separates
/// ```
#[must_use]
pub fn is_separator(c: char) -> bool {
    c.is_ascii() && CLASS[c as usize] == SEPARATOR
}

/// Returns `true` if `token` is variable: it contains an ASCII digit, or it starts with `/`
/// and contains at least two `/`.
///
/// The token is not checked for separators; callers pass tokens as the masking functions cut
/// them.
///
/// ```
/// use headroom_native::is_variable;
/// assert!(is_variable("blk_-1608999687919862906"));
/// assert!(is_variable("/var/log"));
/// assert!(!is_variable("/tmp"));
/// assert!(!is_variable("usr/lib/x")); // a path must start with '/'
/// ```
#[must_use]
pub fn is_variable(token: &str) -> bool {
    let bytes = token.as_bytes();
    let mut seen = 0u8;
    let mut slashes = 0usize;
    for &b in bytes {
        let class = CLASS[usize::from(b)];
        seen |= class;
        slashes += usize::from(class == SLASH);
    }
    seen & DIGIT != 0 || (bytes.first() == Some(&b'/') && slashes >= 2)
}

/// One token of a line: its byte range and whether it is variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) variable: bool,
}

/// The tokens of a line, in order.
///
/// Every boundary it reports is an end of the line or the position of an ASCII separator
/// byte, which is always a character boundary, so slicing the line with them cannot panic.
pub(crate) struct Tokens<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Tokens<'a> {
    pub(crate) fn new(line: &'a str) -> Self {
        Tokens {
            bytes: line.as_bytes(),
            pos: 0,
        }
    }
}

impl Iterator for Tokens<'_> {
    type Item = Token;

    #[inline]
    fn next(&mut self) -> Option<Token> {
        let bytes = self.bytes;
        let len = bytes.len();
        let mut i = self.pos;
        // Skip separators. A dot with a dot on either side belongs to a run of dots.
        while i < len {
            let class = CLASS[usize::from(bytes[i])];
            let dot_run = class == DOT
                && ((i > 0 && bytes[i - 1] == b'.') || bytes.get(i + 1) == Some(&b'.'));
            if class != SEPARATOR && !dot_run {
                break;
            }
            i += 1;
        }
        if i >= len {
            self.pos = len;
            return None;
        }
        let start = i;
        let mut seen = 0u8;
        let mut slashes = 0usize;
        while i < len {
            let class = CLASS[usize::from(bytes[i])];
            // Inside a token the byte before a dot is never a dot (it would have ended the
            // token), so only the byte after needs checking.
            if class == SEPARATOR || (class == DOT && bytes.get(i + 1) == Some(&b'.')) {
                break;
            }
            seen |= class;
            slashes += usize::from(class == SLASH);
            i += 1;
        }
        self.pos = i;
        Some(Token {
            start,
            end: i,
            variable: seen & DIGIT != 0 || (bytes[start] == b'/' && slashes >= 2),
        })
    }
}

/// Appends the template of `line` to `template` and reports each variable token to
/// `on_value`, in order.
#[inline]
fn mask_into<'a>(line: &'a str, template: &mut String, mut on_value: impl FnMut(&'a str)) {
    // Start of the part of `line` not yet copied into `template`.
    let mut copied = 0;
    for token in Tokens::new(line) {
        if token.variable {
            template.push_str(&line[copied..token.start]);
            template.push_str(WILDCARD);
            on_value(&line[token.start..token.end]);
            copied = token.end;
        }
    }
    template.push_str(&line[copied..]);
}

/// Masks one line: returns its template and the variable tokens it replaced, in order.
///
/// The values borrow from `line`.
///
/// ```
/// let (template, values) = headroom_native::mask_line("uid=0 euid=0 tty=NODEVssh ruser=");
/// assert_eq!(template, "uid=<*> euid=<*> tty=NODEVssh ruser=");
/// assert_eq!(values, ["0", "0"]);
/// let (template, _) = headroom_native::mask_line("caused by icbi.........0");
/// assert_eq!(template, "caused by icbi.........<*>");
/// ```
#[must_use]
pub fn mask_line(line: &str) -> (String, Vec<&str>) {
    let mut template = String::with_capacity(line.len());
    let mut values = Vec::new();
    mask_into(line, &mut template, |value| values.push(value));
    (template, values)
}

/// Masks many lines and returns only their templates, in input order.
///
/// ```
/// let templates = headroom_native::mask_lines(&["Received block blk_42 of size 67108864"]);
/// assert_eq!(templates, ["Received block <*> of size <*>"]);
/// ```
#[must_use]
pub fn mask_lines<S: AsRef<str>>(lines: &[S]) -> Vec<String> {
    lines
        .iter()
        .map(|line| {
            let line = line.as_ref();
            let mut template = String::with_capacity(line.len());
            mask_into(line, &mut template, |_| {});
            template
        })
        .collect()
}

/// Groups lines by template.
///
/// Returns, for each line, the id of its template, and the distinct templates in id order.
/// Ids are assigned `0, 1, 2, ...` in order of first appearance, so the result depends only
/// on the input (never on hashing).
///
/// ```
/// let (ids, templates) = headroom_native::group_templates(&["a 1", "b", "a 2"]);
/// assert_eq!(ids, [0, 1, 0]);
/// assert_eq!(templates, ["a <*>", "b"]);
/// ```
#[must_use]
pub fn group_templates<S: AsRef<str>>(lines: &[S]) -> (Vec<usize>, Vec<String>) {
    let mined = mine_templates(lines);
    (mined.ids, mined.templates)
}

#[cfg(feature = "python")]
mod columns;
#[cfg(feature = "python")]
mod inline;
#[cfg(feature = "python")]
mod py;

#[cfg(test)]
mod tests {
    use super::*;

    /// A deliberately naive, char-based statement of the specification to check the
    /// byte-based kernel against.
    fn naive_mask_line(line: &str) -> (String, Vec<String>) {
        let chars: Vec<char> = line.chars().collect();
        let is_sep = |i: usize| {
            let c = chars[i];
            " \t\n\r\x0b\x0c,;=()[]{}<>\"'|".contains(c)
                || (c == '.' && ((i > 0 && chars[i - 1] == '.') || chars.get(i + 1) == Some(&'.')))
        };
        let mut template = String::new();
        let mut values = Vec::new();
        let mut token = String::new();
        let mut flush = |token: &mut String, template: &mut String| {
            if token.is_empty() {
                return;
            }
            let variable = token.chars().any(|c| c.is_ascii_digit())
                || (token.starts_with('/') && token.matches('/').count() >= 2);
            if variable {
                template.push_str("<*>");
                values.push(std::mem::take(token));
            } else {
                template.push_str(token);
                token.clear();
            }
        };
        for (i, &c) in chars.iter().enumerate() {
            if is_sep(i) {
                flush(&mut token, &mut template);
                template.push(c);
            } else {
                token.push(c);
            }
        }
        flush(&mut token, &mut template);
        (template, values)
    }

    #[test]
    fn table() {
        let cases: &[(&str, &str, &[&str])] = &[
            ("", "", &[]),
            ("plain words only", "plain words only", &[]),
            ("abc123", "<*>", &["abc123"]),
            ("user 42 logged in", "user <*> logged in", &["42"]),
            ("a=1,b=2;c=(3)", "a=<*>,b=<*>;c=(<*>)", &["1", "2", "3"]),
            (
                "[x1]{y2}<z3>|w4|",
                "[<*>]{<*>}<<*>>|<*>|",
                &["x1", "y2", "z3", "w4"],
            ),
            ("\"q1\" 'q2'", "\"<*>\" '<*>'", &["q1", "q2"]),
            ("/usr/lib/x", "<*>", &["/usr/lib/x"]),
            ("/tmp", "/tmp", &[]),
            ("//", "<*>", &["//"]),
            ("/a/", "<*>", &["/a/"]),
            ("usr/lib/x", "usr/lib/x", &[]),
            ("http://x.org/a", "http://x.org/a", &[]),
            ("/", "/", &[]),
            (
                "\t1\r\n2\x0b3\x0c",
                "\t<*>\r\n<*>\x0b<*>\x0c",
                &["1", "2", "3"],
            ),
            ("à1 é ü/ß/", "<*> é ü/ß/", &["à1"]),
            ("😀9 😀", "<*> 😀", &["😀9"]),
            // Non-ASCII digits and whitespace are token characters, not digits or separators.
            ("٣ ５ a\u{a0}b", "٣ ５ a\u{a0}b", &[]),
            ("x\u{a0}1", "<*>", &["x\u{a0}1"]),
            ("<*> <*>", "<*> <*>", &[]),
            // A run of two or more dots separates; a lone dot belongs to its token.
            ("10.0.0.1", "<*>", &["10.0.0.1"]),
            (
                "caused by icbi.........0",
                "caused by icbi.........<*>",
                &["0"],
            ),
            ("a..1", "a..<*>", &["1"]),
            ("1...", "<*>...", &["1"]),
            (".5 x.", "<*> x.", &[".5"]),
            ("..", "..", &[]),
            ("v1.2..", "<*>..", &["v1.2"]),
            (" ,;=()[]{}<>\"'| ", " ,;=()[]{}<>\"'| ", &[]),
            (
                "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for \
                 block blk_38865049064139660 terminating",
                "<*> <*> <*> INFO dfs.DataNode$PacketResponder: PacketResponder <*> for block \
                 <*> terminating",
                &["081109", "203615", "148", "1", "blk_38865049064139660"],
            ),
        ];
        for &(line, template, values) in cases {
            let (got_template, got_values) = mask_line(line);
            assert_eq!(got_template, template, "template of {line:?}");
            assert_eq!(got_values, values, "values of {line:?}");
        }
    }

    #[test]
    fn exhaustive_small_strings_match_naive_spec() {
        let alphabet = ['a', '7', '/', ' ', ',', '.', '<', 'é', '😀', '\u{a0}'];
        let mut lines = vec![String::new()];
        let mut frontier = vec![String::new()];
        for _ in 0..4 {
            let mut next = Vec::new();
            for prefix in &frontier {
                for &c in &alphabet {
                    let mut s = prefix.clone();
                    s.push(c);
                    next.push(s);
                }
            }
            lines.extend(next.iter().cloned());
            frontier = next;
        }
        for line in &lines {
            let (template, values) = mask_line(line);
            let (want_template, want_values) = naive_mask_line(line);
            assert_eq!(template, want_template, "template of {line:?}");
            assert_eq!(values, want_values, "values of {line:?}");
        }
        assert_eq!(
            mask_lines(&lines),
            lines
                .iter()
                .map(|l| naive_mask_line(l).0)
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn masking_is_idempotent() {
        for line in ["a1 /x/y z", "<*>", "(7)", "k=v=3", "/a/b/c/"] {
            let (once, _) = mask_line(line);
            let (twice, values) = mask_line(&once);
            assert_eq!(once, twice);
            assert!(values.is_empty());
        }
    }

    #[test]
    fn values_fill_the_wildcards_back_in() {
        let line = "2024-01-01 12:00:00 GET /api/v1/users?id=7 -> 200 (3ms)";
        let (template, values) = mask_line(line);
        let mut rebuilt = String::new();
        let mut parts = template.split(WILDCARD);
        rebuilt.push_str(parts.next().unwrap_or_default());
        for (part, value) in parts.zip(&values) {
            rebuilt.push_str(value);
            rebuilt.push_str(part);
        }
        assert_eq!(rebuilt, line);
    }

    #[test]
    fn is_separator_and_is_variable() {
        for c in " \t\n\r\x0b\x0c,;=()[]{}<>\"'|".chars() {
            assert!(is_separator(c), "{c:?}");
        }
        for c in ['a', '0', '/', '*', '\u{a0}', '\u{2028}', 'é', '\0'] {
            assert!(!is_separator(c), "{c:?}");
        }
        assert!(is_variable("x0"));
        assert!(is_variable("/a/b"));
        assert!(!is_variable("/ab"));
        assert!(!is_variable(""));
        assert!(!is_variable("a/b/c"));
    }

    #[test]
    fn mask_lines_matches_mask_line() {
        let lines = ["a 1", "", "b /c/d", "e"];
        let templates = mask_lines(&lines);
        let want: Vec<String> = lines.iter().map(|l| mask_line(l).0).collect();
        assert_eq!(templates, want);
        let owned: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
        assert_eq!(mask_lines(&owned), want);
        assert!(mask_lines::<&str>(&[]).is_empty());
    }

    #[test]
    fn group_templates_assigns_ids_in_order_of_first_appearance() {
        let lines = ["z 1", "a", "z 2", "", "a", "z /p/q", ""];
        let (ids, templates) = group_templates(&lines);
        assert_eq!(ids, [0, 1, 0, 2, 1, 0, 2]);
        assert_eq!(templates, ["z <*>", "a", ""]);
        let (ids, templates) = group_templates::<&str>(&[]);
        assert!(ids.is_empty() && templates.is_empty());
    }

    #[test]
    fn one_megabyte_line() {
        let token = "x".repeat(1 << 20);
        let (template, values) = mask_line(&token);
        assert_eq!(template, token);
        assert!(values.is_empty());

        let line = "ab1 ".repeat(1 << 18);
        let (template, values) = mask_line(&line);
        assert_eq!(template, "<*> ".repeat(1 << 18));
        assert_eq!(values.len(), 1 << 18);
    }
}
