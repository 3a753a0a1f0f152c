//! Counting BPE tokens exactly as tiktoken does for `o200k_base` and `cl100k_base`.
//!
//! tiktoken cuts text into pieces with a regular expression run by a backtracking engine
//! (`fancy-regex`), then encodes each piece with byte-pair merges, and returns the list of
//! token ids. Counting needs neither the engine nor the list: the two patterns are written
//! out here as hand-made scanners that give the same pieces, and each piece costs one hash
//! lookup when it is a token of its own (most pieces are), or tiktoken's own merge loop
//! when it is not.
//!
//! # The pieces
//!
//! Classes of characters, from the Unicode tables of `regex-syntax` (the tables the `regex`
//! crate under tiktoken uses): `L` letters, `N` numbers, `M` marks, `\s` white space,
//! `U = [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`, `W = [\p{Ll}\p{Lm}\p{Lo}\p{M}]`,
//! `P = [^\r\n\p{L}\p{N}]` and `Q = [^\s\p{L}\p{N}]`. `'s` stands for the contractions
//! `(?i:'s|'t|'re|'ve|'m|'ll|'d)`; under Unicode case folding `s` also matches `ſ` (U+017F).
//!
//! `o200k_base` is `P?U*W+'s? | P?U+W*'s? | N{1,3} | ␠?Q+[\r\n/]* | \s*[\r\n]+ | \s+(?!\S) | \s+`.
//! A backtracking engine takes the first alternative that matches at the current position,
//! and inside one alternative the longest choice of each greedy part first. So:
//!
//! * `P?U*W+`: with `P` taken when there is one, then without it. `U*` takes the run of `U`;
//!   `W+` must then start at the run's end, or, giving back characters of the run, at its
//!   last character that is also in `W` (and then covers just that character).
//! * `P?U+W*`: the run of `U`, then the run of `W` after it.
//! * `\s*[\r\n]+`: a run of white space holding `\r` or `\n` ends after its last one.
//! * `\s+(?!\S)`: a run of white space ends where the text does; otherwise it leaves its last
//!   character to the next piece, when it has more than one.
//!
//! `cl100k_base` is `'s | P?+L++ | N{1,3}+ | ␠?Q++[\r\n]*+ | \s++$ | \s*[\r\n] | \s+(?!\S) | \s`
//! (`?+`, `++`: possessive, never giving back).
//!
//! Differential tests against tiktoken itself (every code point in several contexts, the
//! bench data, random text) keep the pieces and the token ids equal.

use crate::hash::FxHashMap;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};

const LETTER: u8 = 1;
const UPPER: u8 = 2; // U
const LOWER: u8 = 4; // W
const NUMBER: u8 = 8;
const SPACE: u8 = 16;
const NEWLINE: u8 = 32; // '\r' or '\n'

/// The class bits of every code point, built once per process.
fn classes() -> &'static [u8] {
    static TABLE: OnceLock<Vec<u8>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = vec![0u8; 0x11_0000];
        for (pattern, bit) in [
            (r"\p{L}", LETTER),
            (r"[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]", UPPER),
            (r"[\p{Ll}\p{Lm}\p{Lo}\p{M}]", LOWER),
            (r"\p{N}", NUMBER),
            (r"\s", SPACE),
            (r"[\r\n]", NEWLINE),
        ] {
            let hir = regex_syntax::Parser::new()
                .parse(pattern)
                .expect("a fixed, valid class");
            let regex_syntax::hir::HirKind::Class(regex_syntax::hir::Class::Unicode(class)) =
                hir.kind()
            else {
                unreachable!("{pattern} is a Unicode class")
            };
            for range in class.ranges() {
                for code in u32::from(range.start())..=u32::from(range.end()) {
                    table[code as usize] |= bit;
                }
            }
        }
        table
    })
}

/// A scanner over valid UTF-8: the class and byte length of the character at `i`.
struct Text<'a> {
    bytes: &'a [u8],
    table: &'static [u8],
}

