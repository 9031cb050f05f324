//! Retrieval at scale on synthetic chunks: KNN, BM25 and hybrid latency (p50/p99) at 10k and
//! 100k chunks through the real store (SQLite file, sqlite-vec `vec0`, FTS5), the recall@10 of
//! the KNN against an exact scan, and the quantised alternatives measured against the same
//! exact answer (bit and int8 coarse search with float rescoring). Prints tables.
//!
//! Vectors: unit vectors around 400 cluster centres (as sentence embeddings cluster by
//! topic); texts: 40 words from a 6,000-word vocabulary with a Zipf-like spread. Queries are
//! perturbed copies of stored vectors with the chunk's five rarest words.
//!
//! First, PDF ingest throughput: the fixture manual (5 pages) indexed into a fresh store with
//! the real embedding model, extraction in the worker process included.
//!
//! Last, per size, the quantised alternatives to the float index, on side tables of the same
//! vectors (no clearance filter there; compared with an exact scan over all chunks): a coarse
//! `bit[384]` or `int8[384]` KNN for C candidates, rescored exactly with the float vectors.
//!
//! `AIRLOCK_BENCH_SIZES=10000` limits the sizes.

#[path = "../../airlock-connectors/benches/support/timing.rs"]
mod timing;

use std::time::Instant;

use airlock_core::Classification;
use airlock_rag::{retrieve, RetrievalConfig, RetrievalMode, TextEmbedder};
use airlock_store::{
    Clearance, NewChunk, NewVersion, SearchFilter, Store, VersionStart, EMBEDDING_DIMENSION,
};

const CLUSTERS: usize = 400;
const CHUNKS_PER_DOCUMENT: usize = 200;
const QUERIES: usize = 200;
const K: usize = 10;

/// xorshift64*: reproducible without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn uniform(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }

    fn normal(&mut self) -> f32 {
        (0..12).map(|_| self.uniform()).sum::<f32>() - 6.0
    }
}

