//! The row text of JSON tables and the checks behind it (`headroom/jsontables/encoder.py`).
//!
//! The encoder turns records into columns of cells (strings); these kernels do the per-cell
//! work on those strings:
//!
//! * [`table_rows`] writes the rows: each column's cells placed in the rows it has (an empty
//!   cell in the others), a non-empty cell equal to the one above it in its column and at least
//!   `min_ditto` characters long ([`cell_length`]) replaced by [`DITTO`], cells joined by `|`,
//!   rows by `\n`.
//! * [`text_cells`] decides whether a column of strings is better a *text column*, where
//!   strings that would need quotes only because they look like another value (`"2019"`,
//!   `"true"`, `"@x"`) are written bare, and writes its cells.
//! * [`seeds_inside`] finds, for each text, which of a list of strings occur inside it: the
//!   candidate sources of a template (`{url}/x`).
//!
//! Lengths are counted in characters (Unicode scalar values), as Python counts them.

use std::borrow::Cow;
use std::fmt;

use crate::cells::{is_bare, json_string, string_cell};

/// The cell that repeats the cell above it in the same column.
pub const DITTO: &str = "^";

/// The columns given to [`table_rows`] do not fit the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowsError {
    /// `rows` does not have one entry per column.
    RowListCount {
        /// Number of columns.
        columns: usize,
        /// Number of row lists.
        rows: usize,
    },
    /// A column's cells and rows differ in length (or a dense column is not `count` long).
    CellCount {
        /// Index of the column.
        column: usize,
    },
    /// A column's rows are not ascending or not below `count`.
    BadRows {
        /// Index of the column.
        column: usize,
    },
    /// `count` rows of these columns are more cells than can be held.
    TooLarge {
        /// The row count asked for.
        count: usize,
    },
}

impl fmt::Display for RowsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RowListCount { columns, rows } => {
                write!(f, "{columns} columns but {rows} row lists")
            }
            Self::TooLarge { count } => write!(f, "a table of {count} rows is too large"),
            Self::CellCount { column } => {
                write!(
                    f,
                    "column {column}: the number of cells does not match its rows"
                )
            }
            Self::BadRows { column } => {
                write!(
                    f,
                    "column {column}: rows must ascend and be below the row count"
                )
            }
        }
    }
}

impl std::error::Error for RowsError {}

/// The rows of a table of `count` rows, joined by `\n` (empty when there are no columns).
///
/// Column `c` has a cell in the rows `rows[c]` (ascending), or in every row when `rows[c]` is
/// empty; `columns[c]` holds those cells in order.
///
/// ```
/// let rows = headroom_native::table_rows(
///     3,
///     &[vec!["1", "2", "3"], vec!["abcdefg", "abcdefg", "abcdefg"], vec!["x"]],
///     &[vec![], vec![], vec![1]],
///     6,
/// );
/// assert_eq!(rows.unwrap(), "1|abcdefg|\n2|^|x\n3|^|");
/// ```
///
/// # Errors
///
/// [`RowsError`] when the row lists do not match the columns.
pub fn table_rows<C, S, R>(
    count: usize,
    columns: &[C],
    rows: &[R],
    min_ditto: usize,
) -> Result<String, RowsError>
where
    C: AsRef<[S]>,
    S: AsRef<str>,
    R: AsRef<[usize]>,
{
    if rows.len() != columns.len() {
        return Err(RowsError::RowListCount {
            columns: columns.len(),
            rows: rows.len(),
        });
    }
    if columns.is_empty() {
        return Ok(String::new());
    }
    // Row-major cells, ditto marks applied, then one pass to write them.
    let width = columns.len();
    // An error, not a panic or an abort, for a count no memory can hold.
    let size = count
        .checked_mul(width)
        .ok_or(RowsError::TooLarge { count })?;
    let mut grid: Vec<&str> = Vec::new();
    grid.try_reserve_exact(size)
        .map_err(|_| RowsError::TooLarge { count })?;
    grid.resize(size, "");
    let mut total = 0;
    for (index, (cells, present)) in columns.iter().zip(rows).enumerate() {
        let cells = cells.as_ref();
        let present = present.as_ref();
        let dense = present.is_empty();
        if cells.len() != if dense { count } else { present.len() } {
            return Err(RowsError::CellCount { column: index });
        }
        let mut above: Option<(usize, &str)> = None; // the previous present row and cell
        for (k, cell) in cells.iter().enumerate() {
            let row = if dense { k } else { present[k] };
            if row >= count || above.is_some_and(|(last, _)| row <= last) {
                return Err(RowsError::BadRows { column: index });
            }
            let cell = cell.as_ref();
            let repeated = matches!(above, Some((last, text)) if last + 1 == row && text == cell);
            above = Some((row, cell));
            let written = if repeated && !cell.is_empty() && has_chars(cell, min_ditto) {
                DITTO
            } else {
                cell
            };
            total += written.len();
            grid[row * width + index] = written;
        }
    }
    let mut out = String::with_capacity(total + count * width);
    for (row, cells) in grid.chunks_exact(width).enumerate() {
        if row > 0 {
            out.push('\n');
        }
        for (index, cell) in cells.iter().enumerate() {
            if index > 0 {
                out.push('|');
            }
            out.push_str(cell);
        }
    }
    Ok(out)
}