impl Text<'_> {
    #[inline(always)]
    fn len(&self) -> usize {
        self.bytes.len()
    }

    #[inline(always)]
    fn at(&self, i: usize) -> (u8, usize) {
        let b = self.bytes;
        let x = b[i];
        let (code, len) = if x < 0x80 {
            (u32::from(x), 1)
        } else if x < 0xE0 {
            ((u32::from(x & 0x1F) << 6) | u32::from(b[i + 1] & 0x3F), 2)
        } else if x < 0xF0 {
            let code = (u32::from(x & 0x0F) << 12)
                | (u32::from(b[i + 1] & 0x3F) << 6)
                | u32::from(b[i + 2] & 0x3F);
            (code, 3)
        } else {
            let code = (u32::from(x & 0x07) << 18)
                | (u32::from(b[i + 1] & 0x3F) << 12)
                | (u32::from(b[i + 2] & 0x3F) << 6)
                | u32::from(b[i + 3] & 0x3F);
            (code, 4)
        };
        (self.table[code as usize], len)
    }

    /// The class of the character at `i`, or 0 past the end.
    #[inline(always)]
    fn class(&self, i: usize) -> u8 {
        if i < self.len() {
            self.at(i).0
        } else {
            0
        }
    }

    /// End of the run from `i` of characters with any of `bits`.
    #[inline(always)]
    fn run_of(&self, mut i: usize, bits: u8) -> usize {
        while i < self.len() {
            let (class, len) = self.at(i);
            if class & bits == 0 {
                break;
            }
            i += len;
        }
        i
    }

    /// End of the run from `i` of characters with none of `bits`.
    #[inline(always)]
    fn run_without(&self, mut i: usize, bits: u8) -> usize {
        while i < self.len() {
            let (class, len) = self.at(i);
            if class & bits != 0 {
                break;
            }
            i += len;
        }
        i
    }

    /// End of `(?i:'s|'t|'re|'ve|'m|'ll|'d)` at `i`, or `i` when there is none.
    #[inline(always)]
    fn contraction(&self, i: usize) -> usize {
        let b = self.bytes;
        if b.get(i) != Some(&b'\'') {
            return i;
        }
        let next = b.get(i + 1).copied();
        let second = b.get(i + 2).copied();
        match next {
            Some(b's' | b'S' | b't' | b'T' | b'm' | b'M' | b'd' | b'D') => i + 2,
            Some(b'r' | b'R' | b'v' | b'V') if matches!(second, Some(b'e' | b'E')) => i + 3,
            Some(b'l' | b'L') if matches!(second, Some(b'l' | b'L')) => i + 3,
            Some(0xC5) if second == Some(0xBF) => i + 3, // 'ſ', which folds to 's'
            _ => i,
        }
    }

    /// `N{1,3}` at `i`, whose character is a number.
    #[inline(always)]
    fn digits(&self, i: usize, first: usize) -> usize {
        let mut end = i + first;
        for _ in 0..2 {
            if end >= self.len() {
                break;
            }
            let (class, len) = self.at(end);
            if class & NUMBER == 0 {
                break;
            }
            end += len;
        }
        end
    }

    /// The white-space run at `i`: its end, the end of its last `\r` or `\n`, and the start of
    /// its last character.
    #[inline(always)]
    fn spaces(&self, i: usize) -> (usize, Option<usize>, usize) {
        let (mut end, mut newline_end, mut last) = (i, None, i);
        while end < self.len() {
            let (class, len) = self.at(end);
            if class & SPACE == 0 {
                break;
            }
            if class & NEWLINE != 0 {
                newline_end = Some(end + len);
            }
            last = end;
            end += len;
        }
        (end, newline_end, last)
    }

    /// `U*W+'s?` at `i`.
    #[inline(always)]
    fn upper_lower(&self, i: usize) -> Option<usize> {
        let mut end = i;
        let mut last_lower = None; // end of the run's last character that is also in W
        while end < self.len() {
            let (class, len) = self.at(end);
            if class & UPPER == 0 {
                break;
            }
            end += len;
            if class & LOWER != 0 {
                last_lower = Some(end);
            }
        }
        if end < self.len() {
            let (class, len) = self.at(end);
            if class & LOWER != 0 {
                return Some(self.contraction(self.run_of(end + len, LOWER)));
            }
        }
        last_lower.map(|end| self.contraction(end))
    }

    /// `U+W*'s?` at `i`.
    #[inline(always)]
    fn upper_then_lower(&self, i: usize) -> Option<usize> {
        if self.class(i) & UPPER == 0 {
            return None;
        }
        let end = self.run_of(self.run_of(i, UPPER), LOWER);
        Some(self.contraction(end))
    }

    /// `␠?Q+` followed by a run of `trailing` bytes, at `i`.
    #[inline(always)]
    fn punctuation(&self, i: usize, class: u8, trailing: &[u8]) -> Option<usize> {
        const NOT_Q: u8 = SPACE | LETTER | NUMBER;
        let start = if self.bytes[i] == b' ' && self.class(i + 1) & NOT_Q == 0 && i + 1 < self.len()
        {
            i + 1
        } else if class & NOT_Q == 0 {
            i
        } else {
            return None;
        };
        let mut end = self.run_without(start, NOT_Q);
        while end < self.len() && trailing.contains(&self.bytes[end]) {
            end += 1;
        }
        Some(end)
    }

    /// End of the `o200k_base` piece that starts at `i`.
    fn o200k_piece(&self, i: usize) -> usize {
        let (class, len) = self.at(i);
        let prefixed = class & (LETTER | NUMBER | NEWLINE) == 0; // P
        if prefixed {
            if let Some(end) = self.upper_lower(i + len) {
                return end;
            }
        }
        if let Some(end) = self.upper_lower(i) {
            return end;
        }
        if prefixed {
            if let Some(end) = self.upper_then_lower(i + len) {
                return end;
            }
        }
        if let Some(end) = self.upper_then_lower(i) {
            return end;
        }
        if class & NUMBER != 0 {
            return self.digits(i, len);
        }
        if let Some(end) = self.punctuation(i, class, b"\r\n/") {
            return end;
        }
        let (end, newline_end, last) = self.spaces(i);
        match newline_end {
            Some(newline_end) => newline_end,
            None if end == self.len() || last == i => end.max(i + len),
            None => last,
        }
    }

    /// End of the `cl100k_base` piece that starts at `i`.
    fn cl100k_piece(&self, i: usize) -> usize {
        let contraction = self.contraction(i);
        if contraction > i {
            return contraction;
        }
        let (class, len) = self.at(i);
        if class & (LETTER | NUMBER | NEWLINE) == 0 {
            if self.class(i + len) & LETTER != 0 {
                return self.run_of(i + len, LETTER);
            }
        } else if class & LETTER != 0 {
            return self.run_of(i, LETTER);
        }
        if class & NUMBER != 0 {
            return self.digits(i, len);
        }
        if let Some(end) = self.punctuation(i, class, b"\r\n") {
            return end;
        }
        let (end, newline_end, last) = self.spaces(i);
        if end == self.len() && end > i {
            return end;
        }
        match newline_end {
            Some(newline_end) => newline_end,
            None if last > i => last,
            None => i + len,
        }
    }
}

