//! Template mining and Drain-style template clustering.
//!
//! # Mining
//!
//! [`mine_templates`] masks every line (see the crate documentation) and groups lines with the
//! same template. Template ids are `0, 1, 2, ...` in order of first appearance; for each
//! template it also reports the line where it first appears and how many lines have it.
//!
//! # Clustering
//!
//! Masking only hides values that contain a digit or look like a path, so lines that differ in
//! a word (a user name, a host name, a method) still get different templates.
//! [`cluster_templates`] merges such templates, in the spirit of the Drain log parser but
//! order-independent:
//!
//! 1. **Tokens.** Each template is cut into tokens as masking does. A token `*` written
//!    `<*>` is a *wildcard*, and its brackets belong to it rather than to the separators
//!    around it (so `user <*> in` and `user bob in` have the same separators); any other
//!    token, a lone `*` included, is a *literal*. `starts[i]`, clamped to the number of
//!    tokens, is the index of the first
//!    *content* token of template `i`: the tokens before it are the line's prefix (timestamp,
//!    level, thread, ...) and play no part in clustering. The *content text* is the template
//!    from its first content token to its end (empty without content tokens); the *content
//!    separators* are the separators that follow each content token.
//! 2. **Exact step.** Templates with the same key and the same content text form one *group*.
//!    Groups are numbered in order of first appearance.
//! 3. **Merge step.** For a group with content tokens `c[0..m]` and each position
//!    `p < min(m, HOLE_POSITIONS)` such that some token other than `c[p]` is a literal, the
//!    group belongs to the *hole* `(key, content separators, c with c[p] replaced by "*", p)`.
//!    When the groups of one hole have at least `min_values` distinct literal tokens at `p`,
//!    the position is a variable and every group of the hole (wildcards at `p` included) joins
//!    one cluster. Joining is transitive.
//! 4. **Clusters** are numbered by their first group. A cluster's template is the template
//!    that opened its first group, with the literal at every content position where the
//!    cluster's groups disagree replaced by `<*>`.
//!
//! Keys are opaque: templates with different keys never share a cluster. The requirement of
//! several distinct values keeps apart events that differ in a word taking few values
//! (`VM Paused` / `VM Resumed`), while a position taking many values (user names) merges.

use std::collections::HashSet;
use std::fmt;
use std::hash::BuildHasherDefault;

use crate::hash::{combine, hash_str, FxHashMap, FxHasher};
use crate::{mask_into, Token, Tokens, WILDCARD};

/// Content positions considered by the merge step; later positions never become variables.
///
/// This bounds the work and memory per template on very long lines.
pub const HOLE_POSITIONS: usize = 64;

/// Lines grouped by exact template, as returned by [`mine_templates`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mined {
    /// The template id of each line.
    pub ids: Vec<usize>,
    /// The distinct templates, in id order.
    pub templates: Vec<String>,
    /// For each template, the index of the first line that has it.
    pub first_lines: Vec<usize>,
    /// For each template, how many lines have it.
    pub counts: Vec<usize>,
}

/// Groups lines by template, with the first line and the number of lines of each template.
///
/// ```
/// let mined = headroom_native::mine_templates(&["a 1", "b", "a 2", "b"]);
/// assert_eq!(mined.ids, [0, 1, 0, 1]);
/// assert_eq!(mined.templates, ["a <*>", "b"]);
/// assert_eq!(mined.first_lines, [0, 1]);
/// assert_eq!(mined.counts, [2, 2]);
/// ```
#[must_use]
pub fn mine_templates<S: AsRef<str>>(lines: &[S]) -> Mined {
    let mut mined = Mined {
        ids: Vec::with_capacity(lines.len()),
        ..Mined::default()
    };
    // Hash of a template -> id of the first template with that hash; `same_hash` chains the
    // later ones. Templates are stored once, in `mined.templates`.
    let mut index: FxHashMap<u64, usize> = FxHashMap::default();
    let mut same_hash: Vec<usize> = Vec::new();
    let mut buffer = String::new();
    for (number, line) in lines.iter().enumerate() {
        buffer.clear();
        mask_into(line.as_ref(), &mut buffer, |_| {});
        let hash = hash_str(&buffer);
        let mut found = None;
        let mut candidate = index.get(&hash).copied();
        while let Some(id) = candidate {
            if mined.templates[id] == buffer {
                found = Some(id);
                break;
            }
            candidate = same_hash
                .get(id)
                .copied()
                .filter(|&next| next != usize::MAX);
        }
        let id = if let Some(id) = found {
            mined.counts[id] += 1;
            id
        } else {
            let id = mined.templates.len();
            match index.get(&hash).copied() {
                // Chain the new template behind the head of its hash bucket.
                Some(head) => {
                    same_hash.push(same_hash[head]);
                    same_hash[head] = id;
                }
                None => {
                    index.insert(hash, id);
                    same_hash.push(usize::MAX);
                }
            }
            mined.templates.push(buffer.clone());
            mined.first_lines.push(number);
            mined.counts.push(1);
            id
        };
        mined.ids.push(id);
    }
    mined
}

