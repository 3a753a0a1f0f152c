//! PyO3 bindings: the extension module `headroom._native`.
//!
//! Only plain data crosses the boundary, except in `table_columns`, `leaf_columns`,
//! `record_texts` and `format_value`, which read JSON values as Python holds them, with the
//! GIL. Lists of strings are taken as `PyBackedStr`, which
//! borrows the UTF-8 text each Python `str` caches (no copy for ASCII strings) and is safe to
//! read from another thread; the kernel runs with the GIL released (`Python::detach`) and the
//! borrowed strings are dropped only after the GIL is re-acquired. Results are converted back
//! into Python objects with the GIL held. Python strings holding lone surrogates cannot be
//! converted to UTF-8: extracting them raises `UnicodeEncodeError`, which `headroom/_core.py`
//! handles by falling back to the pure-Python reference.

use pyo3::prelude::*;

/// Native hot loops of Headroom. Import `headroom._core`, never this module directly.
// The kernels share no mutable state and take only owned or borrowed-immutable data, so the
// module is declared safe to run without the GIL on free-threaded Python builds.
#[pymodule(gil_used = false)]
mod _native {
    use pyo3::exceptions::PyValueError;
    use pyo3::prelude::*;
    use pyo3::pybacked::{PyBackedBytes, PyBackedStr};
    use pyo3::types::PyString;
    use std::borrow::Cow;

    /// The version of the native crate (the single source of Headroom's version).
    #[pyfunction]
    fn version() -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    /// Mask one line: return its template and the variable tokens it replaced, in order.
    #[pyfunction]
    fn mask_line(py: Python<'_>, line: PyBackedStr) -> (String, Vec<String>) {
        py.detach(|| {
            let (template, values) = crate::mask_line(&line);
            let values = values.into_iter().map(str::to_owned).collect();
            (template, values)
        })
    }

    /// Mask many lines and return only their templates, in input order.
    #[pyfunction]
    fn mask_lines(py: Python<'_>, lines: Vec<PyBackedStr>) -> Vec<String> {
        py.detach(|| crate::mask_lines(&lines))
    }

    /// Group lines by template: the template id of each line (ids in order of first
    /// appearance) and the distinct templates in id order.
    #[pyfunction]
    fn group_templates(py: Python<'_>, lines: Vec<PyBackedStr>) -> (Vec<usize>, Vec<String>) {
        py.detach(|| crate::group_templates(&lines))
    }

    /// Group lines by template, with the first line and the line count of each template.
    #[pyfunction]
    fn mine_templates(
        py: Python<'_>,
        lines: Vec<PyBackedStr>,
    ) -> (Vec<usize>, Vec<String>, Vec<usize>, Vec<usize>) {
        let mined = py.detach(|| crate::mine_templates(&lines));
        (mined.ids, mined.templates, mined.first_lines, mined.counts)
    }

    /// Merge masked templates into clusters: the cluster id of each template and the
    /// template of each cluster.
    #[pyfunction]
    fn cluster_templates(
        py: Python<'_>,
        templates: Vec<PyBackedStr>,
        keys: Vec<PyBackedStr>,
        starts: Vec<usize>,
        min_values: usize,
    ) -> PyResult<(Vec<usize>, Vec<String>)> {
        let clusters = py
            .detach(|| crate::cluster_templates(&templates, &keys, &starts, min_values))
            .map_err(|error| PyValueError::new_err(error.to_string()))?;
        Ok((clusters.ids, clusters.templates))
    }

    /// For each wanted template id, the values of its variables: `(token index, [(value,
    /// count), ...])` pairs, at most `max_values + 1` values each.
    #[pyfunction]
    fn variable_values(
        py: Python<'_>,
        lines: Vec<PyBackedStr>,
        line_templates: Vec<usize>,
        wanted: Vec<usize>,
        max_values: usize,
    ) -> PyResult<Vec<Vec<(usize, crate::ValueCounts)>>> {
        py.detach(|| crate::variable_values(&lines, &line_templates, &wanted, max_values))
            .map_err(|error| PyValueError::new_err(error.to_string()))
    }