/// Which of tiktoken's patterns cuts the text into pieces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// `o200k_base`'s.
    O200k,
    /// `cl100k_base`'s.
    Cl100k,
}

/// Token bytes to rank. Most lookups are of short byte strings (pairs while merging, pieces
/// of a few letters), so those are packed into integers, which hash in one multiplication
/// and compare without a call to `memcmp`; a pair's rank is read from a table.
struct Ranks {
    pairs: Vec<u32>,                 // by the two bytes, little-endian; u32::MAX: none
    short: FxHashMap<u64, u32>,      // 1 and 3 to 7 bytes, the length in the top byte
    medium: FxHashMap<u128, u32>,    // 8 to 15 bytes, the length in the top byte
    long: FxHashMap<Box<[u8]>, u32>, // 16 bytes and more
}

impl Ranks {
    fn new(ranks: impl IntoIterator<Item = (Vec<u8>, u32)>) -> Self {
        let mut table = Ranks {
            pairs: vec![u32::MAX; 1 << 16],
            short: FxHashMap::default(),
            medium: FxHashMap::default(),
            long: FxHashMap::default(),
        };
        for (token, rank) in ranks {
            match token.len() {
                0 => {}
                2 => table.pairs[usize::from(u16::from_le_bytes([token[0], token[1]]))] = rank,
                1..=7 => {
                    table.short.insert(pack_short(&token), rank);
                }
                8..=15 => {
                    table.medium.insert(pack_medium(&token), rank);
                }
                _ => {
                    table.long.insert(token.into_boxed_slice(), rank);
                }
            }
        }
        table
    }