/// Why [`cluster_templates`] refused its input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClusterError {
    /// `templates`, `keys` and `starts` must have one entry per template.
    LengthMismatch {
        /// Number of templates.
        templates: usize,
        /// Number of keys.
        keys: usize,
        /// Number of starts.
        starts: usize,
    },
}

impl fmt::Display for ClusterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterError::LengthMismatch {
                templates,
                keys,
                starts,
            } => write!(
                f,
                "templates, keys and starts must have the same length \
                 (got {templates}, {keys} and {starts})"
            ),
        }
    }
}

impl std::error::Error for ClusterError {}

/// Templates grouped into clusters, as returned by [`cluster_templates`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Clusters {
    /// The cluster id of each template.
    pub ids: Vec<usize>,
    /// The template of each cluster, in id order.
    pub templates: Vec<String>,
}

/// A set of templates with the same key and content text.
struct Group<'a> {
    key: usize,
    /// The template that opened the group.
    text: &'a str,
    /// The content tokens of `text`.
    tokens: Vec<Token>,
}

/// The tokens of a template, with each wildcard widened to its brackets and flagged as
/// `variable`.
fn template_tokens(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    Tokens::new(text)
        .map(|token| {
            let wildcard = &bytes[token.start..token.end] == b"*"
                && token.start > 0
                && bytes[token.start - 1] == b'<'
                && bytes.get(token.end) == Some(&b'>');
            if wildcard {
                Token {
                    start: token.start - 1,
                    end: token.end + 1,
                    variable: true,
                }
            } else {
                Token {
                    variable: false,
                    ..token
                }
            }
        })
        .collect()
}

impl<'a> Group<'a> {
    fn is_wildcard(&self, j: usize) -> bool {
        self.tokens[j].variable
    }

    fn token(&self, j: usize) -> &'a str {
        let t = self.tokens[j];
        &self.text[t.start..t.end]
    }

    /// The separator after content token `j` (the rest of the text after the last one).
    fn separator(&self, j: usize) -> &'a str {
        let end = self.tokens.get(j + 1).map_or(self.text.len(), |t| t.start);
        &self.text[self.tokens[j].end..end]
    }

    /// Whether `self` and `other` fall into the same hole at position `p`.
    fn same_hole(&self, other: &Group<'_>, p: usize) -> bool {
        self.key == other.key
            && self.tokens.len() == other.tokens.len()
            && (0..self.tokens.len()).all(|j| {
                self.separator(j) == other.separator(j)
                    && (j == p || self.token(j) == other.token(j))
            })
    }
}

#[derive(Clone, Copy)]
struct HoleEntry {
    group: usize,
    p: usize,
}

