//! The values of the variables of chosen templates.
//!
//! [`variable_values`] answers "which values does this template's variable take, and how
//! often?" for a few templates, without turning every line's values into Python objects. For
//! each wanted template id, and each token index where a line with that id has a variable
//! token (see the crate documentation), it lists the distinct values in order of first
//! appearance with the number of lines that have each. A list stops growing at
//! `max_values + 1` values, so a longer list than `max_values` means "more than
//! `max_values`"; values already listed keep being counted.

use std::fmt;

use crate::hash::FxHashMap;
use crate::Tokens;

/// Why [`variable_values`] refused its input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValuesError {
    /// `lines` and `line_templates` must have the same length.
    LengthMismatch {
        /// Number of lines.
        lines: usize,
        /// Number of template ids.
        line_templates: usize,
    },
}

impl fmt::Display for ValuesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValuesError::LengthMismatch {
                lines,
                line_templates,
            } => write!(
                f,
                "lines and line_templates must have the same length \
                 (got {lines} and {line_templates})"
            ),
        }
    }
}

impl std::error::Error for ValuesError {}

/// The distinct values at one token index, with counts, in order of first appearance.
pub type ValueCounts = Vec<(String, usize)>;

#[derive(Default)]
struct Position<'a> {
    values: Vec<(&'a str, usize)>,
    index: FxHashMap<&'a str, usize>,
}

/// For each template id in `wanted`, the values of its variables: `(token index, values)`
/// pairs in token order. See the [module documentation](self).
///
/// `line_templates[i]` is the template id of `lines[i]`, e.g. from
/// [`mine_templates`](crate::mine_templates). A wanted id that no line has gets an empty list.
///
/// # Errors
///
/// [`ValuesError::LengthMismatch`] unless `lines` and `line_templates` have the same length.
///
/// ```
/// let lines = ["user 1 failed on a", "ok", "user 2 failed on b", "user 1 failed on c"];
/// let values = headroom_native::variable_values(&lines, &[0, 1, 0, 0], &[0], 5).unwrap();
/// assert_eq!(values, [vec![(1, vec![("1".to_owned(), 2), ("2".to_owned(), 1)])]]);
/// ```
pub fn variable_values<S: AsRef<str>>(
    lines: &[S],
    line_templates: &[usize],
    wanted: &[usize],
    max_values: usize,
) -> Result<Vec<Vec<(usize, ValueCounts)>>, ValuesError> {
    if lines.len() != line_templates.len() {
        return Err(ValuesError::LengthMismatch {
            lines: lines.len(),
            line_templates: line_templates.len(),
        });
    }
    // Template id -> slot; a template wanted twice is computed once and reported twice.
    let mut slot_of: FxHashMap<usize, usize> = FxHashMap::default();
    for &template in wanted {
        let next = slot_of.len();
        slot_of.entry(template).or_insert(next);
    }
    let mut slots: Vec<FxHashMap<usize, Position<'_>>> = Vec::new();
    slots.resize_with(slot_of.len(), FxHashMap::default);
    for (line, template) in lines.iter().zip(line_templates) {
        let Some(&slot) = slot_of.get(template) else {
            continue;
        };
        let line = line.as_ref();
        for (index, token) in Tokens::new(line).enumerate() {
            if !token.variable {
                continue;
            }
            let value = &line[token.start..token.end];
            let position = slots[slot].entry(index).or_default();
            if let Some(&at) = position.index.get(value) {
                position.values[at].1 += 1;
            } else if position.values.len() <= max_values {
                position.index.insert(value, position.values.len());
                position.values.push((value, 1));
            }
        }
    }
    let finished: Vec<Vec<(usize, ValueCounts)>> = slots
        .into_iter()
        .map(|positions| {
            let mut positions: Vec<(usize, ValueCounts)> = positions
                .into_iter()
                .map(|(index, position)| {
                    let values = position
                        .values
                        .into_iter()
                        .map(|(value, count)| (value.to_owned(), count))
                        .collect();
                    (index, values)
                })
                .collect();
            positions.sort_unstable_by_key(|&(index, _)| index);
            positions
        })
        .collect();
    Ok(wanted
        .iter()
        .map(|template| {
            slot_of
                .get(template)
                .map_or_else(Vec::new, |&slot| finished[slot].clone())
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(values: &[(&str, usize)]) -> ValueCounts {
        values.iter().map(|&(v, n)| (v.to_owned(), n)).collect()
    }

    #[test]
    fn counts_values_per_token_index() {
        let lines = ["a 1 x /p/q", "b", "a 2 x /p/r", "a 1 x /p/q", "a 3 x /p/s"];
        let ids = [0, 1, 0, 0, 0];
        let got = variable_values(&lines, &ids, &[0, 1, 7, 0], 2).unwrap();
        let want_0 = vec![
            (1, owned(&[("1", 2), ("2", 1), ("3", 1)])),
            (3, owned(&[("/p/q", 2), ("/p/r", 1), ("/p/s", 1)])),
        ];
        assert_eq!(got, [want_0.clone(), vec![], vec![], want_0]);
    }

    #[test]
    fn a_full_list_keeps_counting_known_values() {
        let lines = ["v 1", "v 2", "v 3", "v 1", "v 4"];
        let got = variable_values(&lines, &[0; 5], &[0], 1).unwrap();
        assert_eq!(got, [vec![(1, owned(&[("1", 2), ("2", 1)]))]]);
        let got = variable_values(&lines, &[0; 5], &[0], 0).unwrap();
        assert_eq!(got, [vec![(1, owned(&[("1", 2)]))]]);
    }

    #[test]
    fn lengths_must_match() {
        let error = variable_values(&["a"], &[], &[0], 3).unwrap_err();
        assert_eq!(
            error,
            ValuesError::LengthMismatch {
                lines: 1,
                line_templates: 0
            }
        );
        assert!(error.to_string().contains("same length"));
        assert_eq!(
            variable_values::<&str>(&[], &[], &[], 3).unwrap(),
            Vec::<Vec<(usize, ValueCounts)>>::new()
        );
    }
}