    #[inline(always)]
    fn get(&self, bytes: &[u8]) -> Option<u32> {
        match bytes.len() {
            0 => None,
            2 => Some(self.pair(bytes[0], bytes[1])).filter(|&rank| rank != u32::MAX),
            1..=7 => self.short.get(&pack_short(bytes)).copied(),
            8..=15 => self.medium.get(&pack_medium(bytes)).copied(),
            _ => self.long.get(bytes).copied(),
        }
    }

    #[inline(always)]
    fn pair(&self, first: u8, second: u8) -> u32 {
        self.pairs[usize::from(u16::from_le_bytes([first, second]))]
    }
}

/// `bytes` (fewer than `N`) in a word of `N` bytes, their length in the last.
#[inline(always)]
fn packed<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut word = [0u8; N];
    word[..bytes.len()].copy_from_slice(bytes);
    word[N - 1] = bytes.len() as u8;
    word
}

#[inline(always)]
fn pack_short(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(packed(bytes))
}

#[inline(always)]
fn pack_medium(bytes: &[u8]) -> u128 {
    u128::from_le_bytes(packed(bytes))
}

/// A BPE vocabulary (token bytes to rank) with the pattern that cuts text for it.
pub struct Vocabulary {
    ranks: Ranks,
    pattern: Pattern,
}

impl Vocabulary {
    /// A vocabulary from its tokens and their ranks.
    pub fn new(ranks: impl IntoIterator<Item = (Vec<u8>, u32)>, pattern: Pattern) -> Self {
        Vocabulary {
            ranks: Ranks::new(ranks),
            pattern,
        }
    }