    /// BM25 (Okapi, as `rank_bm25.BM25Okapi`) score of each tokenized document for the
    /// tokenized query.
    #[pyfunction]
    fn bm25_okapi(
        py: Python<'_>,
        corpus: Vec<Vec<PyBackedStr>>,
        query: Vec<PyBackedStr>,
        k1: f64,
        b: f64,
        epsilon: f64,
    ) -> Vec<f64> {
        py.detach(|| crate::bm25_okapi(&corpus, &query, k1, b, epsilon))
    }

    /// The JSON document without the whitespace outside its string literals.
    #[pyfunction]
    fn json_strip(py: Python<'_>, document: PyBackedStr) -> String {
        py.detach(|| crate::json_strip(&document))
    }

    /// Whether `written` is `text` outside its string literals, with no number spelled as
    /// orjson and Python spell differently (see the crate's `json_same_outside_strings`).
    #[pyfunction]
    fn json_same_outside_strings(
        py: Python<'_>,
        text: PyBackedStr,
        written: PyBackedBytes,
    ) -> bool {
        py.detach(|| crate::json_same_outside_strings(&text, &written))
    }

    /// For each document, its length in word tokens and `(term index, occurrences)` of the
    /// terms it holds, or `None` if it is not ASCII (the caller counts it in Python).
    #[pyfunction]
    fn term_counts(
        py: Python<'_>,
        documents: Vec<PyBackedStr>,
        terms: Vec<PyBackedStr>,
    ) -> Vec<Option<crate::DocTerms>> {
        py.detach(|| crate::term_counts(&documents, &terms))
    }

    /// The word tokens of each text, or `None` for a text that is not ASCII.
    #[pyfunction]
    fn token_lists(py: Python<'_>, texts: Vec<PyBackedStr>) -> Vec<Option<Vec<String>>> {
        py.detach(|| crate::token_lists(&texts))
    }