/// Whether `text` has at least `n` characters, a provisional table number counted as one.
fn has_chars(text: &str, n: usize) -> bool {
    if text.contains(PROVISIONAL) {
        return cell_length(text) >= n;
    }
    // A character takes one to four bytes.
    n == 0 || (text.len() >= n && (text.len() >= 4 * n || text.chars().nth(n - 1).is_some()))
}

/// Where a provisional table number starts and ends (`@\0n\0`): written values never hold
/// a NUL (JSON escapes it, bare cells exclude control characters).
const PROVISIONAL: char = '\0';

/// The length of a cell as the ditto rule counts it: characters, with each provisional table
/// number (between two NULs) counted as one. The encoder numbers tables provisionally while
/// it writes, and renumbers them in reading order at the end; a number's length depends on
/// how many tables were made before, which must not change whether a cell is a ditto.
///
/// ```
/// assert_eq!(headroom_native::tables::cell_length("@\u{0}123\u{0}"), 4);
/// assert_eq!(headroom_native::tables::cell_length("[@\u{0}7\u{0},é]"), 8);
/// ```
pub fn cell_length(text: &str) -> usize {
    let mut length = 0;
    let mut inside = false;
    let mut counted = false; // the current number's one character
    for c in text.chars() {
        if c == PROVISIONAL {
            inside = !inside;
            counted = false;
            length += 1;
        } else if !inside {
            length += 1;
        } else if !counted {
            length += 1;
            counted = true;
        }
    }
    length
}

/// Whether `value` can be written bare in a text column: not empty, no control character,
/// `|`, `"`, `\` or U+007F, a first character that is not a space, a last character that is
/// not a space, and not [`DITTO`].
///
/// ```
/// assert!(headroom_native::is_text_bare("2019"));
/// assert!(!headroom_native::is_text_bare(" 2019"));
/// ```
#[must_use]
pub fn is_text_bare(value: &str) -> bool {
    let bytes = value.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    first != b' '
        && last != b' '
        && value != DITTO
        && !bytes
            .iter()
            .any(|&b| b < b' ' || matches!(b, b'|' | b'"' | b'\\' | 0x7f))
}

/// The cells of a text column of these strings, or `None` when it would not be one: only
/// when some string needs quotes in an ordinary cell but not in a text column. A string is
/// written bare when [`is_text_bare`], else as its JSON literal.
///
/// ```
/// let cells = headroom_native::text_cells(&["2019", "a b", "x|y"]).unwrap();
/// assert_eq!(cells, ["2019", "a b", "\"x|y\""]);
/// assert!(headroom_native::text_cells(&["a b", "x|y"]).is_none());
/// ```
#[must_use]
pub fn text_cells<S: AsRef<str>>(values: &[S]) -> Option<Vec<Cow<'_, str>>> {
    let wanted = values.iter().any(|value| {
        let value = value.as_ref();
        is_text_bare(value) && !is_bare(value)
    });
    wanted.then(|| {
        values
            .iter()
            .map(|value| {
                let value = value.as_ref();
                if is_text_bare(value) {
                    Cow::Borrowed(value)
                } else {
                    Cow::Owned(json_string(value))
                }
            })
            .collect()
    })
}

