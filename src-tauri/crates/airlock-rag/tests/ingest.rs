//! Ingestion into a real store with the real embedding model: every format, bad files in a
//! batch, unchanged and changed files, and an ingest interrupted between batches.

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use airlock_core::Classification;
use airlock_rag::{
    DocumentLabels, ExtractError, IngestError, IngestOutcome, Ingestor, Progress, TextEmbedder,
};
use airlock_store::{Clearance, SearchFilter, Store};

fn internal(path: PathBuf) -> (PathBuf, DocumentLabels) {
    (path, DocumentLabels::classified(Classification::Internal))
}

fn keyword_hits(store: &Store, words: &str) -> Vec<String> {
    let hits = store
        .keyword_chunks(
            words,
            10,
            &Clearance::level(Classification::Restricted),
            &SearchFilter::default(),
        )
        .unwrap();
    let ids: Vec<i64> = hits.iter().map(|hit| hit.chunk_id).collect();
    store
        .chunks(&ids)
        .unwrap()
        .into_iter()
        .map(|chunk| chunk.text)
        .collect()
}

#[test]
fn each_format_ingests_and_each_bad_file_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let model = common::embedder();
    let csv = dir.path().join("spares.csv");
    std::fs::write(
        &csv,
        "part,description,stock\nSP-4711,mechanical seal P-101,3\nSP-4712,impeller bolt M10,24\n",
    )
    .unwrap();
    let huge = dir.path().join("huge.txt");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(200 * 1024 * 1024)
        .unwrap();

    let files = vec![
        internal(common::fixture("p101-pump-manual.pdf")),
        internal(common::fixture("bad/corrupt.pdf")),
        internal(common::fixture("lockout-tagout-sop.docx")),
        internal(common::fixture("bad/encrypted.pdf")),
        internal(common::fixture("shift-handover-2026-11-20.txt")),
        internal(common::fixture("bad/empty.txt")),
        internal(common::fixture("conveyor-cv301-notes.md")),
        internal(common::fixture("bad/binary-renamed.txt")),
        internal(csv),
        internal(huge),
        internal(common::fixture("README.missing")),
    ];
    let mut finished = 0;
    let results = Ingestor::new(&store, &model, common::worker())
        .ingest(&files, false, &mut |progress| {
            if let Progress::Finished { .. } = progress {
                finished += 1;
            }
        })
        .unwrap();
    assert_eq!(finished, files.len());
    let added = |index: usize| matches!(&results[index], Ok(IngestOutcome::Added { chunks, .. }) if *chunks > 0);
    for good in [0, 2, 4, 6, 8] {
        assert!(
            added(good),
            "{}: {:?}",
            files[good].0.display(),
            results[good]
        );
    }
    let extract_error = |index: usize| match &results[index] {
        Err(IngestError::Extract(err)) => err.clone(),
        other => panic!("{}: {other:?}", files[index].0.display()),
    };
    assert!(matches!(extract_error(1), ExtractError::Corrupt { .. }));
    assert_eq!(extract_error(3), ExtractError::Encrypted);
    assert_eq!(extract_error(5), ExtractError::Empty);
    assert!(matches!(extract_error(7), ExtractError::NotText { .. }));
    assert!(matches!(
        extract_error(9),
        ExtractError::TooLarge { bytes, .. } if bytes == 200 * 1024 * 1024
    ));
    assert!(matches!(
        results[10],
        Err(IngestError::Extract(ExtractError::Unsupported { .. })) | Err(IngestError::Io { .. })
    ));
    for err in results.iter().filter_map(|r| r.as_ref().err()) {
        assert!(
            err.to_string().len() > 20,
            "a message that says what to do: {err}"
        );
    }

    let documents = store.documents().unwrap();
    assert_eq!(documents.len(), 5);
    let pdf = documents
        .iter()
        .find(|d| d.source.ends_with("p101-pump-manual.pdf"))
        .unwrap();
    assert_eq!((pdf.format.as_str(), pdf.pages), ("pdf", Some(5)));
    let torque = keyword_hits(&store, "impeller bolts M10 torque");
    assert!(
        torque.iter().any(|text| text.contains("45 N·m")),
        "{torque:?}"
    );
    let seal = keyword_hits(&store, "SP-4711 seal");
    assert!(seal.iter().any(|text| text.contains("SP-4711")), "{seal:?}");
}