    /// The table cell of each string: the string object itself when it is written bare,
    /// else its JSON literal.
    #[pyfunction]
    fn string_cells(py: Python<'_>, values: Vec<PyBackedStr>) -> Vec<Bound<'_, PyString>> {
        // The kernel borrows bare strings; only the literals of the others are kept.
        let literals = py.detach(|| literals_of(crate::string_cells(&values)));
        cells_back(py, &values, literals)
    }

    /// The rows of a table of `count` rows: each column's cells (joined by `\n`) in its rows
    /// (every row when its row list is empty), long repeats as `^`, cells joined by `|`,
    /// rows by `\n`.
    #[pyfunction]
    fn table_rows(
        py: Python<'_>,
        count: usize,
        columns: Vec<PyBackedStr>,
        rows: Vec<Vec<usize>>,
        min_ditto: usize,
    ) -> PyResult<String> {
        py.detach(|| crate::tables::joined_table_rows(count, &columns, &rows, min_ditto))
            .map_err(|error| PyValueError::new_err(error.to_string()))
    }

    /// The columns of a table of JSON records (dicts), nested objects flattened: `(path,
    /// rows, values)` each, or `None` when the records are better one column. Reads the
    /// Python values themselves, so it holds the GIL.
    #[pyfunction]
    fn table_columns<'py>(
        py: Python<'py>,
        records: &Bound<'py, pyo3::types::PyList>,
        rows: &Bound<'py, PyAny>,
        count: usize,
        max_depth: usize,
        max_keys: usize,
        max_cells_per_value: usize,
    ) -> PyResult<Option<Bound<'py, pyo3::types::PyList>>> {
        let limits = crate::columns::Limits {
            max_depth,
            max_keys,
            max_cells_per_value,
        };
        crate::columns::table_columns(py, records, rows, count, limits)
    }

    /// The scalar columns of an array's items (objects; other items are skipped): `(path,
    /// rows, values)` each. Reads the Python values themselves, so it holds the GIL.
    #[pyfunction]
    fn leaf_columns<'py>(
        py: Python<'py>,
        items: &Bound<'py, PyAny>,
        max_depth: usize,
    ) -> PyResult<Bound<'py, pyo3::types::PyList>> {
        crate::columns::leaf_columns(py, items, max_depth)
    }

    /// A JSON value written inline, a candidate table as `table_ref` refers to it (see
    /// `headroom.jsontables.syntax.format_value`); `dumps` writes what is not a plain JSON
    /// type (`raw_float`: its spelling), `encode_key` a key that is not a `str`. Reads the
    /// Python values themselves, so it holds the GIL.
    #[pyfunction]
    fn format_value<'py>(
        value: &Bound<'py, PyAny>,
        table_ref: &Bound<'py, PyAny>,
        raw_float: &Bound<'py, PyAny>,
        dumps: &Bound<'py, PyAny>,
        encode_key: &Bound<'py, PyAny>,
    ) -> PyResult<String> {
        crate::inline::Writer {
            table_ref,
            raw_float,
            dumps,
            encode_key,
        }
        .write(value)
    }

    /// Each item's scalar values, space-separated, for text matching. Reads the Python
    /// values themselves, so it holds the GIL.
    #[pyfunction]
    fn record_texts<'py>(
        py: Python<'py>,
        items: &Bound<'py, PyAny>,
        max_depth: usize,
    ) -> PyResult<Bound<'py, pyo3::types::PyList>> {
        crate::columns::record_texts(py, items, max_depth)
    }

    /// The strings that need quotes in a cell: their indexes and JSON literals; and whether
    /// a text column of the strings would gain.
    #[pyfunction]
    fn string_column(py: Python<'_>, values: Vec<PyBackedStr>) -> (Vec<usize>, Vec<String>, bool) {
        py.detach(|| {
            let (quoted, gains) = crate::tables::string_column(&values);
            let (indexes, literals) = quoted.into_iter().unzip();
            (indexes, literals, gains)
        })
    }

    /// The cells of a text column of these strings, or `None` when no cell would gain.
    #[pyfunction]
    fn text_cells(py: Python<'_>, values: Vec<PyBackedStr>) -> Option<Vec<Bound<'_, PyString>>> {
        let literals = py.detach(|| crate::text_cells(&values).map(literals_of));
        literals.map(|literals| cells_back(py, &values, literals))
    }

    /// The owned cells of a kernel's answer; `None` where it borrowed the input string.
    fn literals_of(cells: Vec<Cow<'_, str>>) -> Vec<Option<String>> {
        cells
            .into_iter()
            .map(|cell| match cell {
                Cow::Borrowed(_) => None,
                Cow::Owned(literal) => Some(literal),
            })
            .collect()
    }

    /// Python strings for cells: the input string object itself where the kernel borrowed
    /// it (no copy), a new string for each literal.
    fn cells_back<'py>(
        py: Python<'py>,
        values: &[PyBackedStr],
        literals: Vec<Option<String>>,
    ) -> Vec<Bound<'py, PyString>> {
        values
            .iter()
            .zip(literals)
            .map(|(value, literal)| match literal {
                None => {
                    let Ok(same) = value.into_pyobject(py);
                    same
                }
                Some(literal) => PyString::new(py, &literal),
            })
            .collect()
    }

    /// For each text, the indexes from its start on of the seeds it contains.
    #[pyfunction]
    fn seeds_inside(
        py: Python<'_>,
        seeds: Vec<PyBackedStr>,
        texts: Vec<PyBackedStr>,
        starts: Vec<usize>,
    ) -> PyResult<Vec<Vec<usize>>> {
        py.detach(|| crate::seeds_inside(&seeds, &texts, &starts))
            .ok_or_else(|| PyValueError::new_err("texts and starts differ in length"))
    }

    /// SimHash fingerprint of each text (64-bit, as an unsigned int).
    #[pyfunction]
    fn simhashes(py: Python<'_>, texts: Vec<PyBackedStr>) -> Vec<u64> {
        py.detach(|| crate::simhashes(&texts))
    }

    /// A BPE vocabulary that counts tokens exactly as tiktoken's `encode_ordinary` does.
    #[pyclass(frozen)]
    struct BpeCounter {
        vocabulary: std::sync::Arc<crate::bpe::Vocabulary>,
    }

    /// Counting a text's chunks on background threads (see `crate::bpe::Counting`).
    #[pyclass(frozen)]
    struct Counting {
        counting: std::sync::Arc<crate::bpe::Counting>,
    }

    #[pymethods]
    impl Counting {
        /// `(count, True)` when the text has at most `bound` tokens (or was counted whole),
        /// else `(part, False)` with `bound < part`; counting stops there. The calling thread
        /// helps count, with the GIL released.
        fn at_least(&self, py: Python<'_>, bound: usize) -> (usize, bool) {
            py.detach(|| self.counting.at_least(bound))
        }

        /// The whole count (the calling thread helps, with the GIL released).
        fn total(&self, py: Python<'_>) -> usize {
            py.detach(|| self.counting.at_least(usize::MAX).0)
        }

        /// Counts no further chunk.
        fn stop(&self) {
            self.counting.stop();
        }
    }

    #[pymethods]
    impl BpeCounter {
        /// `ranks`: every token's bytes with its rank; `pattern`: `"o200k_base"` or
        /// `"cl100k_base"`, the encoding whose pattern cuts text into pieces.
        #[new]
        fn new(ranks: Vec<(PyBackedBytes, u32)>, pattern: &str) -> PyResult<Self> {
            let pattern = match pattern {
                "o200k_base" => crate::bpe::Pattern::O200k,
                "cl100k_base" => crate::bpe::Pattern::Cl100k,
                other => {
                    return Err(PyValueError::new_err(format!(
                        "no pattern for encoding {other:?}; known: o200k_base, cl100k_base"
                    )))
                }
            };
            let ranks = ranks.iter().map(|(token, rank)| (token.to_vec(), *rank));
            Ok(BpeCounter {
                vocabulary: std::sync::Arc::new(crate::bpe::Vocabulary::new(ranks, pattern)),
            })
        }

        /// Starts counting the chunks of a text on `threads` threads of its own, or, when
        /// `threads` is 0, on the one background thread all such countings share. Each chunk
        /// is counted in parts of about `part` bytes, cut where the counts add up exactly
        /// (`bpe::exact_parts`), so that the threads share a long chunk.
        #[pyo3(signature = (chunks, threads, part = 16384))]
        fn counting(&self, chunks: Vec<PyBackedStr>, threads: usize, part: usize) -> Counting {
            let chunks = chunks
                .iter()
                .flat_map(|chunk| crate::bpe::exact_parts(chunk, part))
                .map(str::to_owned)
                .collect();
            let vocabulary = std::sync::Arc::clone(&self.vocabulary);
            let counting = if threads == 0 {
                crate::bpe::Counting::queue(vocabulary, chunks)
            } else {
                crate::bpe::Counting::start(vocabulary, chunks, threads)
            };
            Counting { counting }
        }

        /// How many tokens `encode_ordinary` makes of `text`.
        fn count(&self, py: Python<'_>, text: PyBackedStr) -> usize {
            py.detach(|| self.vocabulary.count(&text))
        }

        /// The token ids `encode_ordinary` makes of `text`.
        fn encode(&self, py: Python<'_>, text: PyBackedStr) -> Vec<u32> {
            py.detach(|| self.vocabulary.encode(&text))
        }

        /// The pieces the encoding's pattern cuts `text` into.
        fn pieces(&self, text: PyBackedStr) -> Vec<String> {
            self.vocabulary
                .pieces(&text)
                .into_iter()
                .map(str::to_owned)
                .collect()
        }
    }
}