    /// The pieces the pattern cuts `text` into, in order (their concatenation is `text`).
    pub fn pieces<'a>(&self, text: &'a str) -> Vec<&'a str> {
        let mut pieces = Vec::new();
        self.each_piece(text, |piece| pieces.push(piece));
        pieces
    }

    fn each_piece<'a>(&self, text: &'a str, mut found: impl FnMut(&'a str)) {
        let scanner = Text {
            bytes: text.as_bytes(),
            table: classes(),
        };
        let mut start = 0;
        while start < text.len() {
            let end = match self.pattern {
                Pattern::O200k => scanner.o200k_piece(start),
                Pattern::Cl100k => scanner.cl100k_piece(start),
            };
            found(&text[start..end]);
            start = end;
        }
    }

    /// How many tokens tiktoken's `encode_ordinary` makes of `text`.
    ///
    /// A piece that is not a token is merged once per call: text repeats such pieces often
    /// (keys and punctuation in JSON, words of log templates), and later ones are looked up.
    pub fn count(&self, text: &str) -> usize {
        let mut parts = Vec::new();
        let mut merged: FxHashMap<&[u8], usize> = FxHashMap::default();
        let mut count = 0;
        self.each_piece(text, |piece| {
            let piece = piece.as_bytes();
            count += if self.ranks.get(piece).is_some() {
                1
            } else {
                *merged.entry(piece).or_insert_with(|| {
                    self.merge(piece, &mut parts);
                    parts.len() - 1
                })
            };
        });
        count
    }

    /// The token ids tiktoken's `encode_ordinary` makes of `text`.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut parts = Vec::new();
        let mut tokens = Vec::new();
        self.each_piece(text, |piece| {
            let piece = piece.as_bytes();
            if let Some(rank) = self.ranks.get(piece) {
                tokens.push(rank);
            } else {
                self.merge(piece, &mut parts);
                tokens.extend(
                    parts
                        .windows(2)
                        .map(|pair| self.rank(&piece[pair[0].0..pair[1].0])),
                );
            }
        });
        tokens
    }

    #[inline(always)]
    fn rank(&self, bytes: &[u8]) -> u32 {
        self.ranks.get(bytes).unwrap_or(u32::MAX)
    }

    /// tiktoken's byte-pair merges: `parts` ends as the start of each token of `piece` (and
    /// `piece.len()`), each with a rank that is not used after. Like tiktoken, pieces of 100
    /// bytes and more take the heap (O(n log n)), shorter ones the scan (O(n²), faster there).
    fn merge(&self, piece: &[u8], parts: &mut Vec<(usize, u32)>) {
        parts.clear();
        if piece.len() < 2 {
            parts.extend([(0, u32::MAX), (piece.len(), u32::MAX)]);
            return;
        }
        if piece.len() >= 100 {
            self.merge_large(piece, parts);
            return;
        }
        let mut min_rank = (u32::MAX, usize::MAX);
        for i in 0..piece.len() - 1 {
            let rank = self.ranks.pair(piece[i], piece[i + 1]);
            if rank < min_rank.0 {
                min_rank = (rank, i);
            }
            parts.push((i, rank));
        }
        parts.push((piece.len() - 1, u32::MAX));
        parts.push((piece.len(), u32::MAX));
        let get_rank = |parts: &Vec<(usize, u32)>, i: usize| {
            if i + 3 < parts.len() {
                self.rank(&piece[parts[i].0..parts[i + 3].0])
            } else {
                u32::MAX
            }
        };
        while min_rank.0 != u32::MAX {
            let i = min_rank.1;
            if i > 0 {
                parts[i - 1].1 = get_rank(parts, i - 1);
            }
            parts[i].1 = get_rank(parts, i);
            parts.remove(i + 1);
            min_rank = (u32::MAX, usize::MAX);
            for (i, &(_, rank)) in parts[..parts.len() - 1].iter().enumerate() {
                if rank < min_rank.0 {
                    min_rank = (rank, i);
                }
            }
        }
    }

    /// tiktoken's `_byte_pair_merge_large`: the lowest rank first, the leftmost among equal
    /// ranks, as the scan does, with stale merges skipped when they come off the heap.
    fn merge_large(&self, piece: &[u8], parts: &mut Vec<(usize, u32)>) {
        struct Token {
            prev: usize,
            end: usize,
            next_end: usize,
            next_rank: u32,
        }
        let mut tokens: Vec<Token> = (0..piece.len())
            .map(|i| Token {
                prev: i.wrapping_sub(1),
                end: i + 1,
                next_end: i + 2,
                next_rank: u32::MAX,
            })
            .collect();
        let mut heap = BinaryHeap::with_capacity(piece.len());
        for i in 0..piece.len() - 1 {
            let rank = self.ranks.pair(piece[i], piece[i + 1]);
            if rank != u32::MAX {
                heap.push(Reverse((rank, i)));
                tokens[i].next_rank = rank;
            }
        }
        let propose = |tokens: &mut Vec<Token>, heap: &mut BinaryHeap<_>, start: usize, end| {
            tokens[start].next_end = end;
            tokens[start].next_rank = u32::MAX;
            if end <= piece.len() {
                if let Some(rank) = self.ranks.get(&piece[start..end]) {
                    heap.push(Reverse((rank, start)));
                    tokens[start].next_rank = rank;
                }
            }
        };
        while let Some(Reverse((rank, left))) = heap.pop() {
            if rank != tokens[left].next_rank {
                continue; // stale: one of its two tokens has merged since
            }
            let right = tokens[left].end;
            let right_end = tokens[left].next_end;
            let right_next_end = tokens[right].next_end;
            tokens[left].end = right_end;
            propose(&mut tokens, &mut heap, left, right_next_end);
            if right_end < tokens.len() {
                tokens[right_end].prev = left;
            }
            if left > 0 {
                let prev = tokens[left].prev;
                propose(&mut tokens, &mut heap, prev, right_end);
            }
            tokens[right].next_rank = u32::MAX;
        }
        let mut start = 0;
        while start < piece.len() {
            parts.push((start, u32::MAX));
            start = tokens[start].end;
        }
        parts.push((piece.len(), u32::MAX));
    }
}

