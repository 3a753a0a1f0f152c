//! Okapi BM25 scoring, exactly as `rank_bm25.BM25Okapi` computes it.
//!
//! The documents and the query arrive already tokenized; the tokenizer lives in Python.
//! Floating-point operations happen in the same order as in `headroom/_reference.py`
//! (average idf summed in order of first appearance, scores summed over the query tokens in
//! order), so the two agree to the last bit on every platform with IEEE doubles.

use crate::hash::FxHashMap;

/// BM25 score of each document of `corpus` for `query`.
///
/// `idf(w) = ln(N - n(w) + 0.5) - ln(n(w) + 0.5)`; a negative idf becomes
/// `epsilon * average idf`; `score(d) = Σ_q idf(q) · tf · (k1 + 1) / (tf + k1 · (1 - b + b ·
/// |d| / avgdl))`. An empty corpus, or one with only empty documents, scores all zeros.
///
/// ```
/// let scores = headroom_native::bm25_okapi(&[vec!["a", "b"], vec!["b"], vec!["c"]], &["a"], 1.5, 0.75, 0.25);
/// assert!((scores[0] - 0.417_000_509_196_727_15).abs() < 1e-12);
/// assert_eq!(&scores[1..], &[0.0, 0.0]);
/// ```
#[must_use]
pub fn bm25_okapi<D: AsRef<[S]>, S: AsRef<str>, Q: AsRef<str>>(
    corpus: &[D],
    query: &[Q],
    k1: f64,
    b: f64,
    epsilon: f64,
) -> Vec<f64> {
    let n_docs = corpus.len();
    let total: usize = corpus.iter().map(|d| d.as_ref().len()).sum();
    if n_docs == 0 || total == 0 {
        return vec![0.0; n_docs];
    }
    // Only the query's words need term frequencies; every word needs a document frequency
    // (for the average idf).
    let mut word_ids: FxHashMap<&str, usize> = FxHashMap::default();
    let mut nd: Vec<usize> = Vec::new();
    let mut last_doc: Vec<usize> = Vec::new();
    for (i, document) in corpus.iter().enumerate() {
        for word in document.as_ref() {
            let next = word_ids.len();
            let id = *word_ids.entry(word.as_ref()).or_insert(next);
            if id == nd.len() {
                nd.push(0);
                last_doc.push(usize::MAX);
            }
            if last_doc[id] != i {
                last_doc[id] = i;
                nd[id] += 1;
            }
        }
    }
    let n = n_docs as f64;
    let mut idf: Vec<f64> = Vec::with_capacity(nd.len());
    let mut idf_sum = 0.0;
    for &freq in &nd {
        let f = freq as f64;
        let value = (n - f + 0.5).ln() - (f + 0.5).ln();
        idf_sum += value;
        idf.push(value);
    }
    let eps = epsilon * (idf_sum / idf.len() as f64);
    for value in &mut idf {
        if *value < 0.0 {
            *value = eps;
        }
    }
    let avgdl = total as f64 / n;
    let norms: Vec<f64> = corpus
        .iter()
        .map(|d| k1 * (1.0 - b + b * d.as_ref().len() as f64 / avgdl))
        .collect();
    let mut scores = vec![0.0; n_docs];
    let mut tf = vec![0usize; n_docs];
    for q in query {
        let q = q.as_ref();
        let weight = word_ids.get(q).map_or(0.0, |&id| idf[id]);
        for (count, document) in tf.iter_mut().zip(corpus) {
            *count = document.as_ref().iter().filter(|w| w.as_ref() == q).count();
        }
        for ((score, &count), &norm) in scores.iter_mut().zip(&tf).zip(&norms) {
            if count == 0 {
                continue; // adds nothing, and would be 0/0 when k1 == 0
            }
            let t = count as f64;
            *score += weight * (t * (k1 + 1.0) / (t + norm));
        }
    }
    scores
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_inputs() {
        let empty: &[Vec<&str>] = &[];
        assert!(bm25_okapi(empty, &["a"], 1.5, 0.75, 0.25).is_empty());
        assert_eq!(
            bm25_okapi(&[Vec::<&str>::new(), vec![]], &["a"], 1.5, 0.75, 0.25),
            [0.0, 0.0]
        );
        assert_eq!(
            bm25_okapi(&[vec!["a"], vec!["b"]], &[] as &[&str], 1.5, 0.75, 0.25),
            [0.0, 0.0]
        );
    }

    #[test]
    fn repeated_query_terms_count_twice() {
        let corpus = [vec!["x", "y"], vec!["y"], vec!["z"], vec!["w"]];
        let once = bm25_okapi(&corpus, &["x"], 1.5, 0.75, 0.25);
        let twice = bm25_okapi(&corpus, &["x", "x"], 1.5, 0.75, 0.25);
        assert!((twice[0] - 2.0 * once[0]).abs() < 1e-12);
        assert!(once[0] > 0.0);
    }

    #[test]
    fn negative_idf_becomes_epsilon_times_average() {
        // "a" is in every document: its raw idf is negative.
        let corpus = [vec!["a", "b"], vec!["a", "c"], vec!["a"]];
        let scores = bm25_okapi(&corpus, &["a"], 1.5, 0.75, 0.25);
        let raw = |f: f64| (3.0 - f + 0.5_f64).ln() - (f + 0.5_f64).ln();
        let average = (raw(3.0) + raw(1.0) + raw(1.0)) / 3.0;
        let norm = 1.5 * (1.0 - 0.75 + 0.75 * 2.0 / (5.0 / 3.0));
        let want = 0.25 * average * (2.5 / (1.0 + norm));
        assert!((scores[0] - want).abs() < 1e-12);
    }
}
