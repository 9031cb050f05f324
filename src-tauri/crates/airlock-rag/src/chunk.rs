//! Splitting an extracted document into chunks that fit the embedder's window.
//!
//! Structure first: consecutive blocks of one section on one page are packed into a chunk while
//! it fits; a chunk never crosses a page or section boundary; a heading goes with the chunk that
//! follows it. A block too large on its own is split at sentence ends (or line breaks), else at
//! word boundaries, else between characters, with `overlap_tokens` of overlap between pieces.
//! Every chunk is an exact span of the document's text, so a citation opens exactly what was
//! embedded. The result depends only on the input (no randomness, no hashing order).

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::{Block, BlockKind, Extracted};

/// Counts tokens the way the embedding model will (the real one is the embedder's WordPiece
/// tokenizer). Counts must not shrink when text is appended.
pub trait TokenCounter {
    /// Number of tokens in `text`, without special tokens.
    fn count_tokens(&self, text: &str) -> usize;
}

impl<F: Fn(&str) -> usize> TokenCounter for F {
    fn count_tokens(&self, text: &str) -> usize {
        self(text)
    }
}

/// Chunk sizes, in tokens of the [`TokenCounter`]. Always valid: `0 <= overlap < max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawChunkConfig", into = "RawChunkConfig")]
pub struct ChunkConfig {
    max_tokens: usize,
    overlap_tokens: usize,
}

/// A [`ChunkConfig`] that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkConfigError {
    /// `max_tokens` is zero.
    #[error("max_tokens must be at least 1")]
    ZeroMax,
    /// The overlap would leave no room for new text.
    #[error("overlap_tokens ({overlap}) must be smaller than max_tokens ({max})")]
    OverlapTooLarge {
        /// The overlap asked for.
        overlap: usize,
        /// The maximum asked for.
        max: usize,
    },
}

impl ChunkConfig {
    /// Default window: 256 tokens, the embedder's (all-MiniLM-L6-v2) input length.
    pub const DEFAULT_MAX_TOKENS: usize = 256;
    /// Default overlap between the pieces of a split block.
    pub const DEFAULT_OVERLAP_TOKENS: usize = 32;

    /// A configuration with the given sizes.
    ///
    /// # Errors
    /// [`ChunkConfigError`] when `max_tokens` is 0 or `overlap_tokens >= max_tokens`.
    pub fn new(max_tokens: usize, overlap_tokens: usize) -> Result<Self, ChunkConfigError> {
        if max_tokens == 0 {
            return Err(ChunkConfigError::ZeroMax);
        }
        if overlap_tokens >= max_tokens {
            return Err(ChunkConfigError::OverlapTooLarge {
                overlap: overlap_tokens,
                max: max_tokens,
            });
        }
        Ok(Self {
            max_tokens,
            overlap_tokens,
        })
    }

    /// Most tokens in a chunk.
    #[must_use]
    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    /// Tokens repeated between consecutive pieces of a split block.
    #[must_use]
    pub fn overlap_tokens(&self) -> usize {
        self.overlap_tokens
    }
}

impl Default for ChunkConfig {
    fn default() -> Self {
        Self {
            max_tokens: Self::DEFAULT_MAX_TOKENS,
            overlap_tokens: Self::DEFAULT_OVERLAP_TOKENS,
        }
    }
}

/// The serialised form, checked on the way in.
#[derive(Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawChunkConfig {
    max_tokens: usize,
    overlap_tokens: usize,
}

impl Default for RawChunkConfig {
    fn default() -> Self {
        ChunkConfig::default().into()
    }
}

impl TryFrom<RawChunkConfig> for ChunkConfig {
    type Error = ChunkConfigError;

    fn try_from(raw: RawChunkConfig) -> Result<Self, Self::Error> {
        Self::new(raw.max_tokens, raw.overlap_tokens)
    }
}

impl From<ChunkConfig> for RawChunkConfig {
    fn from(config: ChunkConfig) -> Self {
        Self {
            max_tokens: config.max_tokens,
            overlap_tokens: config.overlap_tokens,
        }
    }
}

/// A chunk ready to be embedded and stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkDraft {
    /// Position in the document, from 0, without gaps.
    pub ordinal: u32,
    /// Byte range in [`Extracted::text`]; `text == doc.text[range]`.
    pub range: Range<usize>,
    /// 1-based page (PDF only).
    pub page: Option<u32>,
    /// The section every block of the chunk belongs to.
    pub section: Option<String>,
    /// The chunk's text.
    pub text: String,
    /// Its tokens by the counter used. At most `max_tokens`, except for a single character
    /// that alone counts more.
    pub token_count: usize,
}