/// Merges masked templates into clusters; see the [module documentation](self) for the rules.
///
/// `keys` and `starts` give, for each template, its key and the index of its first content
/// token. Templates whose position takes at least `min_values` distinct words are merged.
///
/// # Errors
///
/// [`ClusterError::LengthMismatch`] unless the three slices have the same length.
///
/// ```
/// let templates: Vec<String> = ["alice", "bob", "carol"]
///     .iter()
///     .map(|u| format!("<*> sshd: Invalid user {u} from <*>"))
///     .chain(["<*> sshd: Accepted password".to_owned()])
///     .collect();
/// let keys = ["sshd"; 4];
/// let starts = [2; 4]; // "<*> sshd:" is the prefix: tokens "*" and "sshd:"
/// let clusters = headroom_native::cluster_templates(&templates, &keys, &starts, 3).unwrap();
/// assert_eq!(clusters.ids, [0, 0, 0, 1]);
/// assert_eq!(clusters.templates[0], "<*> sshd: Invalid user <*> from <*>");
/// ```
pub fn cluster_templates<T: AsRef<str>, K: AsRef<str>>(
    templates: &[T],
    keys: &[K],
    starts: &[usize],
    min_values: usize,
) -> Result<Clusters, ClusterError> {
    if templates.len() != keys.len() || templates.len() != starts.len() {
        return Err(ClusterError::LengthMismatch {
            templates: templates.len(),
            keys: keys.len(),
            starts: starts.len(),
        });
    }

    // Exact step.
    let mut key_ids: FxHashMap<&str, usize> = FxHashMap::default();
    let mut group_index: FxHashMap<(usize, &str), usize> = FxHashMap::default();
    let mut groups: Vec<Group<'_>> = Vec::new();
    let mut group_of_template = Vec::with_capacity(templates.len());
    for ((text, key), &start) in templates.iter().zip(keys).zip(starts) {
        let text = text.as_ref();
        let next_key = key_ids.len();
        let key = *key_ids.entry(key.as_ref()).or_insert(next_key);
        let mut tokens = template_tokens(text);
        let start = start.min(tokens.len());
        let content = tokens.get(start).map_or("", |t| &text[t.start..]);
        let next_group = groups.len();
        let group = *group_index.entry((key, content)).or_insert(next_group);
        if group == next_group {
            tokens.drain(..start);
            groups.push(Group { key, text, tokens });
        }
        group_of_template.push(group);
    }

    // Merge step: list every group's holes with their hash, sort, and compare exactly within
    // each run of equal hashes. Sorting a flat list avoids one allocation per hole, and a
    // hole that only one group falls into (almost all of them) costs nothing more.
    let mut holes: Vec<(u64, HoleEntry)> = Vec::new();
    let mut suffix: Vec<u64> = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        let m = group.tokens.len();
        let literals = (0..m).filter(|&j| !group.is_wildcard(j)).count();
        if literals == 0 {
            continue;
        }
        let mut shape = combine(group.key as u64, m as u64);
        for j in 0..m {
            shape = combine(shape, hash_str(group.separator(j)));
        }
        // suffix[j] hashes tokens j..m, so a hole at p hashes tokens 0..p, then p+1..m.
        suffix.clear();
        suffix.resize(m + 1, 0);
        for j in (0..m).rev() {
            suffix[j] = combine(hash_str(group.token(j)), suffix[j + 1]);
        }
        let mut prefix = 0u64;
        for p in 0..m.min(HOLE_POSITIONS) {
            let token = group.token(p);
            let literal = !group.is_wildcard(p);
            if literals > usize::from(literal) {
                let hole = combine(combine(combine(shape, prefix), suffix[p + 1]), p as u64);
                holes.push((hole, HoleEntry { group: g, p }));
            }
            prefix = combine(prefix, hash_str(token));
        }
    }
    holes.sort_unstable_by_key(|&(hash, _)| hash);

    let mut parent: Vec<usize> = (0..groups.len()).collect();
    for run in holes.chunk_by(|a, b| a.0 == b.0) {
        if run.len() < 2 {
            continue;
        }
        // Exact classes within one run: (first entry, members, distinct values).
        type Values<'a> = HashSet<&'a str, BuildHasherDefault<FxHasher>>;
        let mut classes: Vec<(HoleEntry, Vec<usize>, Values<'_>)> = Vec::new();
        for &(_, entry) in run {
            let group = &groups[entry.group];
            let found = classes.iter().position(|(first, _, _)| {
                first.p == entry.p && groups[first.group].same_hole(group, entry.p)
            });
            let index = found.unwrap_or_else(|| {
                classes.push((entry, Vec::new(), Values::default()));
                classes.len() - 1
            });
            let (_, members, values) = &mut classes[index];
            members.push(entry.group);
            if !group.is_wildcard(entry.p) && values.len() < min_values {
                values.insert(group.token(entry.p));
            }
        }
        for (_, members, values) in classes {
            if values.len() >= min_values {
                for pair in members.windows(2) {
                    union(&mut parent, pair[0], pair[1]);
                }
            }
        }
    }

    // Clusters, numbered by first group (the root of each set is its smallest group).
    let mut cluster_of_group: Vec<usize> = Vec::with_capacity(groups.len());
    let mut first_group: Vec<usize> = Vec::new();
    for g in 0..groups.len() {
        let root = find(&mut parent, g);
        let cluster = if root == g {
            first_group.push(g);
            first_group.len() - 1
        } else {
            cluster_of_group[root]
        };
        cluster_of_group.push(cluster);
    }
    // Positions where a cluster's groups disagree; left empty for one-group clusters.
    let mut differs: Vec<Vec<bool>> = vec![Vec::new(); first_group.len()];
    for (g, group) in groups.iter().enumerate() {
        let cluster = cluster_of_group[g];
        let first = &groups[first_group[cluster]];
        if first_group[cluster] == g {
            continue; // a group agrees with itself
        }
        let differ = &mut differs[cluster];
        differ.resize(first.tokens.len(), false);
        for (j, differ) in differ.iter_mut().enumerate() {
            *differ |= group.token(j) != first.token(j);
        }
    }
    let cluster_templates = first_group
        .iter()
        .zip(&differs)
        .map(|(&g, differ)| {
            let group = &groups[g];
            let mut out = String::with_capacity(group.text.len());
            let mut copied = 0;
            for (j, &differ) in differ.iter().enumerate() {
                if differ && !group.is_wildcard(j) {
                    let token = group.tokens[j];
                    out.push_str(&group.text[copied..token.start]);
                    out.push_str(WILDCARD);
                    copied = token.end;
                }
            }
            out.push_str(&group.text[copied..]);
            out
        })
        .collect();
    Ok(Clusters {
        ids: group_of_template
            .into_iter()
            .map(|g| cluster_of_group[g])
            .collect(),
        templates: cluster_templates,
    })
}

