//! PyO3 bindings: the extension module `headroom._native`.
//!
//! Only plain data crosses the boundary. Arguments are copied into owned Rust values while
//! the GIL is held, the kernel runs with the GIL released (`Python::detach`), and the results
//! are converted back into Python objects once the GIL is re-acquired. Python strings holding
//! lone surrogates cannot be converted to UTF-8: extracting them raises `UnicodeEncodeError`,
//! which `headroom/_core.py` handles by falling back to the pure-Python reference.

use pyo3::prelude::*;

/// Native hot loops of Headroom. Import `headroom._core`, never this module directly.
#[pymodule]
mod _native {
    use pyo3::prelude::*;

    /// The version of the native crate (the single source of Headroom's version).
    #[pyfunction]
    fn version() -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    /// Mask one line: return its template and the variable tokens it replaced, in order.
    #[pyfunction]
    fn mask_line(py: Python<'_>, line: String) -> (String, Vec<String>) {
        py.detach(move || {
            let (template, values) = crate::mask_line(&line);
            let values = values.into_iter().map(str::to_owned).collect();
            (template, values)
        })
    }

    /// Mask many lines and return only their templates, in input order.
    #[pyfunction]
    fn mask_lines(py: Python<'_>, lines: Vec<String>) -> Vec<String> {
        py.detach(move || crate::mask_lines(&lines))
    }

    /// Group lines by template: the template id of each line (ids in order of first
    /// appearance) and the distinct templates in id order.
    #[pyfunction]
    fn group_templates(py: Python<'_>, lines: Vec<String>) -> (Vec<usize>, Vec<String>) {
        py.detach(move || crate::group_templates(&lines))
    }
}