/// The strings of a column that need quotes in a cell, by index, with their JSON literals
/// (every other string is its own cell, as [`string_cells`](crate::string_cells) writes
/// it), and whether a text column would gain: whether one of them needs quotes only in an
/// ordinary cell, not in a text column ([`text_cells`] then writes that column).
///
/// ```
/// let (quoted, gains) = headroom_native::tables::string_column(&["a b", "2019"]);
/// assert_eq!(quoted, [(1, String::from("\"2019\""))]);
/// assert!(gains);
/// assert!(!headroom_native::tables::string_column(&["a b", "x|y"]).1);
/// ```
#[must_use]
pub fn string_column<S: AsRef<str>>(values: &[S]) -> (Vec<(usize, String)>, bool) {
    let mut gains = false;
    let mut quoted = Vec::new();
    for (index, value) in values.iter().enumerate() {
        let value = value.as_ref();
        if let Cow::Owned(literal) = string_cell(value) {
            gains = gains || is_text_bare(value);
            quoted.push((index, literal));
        }
    }
    (quoted, gains)
}

/// [`table_rows`] for columns given as one text each: the column's cells joined by `\n`
/// (which no cell of a table holds; a column of no cells is the empty text).
///
/// ```
/// let rows = headroom_native::tables::joined_table_rows(2, &["1\n2", "abcdefg\nabcdefg"], &[vec![], vec![]], 6);
/// assert_eq!(rows.unwrap(), "1|abcdefg\n2|^");
/// ```
///
/// # Errors
///
/// [`RowsError`] when the row lists do not match the columns (a cell holding a `\n` is
/// two cells, so its column has one cell too many).
pub fn joined_table_rows<S: AsRef<str>, R: AsRef<[usize]>>(
    count: usize,
    columns: &[S],
    rows: &[R],
    min_ditto: usize,
) -> Result<String, RowsError> {
    if rows.len() != columns.len() {
        return Err(RowsError::RowListCount {
            columns: columns.len(),
            rows: rows.len(),
        });
    }
    // A column of no cells (a table of no rows) is the empty text, else one empty cell.
    let cells: Vec<Vec<&str>> = columns
        .iter()
        .zip(rows.iter().map(|present| present.as_ref().len()))
        .map(|(column, present)| {
            let column = column.as_ref();
            let wanted = if present == 0 { count } else { present };
            if column.is_empty() && wanted == 0 {
                Vec::new()
            } else {
                column.split('\n').collect()
            }
        })
        .collect();
    table_rows(count, &cells, rows, min_ditto)
}

/// For each of `texts`, the indexes `i >= starts[t]` (ascending) of the `seeds` it contains.
/// A start past the end gives no indexes.
///
/// ```
/// let found = headroom_native::seeds_inside(&["ab", "b", "zz"], &["abc", "abc"], &[0, 1]);
/// assert_eq!(found, Some(vec![vec![0, 1], vec![1]]));
/// ```
///
/// Returns `None` when `starts` and `texts` differ in length.
#[must_use]
pub fn seeds_inside<S: AsRef<str>, T: AsRef<str>>(
    seeds: &[S],
    texts: &[T],
    starts: &[usize],
) -> Option<Vec<Vec<usize>>> {
    if starts.len() != texts.len() {
        return None;
    }
    // Most pairs differ: a seed holding a byte, or a pair of adjacent bytes, that the text
    // lacks cannot be inside it, which a few word operations tell.
    let seed_marks: Vec<Marks> = seeds.iter().map(|seed| Marks::of(seed.as_ref())).collect();
    Some(
        texts
            .iter()
            .zip(starts)
            .map(|(text, &start)| {
                let text = text.as_ref();
                let marks = Marks::of(text);
                seeds
                    .iter()
                    .zip(&seed_marks)
                    .enumerate()
                    .skip(start)
                    .filter(|(_, (seed, seed_marks))| {
                        seed_marks.within(&marks) && contains(text, seed.as_ref())
                    })
                    .map(|(index, _)| index)
                    .collect()
            })
            .collect(),
    )
}

/// Which byte values (modulo 64) and which pairs of adjacent bytes (hashed to 256) a text
/// has: a text can only contain a needle whose marks are all among its own.
struct Marks {
    bytes: u64,
    pairs: [u64; 4],
}

impl Marks {
    fn of(text: &str) -> Self {
        let text = text.as_bytes();
        let bytes = text.iter().fold(0, |marks, &b| marks | 1 << (b & 63));
        let mut pairs = [0; 4];
        for pair in text.windows(2) {
            let hash = usize::from(pair[0].wrapping_mul(31) ^ pair[1]);
            pairs[hash >> 6] |= 1 << (hash & 63);
        }
        Self { bytes, pairs }
    }