/// Countings waiting for the background thread that serves them in order.
#[derive(Default)]
struct JobQueue {
    jobs: Mutex<VecDeque<Arc<Counting>>>,
    queued: Condvar,
}

impl JobQueue {
    fn push(&self, job: Arc<Counting>) {
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(job);
        self.queued.notify_one();
    }

    /// Counts the queued countings' chunks, one counting after another, for ever.
    fn serve(&self) {
        loop {
            let job = {
                let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
                loop {
                    match jobs.pop_front() {
                        Some(job) => break job,
                        None => {
                            jobs = self
                                .queued
                                .wait(jobs)
                                .unwrap_or_else(PoisonError::into_inner)
                        }
                    }
                }
            };
            while job.count_next() {}
        }
    }
}

/// `text` cut into parts of about `size` bytes or more, where each part's count adds up to the
/// count of the whole: after a `\n` followed by an ASCII letter, digit or punctuation other
/// than `/`. Both patterns end a piece there: a newline is matched by `\s*[\r\n]+` (or ends a
/// punctuation run's `[\r\n/]*`, which only `/` or more newlines continue), and no piece that
/// starts after it can take it in.
#[must_use]
pub fn exact_parts(text: &str, size: usize) -> Vec<&str> {
    let bytes = text.as_bytes();
    let size = size.max(1);
    let mut parts = Vec::new();
    let mut start = 0;
    let mut at = size;
    while at < bytes.len() {
        // The first cut at or after `at`.
        let Some(found) = bytes[at - 1..]
            .windows(2)
            .position(|pair| pair[0] == b'\n' && pair[1].is_ascii_graphic() && pair[1] != b'/')
        else {
            break;
        };
        let cut = at + found; // just after the newline
        parts.push(&text[start..cut]);
        start = cut;
        at = cut + size;
    }
    parts.push(&text[start..]);
    parts
}

/// Counting a text cut into chunks, on background threads and on the threads that wait for
/// the count: each takes the next chunk not yet taken, so the chunks are counted in order,
/// as many at a time as there are threads. Nothing here touches Python: the background
/// threads never wait for the GIL, and a waiting thread (which has released it) helps.
///
/// The count is the sum of the chunks' counts, each the count of [`Vocabulary::count`].
pub struct Counting {
    vocabulary: Arc<Vocabulary>,
    chunks: Vec<String>,
    next: AtomicUsize,
    stopped: AtomicBool,
    counts: Mutex<Vec<Option<usize>>>,
    counted: Condvar,
}

impl Counting {
    /// Starts counting `chunks` on `background` new threads (0: only when asked).
    pub fn start(vocabulary: Arc<Vocabulary>, chunks: Vec<String>, background: usize) -> Arc<Self> {
        let counting = Arc::new(Counting {
            vocabulary,
            counts: Mutex::new(vec![None; chunks.len()]),
            chunks,
            next: AtomicUsize::new(0),
            stopped: AtomicBool::new(false),
            counted: Condvar::new(),
        });
        for _ in 0..background.min(counting.chunks.len()) {
            let counting = Arc::clone(&counting);
            std::thread::spawn(move || while counting.count_next() {});
        }
        counting
    }

