//! Hybrid retrieval: the chunks nearest to the question's embedding and the chunks BM25 ranks
//! best for its words, merged by reciprocal rank fusion (RRF). Both searches run inside the
//! store with the reader's clearance applied in the query.

use std::collections::HashMap;

use airlock_store::{ChunkHit, ChunkRecord, Clearance, SearchFilter, Store};
use serde::{Deserialize, Serialize};

use crate::cite::Citation;
use crate::{RagError, TextEmbedder};

/// Which searches feed the result (hybrid in use; the others for evaluation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RetrievalMode {
    /// Vector and keyword search, fused.
    #[default]
    Hybrid,
    /// Nearest neighbours only.
    Vector,
    /// BM25 only.
    Keyword,
}

/// Retrieval settings (`[retrieval]` in the configuration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetrievalConfig {
    /// Chunks returned.
    pub top_k: usize,
    /// Each search contributes `top_k` times this many chunks to the fusion. Deep lists hurt:
    /// chunks in the middle of both lists then outrank the best chunk of one list (measured on
    /// the fixture questions: 20/20 found at 2, 18/20 at 8; BENCHMARKS.md).
    pub candidates_per_result: usize,
    /// RRF's constant: a chunk at rank r in one list scores 1 / (rrf_k + r).
    pub rrf_k: f32,
    /// Vector hits less similar than this (cosine) are dropped before fusion; keyword hits are
    /// kept, so an exact part number still counts.
    pub min_similarity: Option<f32>,
}

impl Default for RetrievalConfig {
    fn default() -> Self {
        Self {
            top_k: 5,
            candidates_per_result: 2,
            rrf_k: 60.0,
            min_similarity: Some(0.2),
        }
    }
}

/// One retrieved chunk with the evidence that ranked it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Retrieved {
    /// The chunk and its document.
    pub chunk: ChunkRecord,
    /// The fused score (higher is better).
    pub score: f32,
    /// Its rank in the vector search (1-based), if it was found there.
    pub vector_rank: Option<usize>,
    /// Its rank in the keyword search (1-based), if it was found there.
    pub keyword_rank: Option<usize>,
    /// Cosine similarity to the question, when the vector search found it.
    pub similarity: Option<f32>,
}

/// A retrieved chunk as tools and answers carry it: its text with its citation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Passage {
    /// The chunk (`airlock docs show CHUNK_ID` opens it).
    pub chunk_id: i64,
    /// `[title, p. 2, section]`.
    pub citation: String,
    /// The sentence that best matches the question.
    pub quote: String,
    /// The chunk's text: document content, to be treated as data and never as instructions.
    pub text: String,
    /// The fused retrieval score (higher is better).
    pub score: f32,
    /// Cosine similarity to the question, when the vector search found the chunk.
    pub similarity: Option<f32>,
}

impl Passage {
    /// The passage of `retrieved` for `question`.
    #[must_use]
    pub fn new(retrieved: &Retrieved, question: &str) -> Self {
        let citation = Citation::new(&retrieved.chunk, question);
        Self {
            chunk_id: retrieved.chunk.chunk_id,
            citation: citation.label,
            quote: citation.quote,
            text: retrieved.chunk.text.clone(),
            score: retrieved.score,
            similarity: retrieved.similarity,
        }
    }
}

/// The best chunks for `query` that `clearance` may read, best first.
///
/// # Errors
/// [`RagError::Store`] or [`RagError::Embed`].
pub fn retrieve(
    store: &Store,
    embedder: &dyn TextEmbedder,
    query: &str,
    clearance: &Clearance,
    filter: &SearchFilter,
    config: &RetrievalConfig,
    mode: RetrievalMode,
) -> Result<Vec<Retrieved>, RagError> {
    let candidates = config
        .top_k
        .saturating_mul(config.candidates_per_result.max(1));
    let vector = if mode == RetrievalMode::Keyword {
        Vec::new()
    } else {
        let embedding = embedder
            .embed_texts(&[query])
            .map_err(RagError::Embed)?
            .pop()
            .ok_or_else(|| RagError::Invalid("the embedder returned no vector".to_owned()))?;
        let mut hits = store.nearest_chunks(&embedding, candidates, clearance, filter)?;
        if let Some(min) = config.min_similarity {
            hits.retain(|hit| cosine(hit.score) >= min);
        }
        hits
    };
    let keyword = if mode == RetrievalMode::Vector {
        Vec::new()
    } else {
        store.keyword_chunks(query, candidates, clearance, filter)?
    };
    let fused = fuse(&vector, &keyword, config.rrf_k, config.top_k);
    let ids: Vec<i64> = fused.iter().map(|entry| entry.chunk_id).collect();
    let mut records: HashMap<i64, ChunkRecord> = store
        .chunks(&ids)?
        .into_iter()
        .map(|record| (record.chunk_id, record))
        .collect();
    Ok(fused
        .into_iter()
        .filter_map(|entry| {
            records.remove(&entry.chunk_id).map(|chunk| Retrieved {
                chunk,
                score: entry.score,
                vector_rank: entry.vector_rank,
                keyword_rank: entry.keyword_rank,
                similarity: entry.vector_distance.map(cosine),
            })
        })
        .collect())
}

