//! The columns of JSON records, read from the Python objects themselves (the kernels that
//! walk Python values, so they run with the GIL held): a table's columns, by the rules of
//! `headroom._reference.table_columns`, and an array's scalar columns, by those of
//! `headroom._reference.leaf_columns`, and an item's text for matching, by those of
//! `headroom._reference.record_texts`. The tests compare them with the references.
//!
//! Records are read once, item by item, and each key's rows and values collected in order of
//! first appearance; a key that every record has keeps the row list of its records, so the
//! columns flattened from one nested object share their row list.

use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
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
    let Some(columns) = flatten(&dicts, &rows, count, &[], 0, limits)? else {
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

/// A key's rows and values so far (the key is its `Keys` entry of the same number).
#[derive(Default)]
struct Collected<'py> {
    rows: Vec<usize>,
    values: Vec<Bound<'py, PyAny>>,
}

fn flatten<'py>(
    records: &[Bound<'py, PyDict>],
    rows: &Rc<Rows<'py>>,
    count: usize,
    prefix: &[Bound<'py, PyAny>],
    depth: usize,
    limits: Limits,
) -> PyResult<Option<Vec<Column<'py>>>> {
    let mut keys = Keys::default();
    let mut collected: Vec<Collected<'py>> = Vec::new();
    for (record, &row) in records.iter().zip(&rows.numbers) {
        for (key, value) in record.iter() {
            let place = keys.place(&key)?;
            if place == collected.len() {
                collected.push(Collected::default());
            }
            let found = &mut collected[place];
            found.rows.push(row);
            found.values.push(value);
        }
    }
    if depth > 0 && collected.len() > limits.max_keys {
        return Ok(None);
    }
    let mut columns: Vec<Column<'py>> = Vec::new();
    for (
        key,
        Collected {
            rows: key_rows,
            values,
        },
    ) in keys.known.into_iter().zip(collected)
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
                inner = flatten(&nested, &key_rows, count, &path, depth + 1, limits)?;
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

/// Keys numbered in order of first appearance; equal keys are found as a Python dict finds
/// them (identity, then hash and `==`), and the same key object (JSON parsers share key
/// strings) by its address first.
#[derive(Default)]
struct Keys<'py> {
    known: Vec<Bound<'py, PyAny>>,
    by_address: HashMap<usize, usize, BuildHasherDefault<AddressHasher>>,
    by_hash: HashMap<isize, Vec<usize>>,
    /// Every other key object whose address is in `by_address`, held so that its address
    /// cannot name another object (items from an iterator may be freed as they are read).
    aliases: Vec<Bound<'py, PyAny>>,
}

impl<'py> Keys<'py> {
    /// The number of `key`: the number of keys known before it when it is new.
    fn place(&mut self, key: &Bound<'py, PyAny>) -> PyResult<usize> {
        let address = key.as_ptr() as usize;
        if let Some(&place) = self.by_address.get(&address) {
            return Ok(place);
        }
        let places = self.by_hash.entry(key.hash()?).or_default();
        let mut found = None;
        for &place in places.iter() {
            let known = &self.known[place];
            if known.is(key) || known.eq(key)? {
                found = Some(place);
                break;
            }
        }
        let place = match found {
            Some(place) => {
                self.aliases.push(key.clone());
                place
            }
            None => {
                places.push(self.known.len());
                self.known.push(key.clone());
                self.known.len() - 1
            }
        };
        self.by_address.insert(address, place);
        Ok(place)
    }
}

/// Hashes an object's address (kept alive by its record while it is a key here).
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 << 8 | u64::from(byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_usize(&mut self, address: usize) {
        // Objects are 16-byte aligned: the low bits say nothing.
        self.0 = ((address >> 4) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
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

/// A path under which records hold objects: the leaf columns and the objects found there.
struct Node<'py> {
    path: Vec<Bound<'py, PyAny>>,
    leaves: Keys<'py>,
    leaf_columns: Vec<usize>,
    objects: Keys<'py>,
    object_nodes: Vec<usize>,
}

impl<'py> Node<'py> {
    fn new(path: Vec<Bound<'py, PyAny>>) -> Self {
        Node {
            path,
            leaves: Keys::default(),
            leaf_columns: Vec::new(),
            objects: Keys::default(),
            object_nodes: Vec::new(),
        }
    }
}

/// A scalar column: its path, its rows and its values.
type Leaf<'py> = (Vec<Bound<'py, PyAny>>, Vec<usize>, Vec<Bound<'py, PyAny>>);

/// The scalar columns of an array's items (see `headroom._reference.leaf_columns`):
/// `(path, rows, values)` each, in order of first appearance, record by record.
pub(crate) fn leaf_columns<'py>(
    py: Python<'py>,
    items: &Bound<'py, PyAny>,
    max_depth: usize,
) -> PyResult<Bound<'py, PyList>> {
    let mut nodes = vec![Node::new(Vec::new())];
    let mut columns: Vec<Leaf<'py>> = Vec::new();
    for (row, item) in items.try_iter()?.enumerate() {
        let item = item?;
        if let Ok(record) = item.cast_exact::<PyDict>() {
            walk(record, 0, 0, row, max_depth, &mut nodes, &mut columns)?;
        }
    }
    let out = PyList::empty(py);
    for (path, rows, values) in columns {
        let path = PyTuple::new(py, path)?;
        out.append((path, PyList::new(py, rows)?, PyList::new(py, values)?))?;
    }
    Ok(out)
}