    /// Queues counting `chunks` for the one background thread all queued countings share
    /// (started at the first), so that background counting never takes more than one core
    /// from the threads that go on with other work.
    ///
    /// A forked child has none of its parent's threads, and a lock the parent's thread held
    /// at the fork stays locked in the child: the child starts a queue and a thread of its
    /// own at its first count (the queue is found by process id).
    pub fn queue(vocabulary: Arc<Vocabulary>, chunks: Vec<String>) -> Arc<Self> {
        static QUEUE: Mutex<Option<(u32, Arc<JobQueue>)>> = Mutex::new(None);
        let counting = Counting::start(vocabulary, chunks, 0);
        let queue = {
            let mut current = QUEUE.lock().unwrap_or_else(PoisonError::into_inner);
            let pid = std::process::id();
            match current.as_ref() {
                Some((owner, queue)) if *owner == pid => Arc::clone(queue),
                _ => {
                    let queue = Arc::new(JobQueue::default());
                    let serving = Arc::clone(&queue);
                    std::thread::spawn(move || serving.serve());
                    *current = Some((pid, Arc::clone(&queue)));
                    queue
                }
            }
        };
        queue.push(Arc::clone(&counting));
        counting
    }

    fn counts(&self) -> MutexGuard<'_, Vec<Option<usize>>> {
        // A thread that panicked while holding the lock left only whole entries behind.
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts the next chunk no thread has taken; `false` when none is left (or stopped).
    fn count_next(&self) -> bool {
        if self.stopped.load(Ordering::Relaxed) {
            return false;
        }
        let index = self.next.fetch_add(1, Ordering::Relaxed);
        let Some(chunk) = self.chunks.get(index) else {
            return false;
        };
        let count = self.vocabulary.count(chunk);
        self.counts()[index] = Some(count);
        self.counted.notify_all();
        true
    }

    /// `(count, true)` when the text has at most `bound` tokens (or was counted whole), else
    /// `(part, false)` with `bound < part <= count`, the sum of the first chunks; counting
    /// stops there. The calling thread counts chunks too while it waits.
    pub fn at_least(&self, bound: usize) -> (usize, bool) {
        let (mut total, mut index) = (0usize, 0usize);
        loop {
            {
                let counts = self.counts();
                while let Some(Some(count)) = counts.get(index) {
                    total += count;
                    index += 1;
                    if total > bound && index < counts.len() {
                        drop(counts);
                        self.stop();
                        return (total, false);
                    }
                }
                if index == counts.len() {
                    return (total, true);
                }
            }
            if !self.count_next() && !self.count_stopped(index) {
                // Every chunk is taken: wait for the one the prefix needs.
                let mut counts = self.counts();
                while counts[index].is_none() {
                    counts = self
                        .counted
                        .wait(counts)
                        .unwrap_or_else(PoisonError::into_inner);
                }
            }
        }
    }

    /// After [`Counting::stop`], the thread that still asks counts on alone: it takes the
    /// chunk at `index` when no thread has taken it (`false` when one has).
    fn count_stopped(&self, index: usize) -> bool {
        if self
            .next
            .compare_exchange(index, index + 1, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return false;
        }
        let count = self.vocabulary.count(&self.chunks[index]);
        self.counts()[index] = Some(count);
        self.counted.notify_all();
        true
    }