/// One entry of a fused ranking.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fused {
    /// The chunk.
    pub chunk_id: i64,
    /// Its RRF score.
    pub score: f32,
    /// Its rank in the vector list (1-based).
    pub vector_rank: Option<usize>,
    /// Its rank in the keyword list (1-based).
    pub keyword_rank: Option<usize>,
    /// Its vector distance, when it was in the vector list.
    pub vector_distance: Option<f32>,
}

/// Reciprocal rank fusion of two ranked lists (best first): each chunk scores the sum of
/// `1 / (rrf_k + rank)` over the lists it is in; ties go to the better vector rank, then the
/// smaller chunk id, so the order is deterministic. Returns the best `top`, in which each
/// list's first hit is kept: a chunk first in one list and missing from the other would
/// otherwise lose to chunks in the middle of both (the last places give way to it).
#[must_use]
pub fn fuse(vector: &[ChunkHit], keyword: &[ChunkHit], rrf_k: f32, top: usize) -> Vec<Fused> {
    let mut by_chunk: HashMap<i64, Fused> = HashMap::new();
    for (index, hit) in vector.iter().enumerate() {
        let entry = by_chunk
            .entry(hit.chunk_id)
            .or_insert_with(|| empty(hit.chunk_id));
        if entry.vector_rank.is_none() {
            entry.vector_rank = Some(index + 1);
            entry.vector_distance = Some(hit.score);
            entry.score += 1.0 / (rrf_k + (index + 1) as f32);
        }
    }
    for (index, hit) in keyword.iter().enumerate() {
        let entry = by_chunk
            .entry(hit.chunk_id)
            .or_insert_with(|| empty(hit.chunk_id));
        if entry.keyword_rank.is_none() {
            entry.keyword_rank = Some(index + 1);
            entry.score += 1.0 / (rrf_k + (index + 1) as f32);
        }
    }
    let mut fused: Vec<Fused> = by_chunk.into_values().collect();
    fused.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(
                a.vector_rank
                    .unwrap_or(usize::MAX)
                    .cmp(&b.vector_rank.unwrap_or(usize::MAX)),
            )
            .then(a.chunk_id.cmp(&b.chunk_id))
    });
    keep_each_lists_best(&mut fused, top);
    fused
}

/// Truncates `fused` (best first) to `top`; each list's first hit that falls beyond it takes
/// the place of the last hit that is neither list's first.
fn keep_each_lists_best(fused: &mut Vec<Fused>, top: usize) {
    let is_first = |hit: &Fused| hit.vector_rank == Some(1) || hit.keyword_rank == Some(1);
    let mut late: Vec<Fused> = fused
        .drain(top.min(fused.len())..)
        .filter(|hit| is_first(hit))
        .collect();
    late.reverse();
    while let Some(hit) = late.pop() {
        let Some(at) = fused.iter().rposition(|kept| !is_first(kept)) else {
            break;
        };
        fused.remove(at);
        fused.push(hit);
    }
}

fn empty(chunk_id: i64) -> Fused {
    Fused {
        chunk_id,
        score: 0.0,
        vector_rank: None,
        keyword_rank: None,
        vector_distance: None,
    }
}

/// Cosine similarity of two unit vectors from their L2 distance.
fn cosine(distance: f32) -> f32 {
    1.0 - distance * distance / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(ids: &[i64]) -> Vec<ChunkHit> {
        ids.iter()
            .enumerate()
            .map(|(i, id)| ChunkHit {
                chunk_id: *id,
                score: i as f32 * 0.1,
            })
            .collect()
    }

    #[test]
    fn a_chunk_both_searches_rank_well_wins() {
        let fused = fuse(&hits(&[1, 2, 3]), &hits(&[3, 4, 1]), 60.0, 10);
        let order: Vec<i64> = fused.iter().map(|f| f.chunk_id).collect();
        assert_eq!(order, [1, 3, 2, 4]);
        assert_eq!(fused[0].vector_rank, Some(1));
        assert_eq!(fused[0].keyword_rank, Some(3));
        assert!((fused[0].score - (1.0 / 61.0 + 1.0 / 63.0)).abs() < 1e-6);
    }

    #[test]
    fn each_lists_first_hit_stays_when_chunks_in_both_lists_outrank_it() {
        // 9 is the nearest chunk and 4 the best keyword match, each missing from the other
        // list; 1, 2 and 3 are in the middle of both and score higher.
        let vector = hits(&[9, 1, 2, 3]);
        let keyword = hits(&[4, 1, 2, 3]);
        let order = |top| -> Vec<i64> {
            fuse(&vector, &keyword, 60.0, top)
                .iter()
                .map(|f| f.chunk_id)
                .collect()
        };
        assert_eq!(order(5), [1, 2, 3, 9, 4]);
        assert_eq!(order(3), [1, 9, 4]);
        assert_eq!(order(2), [9, 4]);
        assert_eq!(order(1), [9]);
        assert!(order(0).is_empty());
    }

    #[test]
    fn fusion_truncates_and_handles_one_empty_list() {
        let fused = fuse(&[], &hits(&[7, 8, 9]), 60.0, 2);
        let order: Vec<i64> = fused.iter().map(|f| f.chunk_id).collect();
        assert_eq!(order, [7, 8]);
        assert!(fused.iter().all(|f| f.vector_rank.is_none()));
    }

    #[test]
    fn cosine_from_unit_distance() {
        assert!((cosine(0.0) - 1.0).abs() < 1e-6);
        assert!((cosine(std::f32::consts::SQRT_2) - 0.0).abs() < 1e-6);
    }
}