    /// Whether every mark of `self` is one of `other`'s.
    fn within(&self, other: &Self) -> bool {
        self.bytes & !other.bytes == 0
            && self
                .pairs
                .iter()
                .zip(&other.pairs)
                .all(|(mine, theirs)| mine & !theirs == 0)
    }
}

/// Whether `needle` occurs in `text`. Texts and needles here are short cell values, where
/// checking each position whose first and last bytes match beats setting up a two-way
/// search; a byte match of valid UTF-8 in valid UTF-8 starts at a character boundary.
fn contains(text: &str, needle: &str) -> bool {
    if text.len() > 256 {
        return text.contains(needle);
    }
    let (text, needle) = (text.as_bytes(), needle.as_bytes());
    let (Some(&first), Some(&last)) = (needle.first(), needle.last()) else {
        return true;
    };
    if needle.len() > text.len() {
        return false;
    }
    let width = needle.len();
    (0..=text.len() - width).any(|at| {
        text[at] == first && text[at + width - 1] == last && &text[at..at + width] == needle
    })
}

#[cfg(test)]
mod tests {
    use super::{
        contains, has_chars, is_text_bare, joined_table_rows, seeds_inside, string_column,
        table_rows, text_cells, Marks, RowsError,
    };

    #[test]
    fn a_count_no_memory_can_hold_is_an_error() {
        let columns = [vec!["a"], vec!["b"]];
        for count in [usize::MAX / 2 + 1, usize::MAX] {
            let rows = table_rows(count, &columns, &[vec![0], vec![0]], 6);
            assert!(matches!(rows, Err(RowsError::TooLarge { .. })), "{count}");
        }
    }

    fn rows(count: usize, columns: &[Vec<&str>], present: &[Vec<usize>]) -> String {
        table_rows(count, columns, present, 6).unwrap()
    }

    #[test]
    fn long_repeats_become_ditto_short_ones_stay() {
        let long = "abcdef";
        let columns = [vec![long, long, "abcde", "abcde", long]];
        assert_eq!(
            rows(5, &columns, &[vec![]]),
            "abcdef\n^\nabcde\nabcde\nabcdef"
        );
    }

    #[test]
    fn ditto_counts_characters_not_bytes() {
        let five = "ééééé"; // 10 bytes, 5 characters
        let six = "éééééé";
        let columns = [vec![five, five], vec![six, six]];
        assert_eq!(
            rows(2, &columns, &[vec![], vec![]]),
            "ééééé|éééééé\nééééé|^"
        );
    }

    #[test]
    fn sparse_columns_leave_empty_cells_and_repeat_only_adjacent_rows() {
        let cell = "abcdefgh";
        let columns = [vec!["1", "2", "3", "4"], vec![cell, cell, cell]];
        let present = [vec![], vec![0, 2, 3]];
        assert_eq!(
            rows(4, &columns, &present),
            "1|abcdefgh\n2|\n3|abcdefgh\n4|^"
        );
    }

    #[test]
    fn a_ditto_compares_with_the_cell_as_written_before_marking() {
        let cell = "abcdefgh";
        let columns = [vec![cell, cell, cell]];
        assert_eq!(rows(3, &columns, &[vec![]]), "abcdefgh\n^\n^");
    }

    #[test]
    fn no_columns_no_rows_and_empty_cells_keep_their_rows() {
        let none: [Vec<&str>; 0] = [];
        let no_rows: [Vec<usize>; 0] = [];
        assert_eq!(table_rows(3, &none, &no_rows, 6).unwrap(), "");
        assert_eq!(rows(2, &[vec!["", ""]], &[vec![]]), "\n");
    }

    #[test]
    fn mismatched_rows_are_errors() {
        let err = |count, columns: &[Vec<&str>], present: &[Vec<usize>]| {
            table_rows(count, columns, present, 6).unwrap_err()
        };
        assert_eq!(
            err(2, &[vec!["a", "b"]], &[]),
            RowsError::RowListCount {
                columns: 1,
                rows: 0
            }
        );
        assert_eq!(
            err(3, &[vec!["a", "b"]], &[vec![]]),
            RowsError::CellCount { column: 0 }
        );
        assert_eq!(
            err(3, &[vec!["a", "b"]], &[vec![1]]),
            RowsError::CellCount { column: 0 }
        );
        assert_eq!(
            err(3, &[vec!["a", "b"]], &[vec![2, 1]]),
            RowsError::BadRows { column: 0 }
        );
        assert_eq!(
            err(2, &[vec!["a"]], &[vec![2]]),
            RowsError::BadRows { column: 0 }
        );
        assert!(!RowsError::BadRows { column: 0 }.to_string().is_empty());
    }