fn find(parent: &mut [usize], mut x: usize) -> usize {
    let mut root = x;
    while parent[root] != root {
        root = parent[root];
    }
    while parent[x] != root {
        let next = parent[x];
        parent[x] = root;
        x = next;
    }
    root
}

/// Joins the sets of `a` and `b`, keeping the smaller index as the root.
fn union(parent: &mut [usize], a: usize, b: usize) {
    let (a, b) = (find(parent, a), find(parent, b));
    if a != b {
        let (low, high) = if a < b { (a, b) } else { (b, a) };
        parent[high] = low;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(templates: &[&str], keys: &[&str], starts: &[usize], min_values: usize) -> Clusters {
        cluster_templates(templates, keys, starts, min_values).expect("lengths match")
    }

    #[test]
    fn mine_templates_counts_and_first_lines() {
        let lines = ["a 1", "b", "a 22", "", "b", "c /x/y", "c /p/q", "a 3"];
        let mined = mine_templates(&lines);
        assert_eq!(mined.ids, [0, 1, 0, 2, 1, 3, 3, 0]);
        assert_eq!(mined.templates, ["a <*>", "b", "", "c <*>"]);
        assert_eq!(mined.first_lines, [0, 1, 3, 5]);
        assert_eq!(mined.counts, [3, 2, 1, 2]);
        assert_eq!(mine_templates::<&str>(&[]), Mined::default());
    }

    #[test]
    fn mine_templates_keeps_many_templates_apart() {
        // Enough distinct templates that some share hash buckets in the index.
        let lines: Vec<String> = (0..5000)
            .map(|i| {
                format!(
                    "w{} x",
                    char::from(b'a' + (i % 26) as u8)
                        .to_string()
                        .repeat(i / 26 + 1)
                )
            })
            .collect();
        let mined = mine_templates(&lines);
        assert_eq!(mined.templates.len(), 5000);
        assert_eq!(mined.ids, (0..5000).collect::<Vec<_>>());
        let twice: Vec<&String> = lines.iter().chain(&lines).collect();
        let mined = mine_templates(&twice);
        assert_eq!(mined.counts, vec![2; 5000]);
    }

    #[test]
    fn table() {
        // (templates, keys, starts, min_values, cluster ids, cluster templates)
        type Case<'a> = (
            &'a [&'a str],
            &'a [&'a str],
            &'a [usize],
            usize,
            &'a [usize],
            &'a [&'a str],
        );
        let cases: &[Case<'_>] = &[
            (&[], &[], &[], 2, &[], &[]),
            // A word taking enough values becomes a variable ...
            (
                &["u alice x", "u bob x", "u carol x", "v x"],
                &["", "", "", ""],
                &[0, 0, 0, 0],
                3,
                &[0, 0, 0, 1],
                &["u <*> x", "v x"],
            ),
            // ... and not with fewer values than min_values.
            (
                &["u alice x", "u bob x", "u carol x"],
                &["", "", ""],
                &[0, 0, 0],
                4,
                &[0, 1, 2],
                &["u alice x", "u bob x", "u carol x"],
            ),
            // Different keys never merge.
            (
                &["u alice x", "u bob x", "u carol x"],
                &["k", "k", "j"],
                &[0, 0, 0],
                2,
                &[0, 0, 1],
                &["u <*> x", "u carol x"],
            ),
            // Prefix tokens are ignored: the exact step groups equal messages; the cluster
            // keeps the prefix of its first template.
            (
                &["h1 sshd: ok", "h2 sshd: ok", "h3 cron: ok"],
                &["", "", ""],
                &[2, 2, 2],
                9,
                &[0, 0, 0],
                &["h1 sshd: ok"],
            ),
            // A template with a wildcard at the variable position joins the hole.
            (
                &["user <*> in", "user a in", "user b in"],
                &["", "", ""],
                &[0, 0, 0],
                2,
                &[0, 0, 0],
                &["user <*> in"],
            ),
            (
                &["user a in", "user b in", "user <*>, in"],
                &["", "", ""],
                &[0, 0, 0],
                2,
                &[0, 0, 1],
                &["user <*> in", "user <*>, in"],
            ),
            // The wildcard of a later template does not count as a value.
            (
                &["user a in", "user <*> in"],
                &["", ""],
                &[0, 0],
                2,
                &[0, 1],
                &["user a in", "user <*> in"],
            ),
            // A one-word message never becomes all wildcard.
            (
                &["p: a", "p: b", "p: c"],
                &["", "", ""],
                &[1, 1, 1],
                2,
                &[0, 1, 2],
                &["p: a", "p: b", "p: c"],
            ),
            // Separators must match.
            (
                &["u a, x", "u b x", "u c x"],
                &["", "", ""],
                &[0, 0, 0],
                2,
                &[0, 1, 1],
                &["u a, x", "u <*> x"],
            ),
            // Joining is transitive: (a,b) share a hole at 0, (b,c) at 1.
            (
                &["a x", "b x", "b y"],
                &["", "", ""],
                &[0, 0, 0],
                2,
                &[0, 0, 0],
                &["<*> <*>"],
            ),
            // Starts beyond the last token: empty messages, grouped by key.
            (
                &["a 1", "b 2", "c"],
                &["", "", "k"],
                &[5, 9, 1],
                1,
                &[0, 0, 1],
                &["a 1", "c"],
            ),
            // A lone '*' is a literal.
            (
                &["x * y", "x * z", "x * w", "x a q", "x b q", "x c q"],
                &["", "", "", "", "", ""],
                &[0, 0, 0, 0, 0, 0],
                3,
                &[0, 0, 0, 1, 1, 1],
                &["x * <*>", "x <*> q"],
            ),
            (&["* a", "* b"], &["", ""], &[0, 0], 2, &[0, 0], &["* <*>"]),
        ];
        for &(templates, keys, starts, min_values, ids, want) in cases {
            let got = cluster(templates, keys, starts, min_values);
            assert_eq!(got.ids, ids, "ids of {templates:?}");
            assert_eq!(got.templates, want, "templates of {templates:?}");
        }
    }

    #[test]
    fn positions_past_the_limit_never_merge() {
        let filler = "w ".repeat(HOLE_POSITIONS);
        let late: Vec<String> = ["a", "b", "c"]
            .iter()
            .map(|v| format!("{filler}{v}"))
            .collect();
        let got = cluster_templates(&late, &["", "", ""], &[0, 0, 0], 2).unwrap();
        assert_eq!(got.ids, [0, 1, 2]);
        let early: Vec<String> = ["a", "b", "c"]
            .iter()
            .map(|v| format!("{v} {filler}"))
            .collect();
        let got = cluster_templates(&early, &["", "", ""], &[0, 0, 0], 2).unwrap();
        assert_eq!(got.ids, [0, 0, 0]);
        assert!(got.templates[0].starts_with("<*> w w"));
    }

    #[test]
    fn lengths_must_match() {
        let error = cluster_templates(&["a"], &["k", "j"], &[0], 2).unwrap_err();
        assert_eq!(
            error,
            ClusterError::LengthMismatch {
                templates: 1,
                keys: 2,
                starts: 1
            }
        );
        assert!(error.to_string().contains("(got 1, 2 and 1)"));
    }

    #[test]
    fn long_lines_and_many_templates() {
        let long = "tok ".repeat(1 << 16);
        let templates = [long.as_str(), long.as_str(), "x"];
        let got = cluster_templates(&templates, &["", "", ""], &[0, 0, 0], 2).unwrap();
        assert_eq!(got.ids, [0, 0, 1]);
        let users: Vec<String> = (0..2000)
            .map(|i| format!("Invalid user u{} from <*>", "x".repeat(i % 50 + 1)))
            .collect();
        let keys = vec![""; users.len()];
        let starts = vec![0; users.len()];
        let got = cluster_templates(&users, &keys, &starts, 5).unwrap();
        assert!(got.ids.iter().all(|&id| id == 0));
        assert_eq!(got.templates, ["Invalid user <*> from <*>"]);
    }
}