/// Adds the scalars of `record` (row `row`) under node `node`; a new column is appended to
/// `columns`.
fn walk<'py>(
    record: &Bound<'py, PyDict>,
    node: usize,
    depth: usize,
    row: usize,
    max_depth: usize,
    nodes: &mut Vec<Node<'py>>,
    columns: &mut Vec<Leaf<'py>>,
) -> PyResult<()> {
    for (key, value) in record.iter() {
        if value.is_none()
            || value.is_instance_of::<PyString>()
            || value.is_instance_of::<PyInt>()
            || value.is_instance_of::<PyFloat>()
        {
            let place = nodes[node].leaves.place(&key)?;
            if place == nodes[node].leaf_columns.len() {
                let mut path = nodes[node].path.clone();
                path.push(key);
                columns.push((path, Vec::new(), Vec::new()));
                nodes[node].leaf_columns.push(columns.len() - 1);
            }
            let column = &mut columns[nodes[node].leaf_columns[place]];
            column.1.push(row);
            column.2.push(value);
        } else if let Ok(inner) = value.cast_exact::<PyDict>() {
            if inner.is_empty() || depth >= max_depth {
                continue;
            }
            let place = nodes[node].objects.place(&key)?;
            if place == nodes[node].object_nodes.len() {
                let mut path = nodes[node].path.clone();
                path.push(key);
                nodes.push(Node::new(path));
                let child = nodes.len() - 1;
                nodes[node].object_nodes.push(child);
            }
            let child = nodes[node].object_nodes[place];
            walk(inner, child, depth + 1, row, max_depth, nodes, columns)?;
        }
    }
    Ok(())
}

/// Each item's scalar values (keys aside), space-separated, for text matching (see
/// `headroom._reference.record_texts`, the rules this follows): a string as it
/// is, an int in decimal, a float as Python's `str` writes it, `""` for null, a boolean and
/// an empty container, nothing read deeper than `max_depth`.
pub(crate) fn record_texts<'py>(
    py: Python<'py>,
    items: &Bound<'py, PyAny>,
    max_depth: usize,
) -> PyResult<Bound<'py, PyList>> {
    let space = PyString::new(py, " ");
    let empty = PyString::new(py, "").into_any();
    let out = PyList::empty(py);
    for item in items.try_iter()? {
        let parts = PyList::empty(py);
        scalar_texts(&item?, 0, max_depth, &empty, &parts)?;
        out.append(space.call_method1("join", (parts,))?)?;
    }
    Ok(out)
}

fn scalar_texts<'py>(
    value: &Bound<'py, PyAny>,
    depth: usize,
    max_depth: usize,
    empty: &Bound<'py, PyAny>,
    parts: &Bound<'py, PyList>,
) -> PyResult<()> {
    let py = value.py();
    if depth > max_depth {
        return parts.append(empty);
    }
    let (items, dict) = if let Ok(dict) = value.cast_exact::<PyDict>() {
        (dict.values(), Some(dict))
    } else if let Ok(list) = value.cast_exact::<PyList>() {
        (list.clone(), None)
    } else if value.is_instance_of::<PyDict>() {
        // A subclass, read as the dict Python makes of it.
        let copy = py.get_type::<PyDict>().call1((value,))?;
        return scalar_texts(&copy, depth, max_depth, empty, parts);
    } else if value.is_instance_of::<PyList>() {
        let copy = py.get_type::<PyList>().call1((value,))?;
        return scalar_texts(&copy, depth, max_depth, empty, parts);
    } else if value.is_instance_of::<PyString>() {
        return parts.append(value);
    } else if value.is_none() || value.is_instance_of::<PyBool>() {
        return parts.append(empty);
    } else {
        return parts.append(value.str()?);
    };
    if items.is_empty() {
        parts.append(empty)?;
    }
    if depth + 1 > max_depth {
        for _ in 0..items.len() {
            parts.append(empty)?;
        }
        return Ok(());
    }
    for item in items.iter() {
        if item.is_exact_instance_of::<PyString>() {
            parts.append(&item)?;
        } else if item.is_none() || item.is_exact_instance_of::<PyBool>() {
            parts.append(empty)?;
        } else if item.is_exact_instance_of::<PyInt>() || item.is_instance_of::<PyFloat>() {
            parts.append(item.str()?)?;
        } else {
            scalar_texts(&item, depth + 1, max_depth, empty, parts)?;
        }
    }
    unchanged(dict, items.len())
}

/// Python's error when a dict read from a snapshot of its items changed size meanwhile (a
/// `str()` or a callback may run Python code), as iterating it in Python raises.
pub(crate) fn unchanged(dict: Option<&Bound<'_, PyDict>>, read: usize) -> PyResult<()> {
    match dict {
        Some(dict) if dict.len() != read => Err(PyRuntimeError::new_err(
            "dictionary changed size during iteration",
        )),
        _ => Ok(()),
    }
}
