//! The columns of a table of JSON records, read from the Python objects themselves (the one
//! kernel that walks Python values, so it runs with the GIL held). The rules are those of
//! `headroom._reference.table_columns`, which the tests compare it with.
//!
//! Records are read once, item by item, and each key's rows and values collected in order of
//! first appearance; a key that every record has keeps the row list of its records, so the
//! columns flattened from one nested object share their row list.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use std::rc::Rc;

/// The limits of flattening (the encoder's constants).
#[derive(Clone, Copy)]
pub(crate) struct Limits {
    pub max_depth: usize,
    pub max_keys: usize,
    pub max_cells_per_value: usize,
}

/// The rows a column is present in: ascending record numbers, and the Python sequence given
/// for them when they are the caller's rows.
struct Rows<'py> {
    numbers: Vec<usize>,
    given: Option<Bound<'py, PyAny>>,
}

struct Column<'py> {
    path: Vec<Bound<'py, PyAny>>,
    rows: Rc<Rows<'py>>,
    values: Vec<Bound<'py, PyAny>>,
}

/// The columns of `records` (exact dicts) in `rows`, or `None` when, nested, they are better
/// one column (see `headroom._reference.table_columns`).
pub(crate) fn table_columns<'py>(
    py: Python<'py>,
    records: &Bound<'py, PyList>,
    rows: &Bound<'py, PyAny>,
    count: usize,
    limits: Limits,
) -> PyResult<Option<Bound<'py, PyList>>> {
    let numbers = rows
        .try_iter()?
        .map(|row| row.and_then(|row| row.extract::<usize>()))
        .collect::<PyResult<Vec<usize>>>()?;
    let dicts = records
        .iter()
        .map(|record| {
            record
                .cast_exact::<PyDict>()
                .cloned()
                .map_err(|_| PyTypeError::new_err("table_columns: every record must be a dict"))
        })
        .collect::<PyResult<Vec<_>>>()?;
    if numbers.len() != dicts.len() {
        return Err(PyValueError::new_err(
            "table_columns: rows and records differ in length",
        ));
    }
    let rows = Rc::new(Rows {
        numbers,
        given: Some(rows.clone()),
    });
    let Some(columns) = flatten(py, &dicts, &rows, count, &[], 0, limits)? else {
        return Ok(None);
    };
    let mut lists: Vec<(*const Rows<'py>, Bound<'py, PyAny>)> = Vec::new();
    let out = PyList::empty(py);
    for column in columns {
        let key = Rc::as_ptr(&column.rows);
        let rows = match lists.iter().find(|(seen, _)| *seen == key) {
            Some((_, list)) => list.clone(),
            None => {
                let list = match &column.rows.given {
                    Some(given) => given.clone(),
                    None => PyList::new(py, &column.rows.numbers)?.into_any(),
                };
                lists.push((key, list.clone()));
                list
            }
        };
        let path = PyTuple::new(py, &column.path)?;
        let values = PyList::new(py, &column.values)?;
        out.append((path, rows, values))?;
    }
    Ok(Some(out))
}

/// A key's place among the columns being collected, and its rows and values so far.
struct Collected<'py> {
    key: Bound<'py, PyAny>,
    rows: Vec<usize>,
    values: Vec<Bound<'py, PyAny>>,
}

fn flatten<'py>(
    py: Python<'py>,
    records: &[Bound<'py, PyDict>],
    rows: &Rc<Rows<'py>>,
    count: usize,
    prefix: &[Bound<'py, PyAny>],
    depth: usize,
    limits: Limits,
) -> PyResult<Option<Vec<Column<'py>>>> {
    // Keys by first appearance; equal keys found as Python finds them (hash and ==), with
    // the same object (JSON parsers share key strings) recognised by pointer first.
    let places = PyDict::new(py);
    let mut collected: Vec<Collected<'py>> = Vec::new();
    let mut last_seen: Vec<(*mut pyo3::ffi::PyObject, usize)> = Vec::new();
    for (record, &row) in records.iter().zip(&rows.numbers) {
        for (position, (key, value)) in record.iter().enumerate() {
            let pointer = key.as_ptr();
            let place = match last_seen.get(position) {
                Some(&(seen, place)) if seen == pointer => place,
                _ => {
                    let place = match places.get_item(&key)? {
                        Some(place) => place.extract::<usize>()?,
                        None => {
                            places.set_item(&key, collected.len())?;
                            collected.push(Collected {
                                key: key.clone(),
                                rows: Vec::new(),
                                values: Vec::new(),
                            });
                            collected.len() - 1
                        }
                    };
                    if position < last_seen.len() {
                        last_seen[position] = (pointer, place);
                    } else {
                        last_seen.push((pointer, place));
                    }
                    place
                }
            };
            let found = &mut collected[place];
            found.rows.push(row);
            found.values.push(value);
        }
    }
    if depth > 0 && collected.len() > limits.max_keys {
        return Ok(None);
    }
    let mut columns: Vec<Column<'py>> = Vec::new();
    for Collected {
        key,
        rows: key_rows,
        values,
    } in collected
    {
        let mut path = prefix.to_vec();
        path.push(key);
        // A key every record has keeps their rows (shared by its sub-columns).
        let key_rows = if key_rows.len() == rows.numbers.len() {
            Rc::clone(rows)
        } else {
            Rc::new(Rows {
                numbers: key_rows,
                given: None,
            })
        };
        let mut inner = None;
        if depth < limits.max_depth {
            let nested = values
                .iter()
                .map(|value| {
                    value
                        .cast_exact::<PyDict>()
                        .ok()
                        .filter(|dict| !dict.is_empty())
                        .cloned()
                })
                .collect::<Option<Vec<_>>>();
            if let Some(nested) = nested {
                inner = flatten(py, &nested, &key_rows, count, &path, depth + 1, limits)?;
            }
        }
        match inner {
            Some(inner) => columns.extend(inner),
            None => columns.push(Column {
                path,
                rows: key_rows,
                values,
            }),
        }
    }
    if depth > 0 && too_sparse(&columns, count, limits.max_cells_per_value) {
        return Ok(None);
    }
    Ok(Some(columns))
}

/// Whether columns of nested values would make a table mostly of empty cells (see
/// `headroom._reference.too_sparse`, unkeyed).
fn too_sparse(columns: &[Column<'_>], count: usize, max_cells_per_value: usize) -> bool {
    let shared: usize = columns
        .iter()
        .map(|column| column.rows.numbers.len())
        .filter(|&present| present > 1)
        .sum();
    count.saturating_mul(columns.len()) > max_cells_per_value.saturating_mul(shared)
}