fn unit(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

struct Corpus {
    vectors: Vec<Vec<f32>>,
    texts: Vec<String>,
}

fn corpus(size: usize, rng: &mut Rng) -> Corpus {
    let centres: Vec<Vec<f32>> = (0..CLUSTERS)
        .map(|_| unit((0..EMBEDDING_DIMENSION).map(|_| rng.normal()).collect()))
        .collect();
    let vectors = (0..size)
        .map(|_| {
            let centre = &centres[(rng.next() % CLUSTERS as u64) as usize];
            unit(centre.iter().map(|x| x + 0.05 * rng.normal()).collect())
        })
        .collect();
    let texts = (0..size)
        .map(|_| {
            (0..40)
                .map(|_| {
                    let rank = (rng.uniform().powi(3) * 6000.0) as usize;
                    format!("w{rank}")
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    Corpus { vectors, texts }
}

fn fill(store: &Store, corpus: &Corpus) {
    let metadata = serde_json::json!({});
    for (document, range) in (0..corpus.texts.len())
        .step_by(CHUNKS_PER_DOCUMENT)
        .map(|start| start..(start + CHUNKS_PER_DOCUMENT).min(corpus.texts.len()))
        .enumerate()
    {
        let text = corpus.texts[range.clone()].join("\n\n");
        let source = format!("synthetic-{document}.txt");
        let classification = if document % 4 == 3 {
            Classification::Restricted
        } else {
            Classification::Internal
        };
        let VersionStart::Ingest { version_id, .. } = store
            .begin_version(
                &NewVersion {
                    source: &source,
                    title: &source,
                    format: "txt",
                    classification,
                    audience: "",
                    metadata: &metadata,
                    content_hash: &source,
                    byte_size: text.len() as u64,
                    page_count: None,
                    text: &text,
                },
                false,
            )
            .expect("begin")
        else {
            unreachable!("every synthetic document is new")
        };
        let mut offset = 0;
        let chunks: Vec<NewChunk<'_>> = range
            .clone()
            .enumerate()
            .map(|(ordinal, index)| {
                let chunk_text = corpus.texts[index].as_str();
                let span = offset..offset + chunk_text.len();
                offset = span.end + 2;
                NewChunk {
                    ordinal: ordinal as u32,
                    page: None,
                    section: None,
                    span,
                    text: chunk_text,
                    token_count: 40,
                    embedding: &corpus.vectors[index],
                }
            })
            .collect();
        store.add_chunks(version_id, &chunks).expect("add");
        store.activate_version(version_id).expect("activate");
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The exact top-k by dot product among the chunks `keep` admits.
fn exact(corpus: &Corpus, query: &[f32], k: usize, keep: impl Fn(usize) -> bool) -> Vec<usize> {
    let mut scored: Vec<(f32, usize)> = corpus
        .vectors
        .iter()
        .enumerate()
        .filter(|(index, _)| keep(*index))
        .map(|(index, v)| (-dot(v, query), index))
        .collect();
    scored.sort_by(|a, b| a.0.total_cmp(&b.0));
    scored.into_iter().take(k).map(|(_, index)| index).collect()
}

/// Whether an internal reader may see chunk `index` (1 document in 4 is restricted).
fn internal(index: usize) -> bool {
    (index / CHUNKS_PER_DOCUMENT) % 4 != 3
}

fn int8(vector: &[f32]) -> Vec<u8> {
    // Unit vectors of 384 dimensions stay within ±0.35 per component: scale to ±127 there.
    vector
        .iter()
        .map(|x| (x * 360.0).round().clamp(-127.0, 127.0) as i8 as u8)
        .collect()
}

fn floats(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Coarse quantised KNN with exact rescoring, next to the exact answer over all chunks.
fn quantised(corpus: &Corpus, queries: &[(String, Vec<f32>, usize)], dir: &std::path::Path) {
    let conn = rusqlite::Connection::open(dir.join("quantised.db")).expect("side database");
    conn.execute_batch(
        "CREATE VIRTUAL TABLE coarse USING vec0(id INTEGER PRIMARY KEY, b bit[384], q int8[384]);",
    )
    .expect("vec0 side table (sqlite-vec is registered by Store::open)");
    let tx = conn.unchecked_transaction().expect("transaction");
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO coarse (id, b, q) VALUES (?1, vec_quantize_binary(?2), vec_int8(?3))",
            )
            .expect("insert");
        for (index, vector) in corpus.vectors.iter().enumerate() {
            insert
                .execute(rusqlite::params![
                    index as i64,
                    floats(vector),
                    int8(vector)
                ])
                .expect("row");
        }
    }
    tx.commit().expect("commit");
    for (label, sql, candidates) in [
        (
            "bit",
            "SELECT id FROM coarse WHERE b MATCH vec_quantize_binary(?1) AND k = ?2",
            [50, 200],
        ),
        (
            "int8",
            "SELECT id FROM coarse WHERE q MATCH vec_int8(?1) AND k = ?2",
            [20, 40],
        ),
    ] {
        for candidates in candidates {
            let mut statement = conn.prepare(sql).expect("knn");
            let mut recall = 0.0;
            let mut samples = Vec::new();
            for (_, query, _) in queries {
                let argument = if label == "bit" {
                    floats(query)
                } else {
                    int8(query)
                };
                let started = Instant::now();
                let ids: Vec<usize> = statement
                    .query_map(rusqlite::params![argument, candidates], |row| {
                        row.get::<_, i64>(0)
                    })
                    .expect("query")
                    .map(|id| id.expect("id") as usize)
                    .collect();
                let mut rescored: Vec<(f32, usize)> = ids
                    .iter()
                    .map(|id| (-dot(&corpus.vectors[*id], query), *id))
                    .collect();
                rescored.sort_by(|a, b| a.0.total_cmp(&b.0));
                samples.push(started.elapsed());
                let got: Vec<usize> = rescored.iter().take(K).map(|(_, id)| *id).collect();
                let want = exact(corpus, query, K, |_| true);
                recall += want.iter().filter(|id| got.contains(id)).count() as f64 / K as f64;
            }
            timing::summary(
                &format!(
                    "{label} KNN {candidates} + rescore, recall@{K} {:.3}",
                    recall / queries.len() as f64
                ),
                samples,
            );
        }
    }
}

/// Returns the query's vector for its text: the bench measures the store and the fusion, the
/// embedding bench measures the model.
struct Lookup(Vec<(String, Vec<f32>)>);

impl TextEmbedder for Lookup {
    fn model_name(&self) -> &str {
        "synthetic"
    }
    fn dimension(&self) -> usize {
        EMBEDDING_DIMENSION
    }
    fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, String> {
        texts
            .iter()
            .map(|text| {
                self.0
                    .iter()
                    .find(|(known, _)| known == text)
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| format!("no vector for {text}"))
            })
            .collect()
    }
    fn count_tokens(&self, text: &str) -> usize {
        text.split_whitespace().count()
    }
}

fn run(size: usize) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ size as u64);
    let corpus = corpus(size, &mut rng);
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).expect("store");
    let started = Instant::now();
    fill(&store, &corpus);
    println!(
        "\n{size} chunks ({} documents, 1 in 4 restricted), stored in {:.1} s",
        size.div_ceil(CHUNKS_PER_DOCUMENT),
        started.elapsed().as_secs_f64()
    );
    let queries: Vec<(String, Vec<f32>, usize)> = (0..QUERIES)
        .map(|_| {
            let target = (rng.next() % size as u64) as usize;
            let vector = unit(
                corpus.vectors[target]
                    .iter()
                    .map(|x| x + 0.03 * rng.normal())
                    .collect(),
            );
            // The chunk's five rarest words, as a person types the specific terms.
            let mut words: Vec<&str> = corpus.texts[target].split(' ').collect();
            words.sort_by_key(|word| std::cmp::Reverse(word[1..].parse::<usize>().unwrap_or(0)));
            words.dedup();
            (words[..5].join(" "), vector, target)
        })
        .collect();
    let reader = Clearance::level(Classification::Internal);
    let all = SearchFilter::default();
    let id_of = |chunk_id: i64| usize::try_from(chunk_id - 1).expect("ids start at 1");

    let mut recall = 0.0;
    for (_, vector, _) in &queries {
        let got: Vec<usize> = store
            .nearest_chunks(vector, K, &reader, &all)
            .expect("knn")
            .iter()
            .map(|hit| id_of(hit.chunk_id))
            .collect();
        let want = exact(&corpus, vector, K, internal);
        recall += want.iter().filter(|id| got.contains(id)).count() as f64 / K as f64;
    }
    println!(
        "KNN recall@{K} against an exact scan: {:.3}",
        recall / QUERIES as f64
    );

    timing::header();
    let mut next = 0;
    let samples = timing::time(QUERIES, || {
        let (_, vector, _) = &queries[next % QUERIES];
        next += 1;
        store.nearest_chunks(vector, K, &reader, &all).expect("knn");
    });
    timing::summary(
        &format!("KNN k={K} (vec0, float, clearance filter)"),
        samples,
    );
    let samples = timing::time(QUERIES, || {
        let (text, _, _) = &queries[next % QUERIES];
        next += 1;
        store
            .keyword_chunks(text, 2 * K, &reader, &all)
            .expect("bm25");
    });
    timing::summary("BM25 top 20 (FTS5, clearance filter)", samples);
    let lookup = Lookup(
        queries
            .iter()
            .map(|(text, vector, _)| (text.clone(), vector.clone()))
            .collect(),
    );
    let config = RetrievalConfig {
        top_k: K,
        min_similarity: None,
        ..RetrievalConfig::default()
    };
    let samples = timing::time(QUERIES, || {
        let (text, _, _) = &queries[next % QUERIES];
        next += 1;
        retrieve(
            &store,
            &lookup,
            text,
            &reader,
            &all,
            &config,
            RetrievalMode::Hybrid,
        )
        .expect("hybrid");
    });
    timing::summary("hybrid top 10 (KNN 20 + BM25 20, RRF)", samples);
    quantised(&corpus, &queries, dir.path());
}

/// Pages per second for the fixture PDF: extraction (worker process), chunking, embedding,
/// storing, `runs` times into fresh stores.
fn pdf_ingest(runs: usize) {
    let pdf = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../fixtures/docs/p101-pump-manual.pdf");
    let models = airlock_llm::registry::default_models_dir();
    let Ok(model) = airlock_llm::registry::embedder_dir(&models)
        .map_err(|err| err.to_string())
        .and_then(|dir| airlock_llm::Embedder::load(&dir).map_err(|err| err.to_string()))
    else {
        println!("PDF ingest: skipped, the embedding model is missing (run `make setup`)");
        return;
    };
    let worker = airlock_rag::WorkerCommand::new(
        env!("CARGO_BIN_EXE_airlock-extract-worker"),
        std::iter::empty::<&str>(),
    );
    let files = vec![(
        pdf,
        airlock_rag::DocumentLabels::classified(Classification::Internal),
    )];
    let mut seconds = Vec::new();
    for _ in 0..runs {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("store");
        let started = Instant::now();
        let results = airlock_rag::Ingestor::new(&store, &model, worker.clone())
            .ingest(&files, false, &mut |_| {})
            .expect("ingest");
        assert!(results[0].is_ok(), "{:?}", results[0]);
        seconds.push(started.elapsed().as_secs_f64());
    }
    seconds.sort_by(f64::total_cmp);
    let median = seconds[seconds.len() / 2];
    println!(
        "PDF ingest (5 pages, 17 chunks): median {:.2} s per file over {runs} runs = {:.1} pages/s",
        median,
        5.0 / median
    );
}

fn main() {
    pdf_ingest(5);
    let sizes: Vec<usize> = std::env::var("AIRLOCK_BENCH_SIZES")
        .ok()
        .map(|list| {
            list.split(',')
                .filter_map(|s| s.trim().parse().ok())
                .collect()
        })
        .unwrap_or_else(|| vec![10_000, 100_000]);
    println!("retrieval bench: {EMBEDDING_DIMENSION}-dim unit vectors, {QUERIES} queries per row");
    for size in sizes {
        run(size);
    }
}