#[test]
fn unchanged_files_are_skipped_and_changed_ones_replace_their_old_version() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let model = common::embedder();
    let note = dir.path().join("note.md");
    std::fs::write(
        &note,
        "# Pump note\n\nThe seal of P-101 was replaced with a Viton seal.\n",
    )
    .unwrap();
    let files = vec![internal(note.clone())];
    let ingestor = Ingestor::new(&store, &model, common::worker());
    let first = ingestor.ingest(&files, false, &mut |_| {}).unwrap();
    assert!(matches!(first[0], Ok(IngestOutcome::Added { .. })));
    let again = ingestor.ingest(&files, false, &mut |_| {}).unwrap();
    assert!(matches!(
        again[0],
        Ok(IngestOutcome::Unchanged { version: 1, .. })
    ));

    std::fs::write(
        &note,
        "# Pump note\n\nThe seal of P-101 was replaced with an EPDM seal.\n",
    )
    .unwrap();
    let changed = ingestor.ingest(&files, false, &mut |_| {}).unwrap();
    assert!(
        matches!(changed[0], Ok(IngestOutcome::Updated { version: 2, .. })),
        "{changed:?}"
    );
    assert!(
        keyword_hits(&store, "Viton").is_empty(),
        "the old version is retired"
    );
    assert_eq!(keyword_hits(&store, "EPDM").len(), 1);
    let forced = ingestor.ingest(&files, true, &mut |_| {}).unwrap();
    assert!(matches!(
        forced[0],
        Ok(IngestOutcome::Updated { version: 3, .. })
    ));
}

/// Fails the embedding call number `fail_at` (counting from 0), like a process that dies
/// in the middle of an ingest; the real model does the rest.
struct FailingAt<'m> {
    model: &'m airlock_llm::Embedder,
    calls: AtomicUsize,
    fail_at: usize,
}

impl TextEmbedder for FailingAt<'_> {
    fn model_name(&self) -> &str {
        self.model.model_name()
    }
    fn dimension(&self) -> usize {
        TextEmbedder::dimension(self.model)
    }
    fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, String> {
        if self.calls.fetch_add(1, Ordering::SeqCst) == self.fail_at {
            return Err("interrupted".to_owned());
        }
        self.model.embed_texts(texts)
    }
    fn count_tokens(&self, text: &str) -> usize {
        TextEmbedder::count_tokens(self.model, text)
    }
}

#[test]
fn an_interrupted_ingest_resumes_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let model = common::embedder();
    // Enough paragraphs for several 32-chunk batches.
    let long = dir.path().join("long.md");
    let text: String = (0..120)
        .map(|i| format!("## Step {i}\n\nCheck valve V-{i:03} and record its pressure in bar.\n\n"))
        .collect();
    std::fs::write(&long, text).unwrap();
    let files = vec![internal(long)];

    let store = Store::open(dir.path()).unwrap();
    let failing = FailingAt {
        model: &model,
        calls: AtomicUsize::new(0),
        fail_at: 2,
    };
    let interrupted = Ingestor::new(&store, &failing, common::worker())
        .ingest(&files, false, &mut |_| {})
        .unwrap();
    assert!(
        matches!(interrupted[0], Err(IngestError::Embed(_))),
        "{interrupted:?}"
    );
    assert!(store.documents().unwrap()[0].ingesting);
    drop(store);

    let store = Store::open(dir.path()).unwrap();
    let mut first_progress = None;
    let resumed = Ingestor::new(&store, &model, common::worker())
        .ingest(&files, false, &mut |progress| {
            if let Progress::Chunks { done, .. } = progress {
                first_progress.get_or_insert(done);
            }
        })
        .unwrap();
    let Ok(IngestOutcome::Added { chunks, .. }) = resumed[0] else {
        panic!("{resumed:?}")
    };
    assert_eq!(
        first_progress,
        Some(96),
        "two batches of 32 were kept, the third redone"
    );
    let fresh_dir = tempfile::tempdir().unwrap();
    let fresh = Store::open(fresh_dir.path()).unwrap();
    let Ok(IngestOutcome::Added {
        chunks: expected, ..
    }) = Ingestor::new(&fresh, &model, common::worker())
        .ingest(&files, false, &mut |_| {})
        .unwrap()[0]
    else {
        panic!("fresh ingest")
    };
    assert_eq!(chunks, expected);
    assert_eq!(keyword_hits(&store, "007").len(), 1, "no duplicate chunks");
}
