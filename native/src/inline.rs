//! Inline JSON of a Python value, with references to tables: the rules of
//! `headroom.jsontables.syntax.format_value`, which the tests compare it with. It reads the
//! Python values themselves, so it runs with the GIL held.
//!
//! Exact lists, dicts, strings, ints, floats, booleans and `None` are written here; a value of
//! any other type (subclasses, `RawFloat` aside) is written by the Python `dumps` given, and a
//! key that is not exactly a string by the Python `encode_key` given, so that errors are
//! Python's too. A container of two or more items whose first item is a dict is a candidate
//! table: `table_ref` is asked for it (a reference, or `None` to write it inline); any other
//! container is inline.

use crate::cells::push_json_string;
use pyo3::exceptions::PyRecursionError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString};
use std::fmt::Write;

/// Nesting deeper than this is left to the Python writer (whose recursion limit then
/// decides): the Rust stack is not spent on it.
const MAX_DEPTH: usize = 400;

/// What the writer calls back: the table references, and the Python writers of what it
/// does not write itself.
pub(crate) struct Writer<'a, 'py> {
    pub table_ref: &'a Bound<'py, PyAny>,
    pub raw_float: &'a Bound<'py, PyAny>,
    pub dumps: &'a Bound<'py, PyAny>,
    pub encode_key: &'a Bound<'py, PyAny>,
}

impl<'py> Writer<'_, 'py> {
    /// `value` written inline.
    pub fn write(&self, value: &Bound<'py, PyAny>) -> PyResult<String> {
        let mut out = String::new();
        self.value(value, 0, &mut out)?;
        Ok(out)
    }

    fn value(&self, value: &Bound<'py, PyAny>, depth: usize, out: &mut String) -> PyResult<()> {
        if depth > MAX_DEPTH {
            return Err(PyRecursionError::new_err(
                "nested too deep for the native writer",
            ));
        }
        if let Ok(text) = value.cast_exact::<PyString>() {
            push_json_string(out, text.to_str()?);
        } else if let Ok(list) = value.cast_exact::<PyList>() {
            let candidate = list.len() >= 2 && list.get_item(0)?.is_exact_instance_of::<PyDict>();
            if candidate && self.reference(value, out)? {
                return Ok(());
            }
            out.push('[');
            // By index, as Python's list iterator reads it: a callback may change the list.
            let mut index = 0;
            while index < list.len() {
                if index > 0 {
                    out.push(',');
                }
                self.value(&list.get_item(index)?, depth + 1, out)?;
                index += 1;
            }
            out.push(']');
        } else if let Ok(dict) = value.cast_exact::<PyDict>() {
            let candidate = dict.len() >= 2
                && dict
                    .iter()
                    .next()
                    .is_some_and(|(_, first)| first.is_exact_instance_of::<PyDict>());
            if candidate && self.reference(value, out)? {
                return Ok(());
            }
            out.push('{');
            // From a snapshot of its items: a callback may change the dict, which is then
            // Python's error (crate::columns::unchanged).
            let items = dict.items();
            for (index, pair) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                let (key, item): (Bound<'py, PyAny>, Bound<'py, PyAny>) = pair.extract()?;
                match key.cast_exact::<PyString>() {
                    Ok(key) => push_json_string(out, key.to_str()?),
                    Err(_) => out.push_str(&self.encode_key.call1((key,))?.extract::<String>()?),
                }
                out.push(':');
                self.value(&item, depth + 1, out)?;
                crate::columns::unchanged(Some(dict), items.len())?;
            }
            out.push('}');
        } else if value.is_exact_instance_of::<PyBool>() {
            out.push_str(if value.is_truthy()? { "true" } else { "false" });
        } else if value.is_none() {
            out.push_str("null");
        } else if value.is_exact_instance_of::<PyInt>() {
            match value.extract::<i64>() {
                Ok(number) => {
                    let _ = write!(out, "{number}"); // writing to a String cannot fail
                }
                Err(_) => out.push_str(value.repr()?.to_str()?),
            }
        } else if value.get_type().is(self.raw_float) {
            out.push_str(&value.getattr("spelling")?.extract::<String>()?);
        } else if value.is_exact_instance_of::<PyFloat>()
            && value.extract::<f64>().is_ok_and(f64::is_finite)
        {
            out.push_str(value.repr()?.to_str()?);
        } else {
            out.push_str(&self.dumps.call1((value,))?.extract::<String>()?);
        }
        Ok(())
    }

    /// Writes the table reference for `value` when `table_ref` gives one.
    fn reference(&self, value: &Bound<'py, PyAny>, out: &mut String) -> PyResult<bool> {
        let found = self.table_ref.call1((value,))?;
        if found.is_none() {
            return Ok(false);
        }
        out.push_str(&found.extract::<String>()?);
        Ok(true)
    }
}