    #[test]
    fn character_counts() {
        assert!(has_chars("", 0));
        assert!(has_chars("abc", 3));
        assert!(!has_chars("abc", 4));
        assert!(has_chars("日本語", 3));
        assert!(!has_chars("日本", 3));
    }

    #[test]
    fn text_bare_rules() {
        for text in ["2019", "true", "@x", "[a", "{a", "-1", "a b", "é", "^^"] {
            assert!(is_text_bare(text), "{text:?}");
        }
        for text in [
            "", " a", "a ", "^", "a|b", "a\"b", "a\\b", "a\nb", "a\u{7f}", "\u{0}",
        ] {
            assert!(!is_text_bare(text), "{text:?}");
        }
    }

    #[test]
    fn text_columns_only_when_some_cell_gains() {
        assert!(text_cells(&["a", "b c", "x|y", ""]).is_none());
        assert!(text_cells::<&str>(&[]).is_none());
        let cells = text_cells(&["null", "", "^", "é"]).unwrap();
        assert_eq!(cells, ["null", "\"\"", "\"^\"", "é"]);
    }

    #[test]
    fn a_string_column_says_whether_a_text_column_gains() {
        let (quoted, gains) = string_column(&["main", "x|y", "true"]);
        let literals = [(1, String::from("\"x|y\"")), (2, String::from("\"true\""))];
        assert_eq!(quoted, literals);
        assert!(gains);
        assert!(!string_column(&["main", "x|y", " a"]).1);
        assert_eq!(string_column::<&str>(&[]), (vec![], false));
    }

    #[test]
    fn joined_columns_split_at_newlines() {
        let rows = |count, columns: &[&str], present: &[Vec<usize>]| {
            joined_table_rows(count, columns, present, 6)
        };
        assert_eq!(
            rows(2, &["a\nb", "x"], &[vec![], vec![1]]).unwrap(),
            "a|\nb|x"
        );
        assert_eq!(
            rows(2, &["", "x\ny"], &[vec![1], vec![]]).unwrap(),
            "|x\n|y"
        );
        assert_eq!(rows(2, &["\n"], &[vec![]]).unwrap(), "\n");
        assert_eq!(rows(0, &[""], &[vec![]]).unwrap(), "");
        assert_eq!(
            rows(2, &["a\nb\nc"], &[vec![]]),
            Err(RowsError::CellCount { column: 0 })
        );
    }

    #[test]
    fn seeds_are_found_from_each_start() {
        let seeds = ["https://x/1", "1", "x", "é"];
        let texts = ["https://x/1/y", "é1", "none"];
        assert_eq!(
            seeds_inside(&seeds, &texts, &[0, 1, 9]),
            Some(vec![vec![0, 1, 2], vec![1, 3], vec![]])
        );
        assert_eq!(seeds_inside(&seeds, &texts, &[0]), None);
    }

    #[test]
    fn containment_in_short_and_long_texts() {
        let long = format!("{}needle{}", "é".repeat(200), "x".repeat(100));
        for text in ["needle", "a needle", "needles", long.as_str()] {
            assert!(contains(text, "needle"), "{text}");
            assert!(contains(text, ""), "{text}");
            assert!(!contains(text, "needlx"), "{text}");
        }
        assert!(!contains("need", "needle"));
        assert!(!contains("", "a"));
    }

    #[test]
    fn marks_never_rule_out_a_seed_that_is_inside() {
        let text = "https://github.com/o/r/pull/1304.diff é😀";
        for (at, _) in text.char_indices() {
            for (end, _) in text[at..].char_indices().skip(1) {
                let seed = &text[at..at + end];
                assert!(Marks::of(seed).within(&Marks::of(text)), "{seed}");
            }
        }
        assert!(!Marks::of("zz").within(&Marks::of(text)));
        assert!(!Marks::of("ba").within(&Marks::of("ab")));
    }
}