/// Splits a document into chunks, in document order.
#[must_use]
pub fn chunk(doc: &Extracted, counter: &dyn TokenCounter, config: &ChunkConfig) -> Vec<ChunkDraft> {
    let mut chunker = Chunker {
        text: &doc.text,
        counter,
        config,
        out: Vec::new(),
    };
    for run in doc
        .blocks
        .chunk_by(|a, b| a.page == b.page && a.section == b.section)
    {
        chunker.pack(run);
    }
    chunker.out
}

struct Chunker<'a> {
    text: &'a str,
    counter: &'a dyn TokenCounter,
    config: &'a ChunkConfig,
    out: Vec<ChunkDraft>,
}

impl Chunker<'_> {
    fn tokens(&self, range: Range<usize>) -> usize {
        self.counter.count_tokens(&self.text[range])
    }

    fn fits(&self, range: Range<usize>) -> bool {
        self.tokens(range) <= self.config.max_tokens
    }

    /// Packs one run of blocks (same page, same section) into chunks.
    fn pack(&mut self, run: &[Block]) {
        let Some(first) = run.first() else {
            return;
        };
        let place = (first.page, first.section.clone());
        let mut pending: Option<Range<usize>> = None;
        let mut headings_only = true;
        for block in run {
            let range = block.range.clone();
            if let Some(open) = pending.take() {
                let combined = open.start..range.end;
                if self.fits(combined.clone()) {
                    pending = Some(combined);
                    headings_only &= block.kind == BlockKind::Heading;
                    continue;
                }
                if headings_only {
                    // The heading belongs with what follows: split them together, the first
                    // piece reaching past the heading.
                    self.split(combined, open.end, &place);
                    continue;
                }
                self.emit(open, &place);
            }
            if self.fits(range.clone()) {
                pending = Some(range);
                headings_only = block.kind == BlockKind::Heading;
            } else {
                self.split(range.clone(), range.start, &place);
                headings_only = true;
            }
        }
        if let Some(open) = pending {
            self.emit(open, &place);
        }
    }

    fn emit(&mut self, range: Range<usize>, (page, section): &(Option<u32>, Option<String>)) {
        let text = self.text[range.clone()].to_owned();
        let token_count = self.counter.count_tokens(&text);
        let ordinal = u32::try_from(self.out.len()).unwrap_or(u32::MAX);
        self.out.push(ChunkDraft {
            ordinal,
            range,
            page: *page,
            section: section.clone(),
            text,
            token_count,
        });
    }

    /// Splits a range that does not fit into overlapping pieces that do. The first piece does
    /// not end at a sentence before `lead_end` (the end of a leading heading).
    fn split(
        &mut self,
        range: Range<usize>,
        lead_end: usize,
        place: &(Option<u32>, Option<String>),
    ) {
        let words = words(self.text, range);
        let mut start = 0;
        while start < words.len() {
            let span = |from: usize, to: usize| words[from].range.start..words[to].range.end;
            let Some(fit) = self.largest_fit(&words, start) else {
                // One word larger than the window.
                self.split_chars(words[start].range.clone(), place);
                start += 1;
                continue;
            };
            let last = words.len() - 1;
            let end = if fit == last {
                fit
            } else {
                // Prefer to end at a sentence, unless that leaves the chunk less than half full.
                (start..=fit)
                    .rev()
                    .find(|&i| words[i].ends_sentence && words[i].range.end > lead_end)
                    .filter(|&i| 2 * self.tokens(span(start, i)) >= self.config.max_tokens)
                    .unwrap_or(fit)
            };
            self.emit(span(start, end), place);
            if end == last {
                break;
            }
            start = self.overlap_start(&words, start, end);
        }
    }

    /// The last word `e >= start` such that words `start..=e` fit; `None` if not even the first.
    fn largest_fit(&self, words: &[Word], start: usize) -> Option<usize> {
        let fits_to = |end: usize| self.fits(words[start].range.start..words[end].range.end);
        if !fits_to(start) {
            return None;
        }
        // Gallop, then bisect: counting cost stays near the size of one chunk.
        let (mut lo, mut hi) = (start, words.len());
        let mut step = 1;
        while lo + step < words.len() {
            if fits_to(lo + step) {
                lo += step;
                step *= 2;
            } else {
                hi = lo + step;
                break;
            }
        }
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if fits_to(mid) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Some(lo)
    }

    /// Where the piece after words `start..=end` begins: far enough back to repeat at most
    /// `overlap_tokens`, never at or before `start`, and only if the next piece can still reach
    /// past `end`.
    fn overlap_start(&self, words: &[Word], start: usize, end: usize) -> usize {
        let next = end + 1;
        let overlap = self.config.overlap_tokens;
        if overlap == 0 {
            return next;
        }
        let mut from = next;
        while from - 1 > start
            && self.tokens(words[from - 1].range.start..words[end].range.end) <= overlap
        {
            from -= 1;
        }
        if from < next && !self.fits(words[from].range.start..words[next].range.end) {
            return next;
        }
        from
    }

    /// Splits one oversized word between characters, without overlap.
    fn split_chars(&mut self, range: Range<usize>, place: &(Option<u32>, Option<String>)) {
        let mut start = range.start;
        while start < range.end {
            let bounds: Vec<usize> = self.text[start..range.end]
                .char_indices()
                .skip(1)
                .map(|(i, _)| start + i)
                .chain([range.end])
                .collect();
            // The longest prefix that fits, but at least one character.
            let (mut lo, mut hi) = (0, bounds.len());
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if self.fits(start..bounds[mid]) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let end = if lo + 1 < bounds.len() && self.fits(start..bounds[lo + 1]) {
                bounds[lo + 1]
            } else {
                bounds[lo]
            };
            self.emit(start..end, place);
            start = end;
        }
    }
}