    /// Counts no further chunk (those being counted finish); idempotent.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes_vocabulary(pattern: Pattern) -> Vocabulary {
        // Every single byte, and a few merges, ranked in the order a BPE training would.
        let mut ranks: Vec<(Vec<u8>, u32)> = (0..=255u8).map(|b| (vec![b], u32::from(b))).collect();
        for (i, token) in ["ab", "abc", "cd", "abcd"].iter().enumerate() {
            ranks.push((token.as_bytes().to_vec(), 256 + i as u32));
        }
        Vocabulary::new(ranks, pattern)
    }

    #[test]
    fn o200k_pieces_follow_the_pattern() {
        let v = bytes_vocabulary(Pattern::O200k);
        assert_eq!(
            v.pieces("Hello world's HTTPServer 12345 ;;/\n\n  x   \n y  "),
            [
                "Hello",
                " world's",
                " HTTPServer",
                " ",
                "123",
                "45",
                " ;;/\n\n",
                " ",
                " x",
                "   \n",
                " y",
                "  "
            ]
        );
        // The run of U gives back its last W character (ª is Lo: in U and in W).
        assert_eq!(v.pieces("ABªC1"), ["ABª", "C", "1"]);
        assert_eq!(v.pieces("don'ſ"), ["don'ſ"]);
    }

    #[test]
    fn cl100k_pieces_follow_the_pattern() {
        let v = bytes_vocabulary(Pattern::Cl100k);
        assert_eq!(
            v.pieces("Hello world's 12345 ;;/\n\n  x   \n y  "),
            [
                "Hello", " world", "'s", " ", "123", "45", " ;;/\n\n", " ", " x", "   \n", " y",
                "  "
            ]
        );
        assert_eq!(v.pieces("a\n\n  "), ["a", "\n\n  "]);
    }

    #[test]
    fn counting_sums_the_chunks_and_stops_past_a_bound() {
        let v = Arc::new(bytes_vocabulary(Pattern::O200k));
        let chunks: Vec<String> = ["abcd abcd", "x y z", "abce"].map(String::from).to_vec();
        let whole: usize = chunks.iter().map(|c| v.count(c)).sum();
        for background in [0, 1, 3] {
            let counting = Counting::start(Arc::clone(&v), chunks.clone(), background);
            assert_eq!(counting.at_least(usize::MAX), (whole, true));
            // Past the bound after the first chunk (3 tokens): stopped there.
            let counting = Counting::start(Arc::clone(&v), chunks.clone(), background);
            assert_eq!(counting.at_least(1), (3, false));
            // Past the bound only at the last chunk: counted whole.
            let counting = Counting::start(Arc::clone(&v), chunks.clone(), background);
            assert_eq!(counting.at_least(whole - 1), (whole, true));
        }
        assert_eq!(
            Counting::start(Arc::clone(&v), Vec::new(), 2).at_least(0),
            (0, true)
        );
        // Asked again after it stopped (or after a stop from elsewhere): it counts on.
        let counting = Counting::start(Arc::clone(&v), chunks.clone(), 0);
        assert_eq!(counting.at_least(1), (3, false));
        assert_eq!(counting.at_least(usize::MAX), (whole, true));
        let counting = Counting::start(Arc::clone(&v), chunks.clone(), 1);
        counting.stop();
        assert_eq!(counting.at_least(usize::MAX), (whole, true));
        let queued: Vec<_> = (0..4)
            .map(|_| Counting::queue(Arc::clone(&v), chunks.clone()))
            .collect();
        for counting in queued {
            assert_eq!(counting.at_least(usize::MAX), (whole, true));
        }
    }

    #[test]
    fn merges_take_the_lowest_rank_first() {
        let v = bytes_vocabulary(Pattern::O200k);
        assert_eq!(v.encode("abcd"), [259]);
        assert_eq!(v.encode("abce"), [257, u32::from(b'e')]);
        assert_eq!(v.count("abce abcd"), 4);
        // 80 bytes take the scan and 120 the heap: both merge "ab", then "abc", then "abcd".
        assert_eq!(v.encode(&"abcd".repeat(20)), [259; 20]);
        assert_eq!(v.encode(&"abcd".repeat(30)), [259; 30]);
        assert_eq!(v.encode(&"abce".repeat(30)).len(), 60);
    }
}