/// A whitespace-separated word and whether a sentence (or line) ends after it.
struct Word {
    range: Range<usize>,
    ends_sentence: bool,
}

/// The words of `text[range]`, with absolute offsets.
fn words(text: &str, range: Range<usize>) -> Vec<Word> {
    let base = range.start;
    let slice = &text[range];
    let mut out: Vec<Word> = Vec::new();
    let mut start: Option<usize> = None;
    let mut line_break = false;
    for (i, c) in slice.char_indices() {
        if c.is_whitespace() {
            if let Some(s) = start.take() {
                out.push(Word {
                    range: base + s..base + i,
                    ends_sentence: ends_sentence(&slice[s..i]),
                });
            }
            line_break |= c == '\n';
            continue;
        }
        if start.is_none() {
            if line_break {
                if let Some(previous) = out.last_mut() {
                    previous.ends_sentence = true;
                }
            }
            line_break = false;
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push(Word {
            range: base + s..base + slice.len(),
            ends_sentence: true,
        });
    }
    out
}

/// `end.`, `end?"`, `end!)`.
fn ends_sentence(word: &str) -> bool {
    word.trim_end_matches(['"', '\'', ')', ']', '»', '”', '’'])
        .ends_with(['.', '!', '?'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_is_validated_on_construction_and_deserialisation() {
        assert_eq!(ChunkConfig::new(0, 0), Err(ChunkConfigError::ZeroMax));
        assert!(matches!(
            ChunkConfig::new(10, 10),
            Err(ChunkConfigError::OverlapTooLarge { .. })
        ));
        let config: ChunkConfig = serde_json::from_str("{}").expect("defaults");
        assert_eq!(config, ChunkConfig::default());
        assert_eq!((config.max_tokens(), config.overlap_tokens()), (256, 32));
        let config: ChunkConfig = serde_json::from_str(r#"{"max_tokens": 64}"#).expect("partial");
        assert_eq!((config.max_tokens(), config.overlap_tokens()), (64, 32));
        assert!(
            serde_json::from_str::<ChunkConfig>(r#"{"max_tokens": 16, "overlap_tokens": 16}"#)
                .is_err()
        );
        assert!(serde_json::from_str::<ChunkConfig>(r#"{"max_token": 16}"#).is_err());
    }

    #[test]
    fn words_know_sentence_and_line_ends() {
        let text = "One two. Three\nfour (five.) six";
        let got: Vec<(&str, bool)> = words(text, 0..text.len())
            .iter()
            .map(|w| (&text[w.range.clone()], w.ends_sentence))
            .collect();
        assert_eq!(
            got,
            [
                ("One", false),
                ("two.", true),
                ("Three", true),
                ("four", false),
                ("(five.)", true),
                ("six", true)
            ]
        );
    }
}
