//! Documents, versions, chunks and the two search indexes, on a real SQLite file with
//! sqlite-vec.

use airlock_core::Classification;
use airlock_store::{
    Clearance, NewChunk, NewVersion, SearchFilter, Store, StoreError, VersionStart,
    EMBEDDING_DIMENSION,
};

/// A unit vector pointing mostly along axis `axis`, tilted by `tilt` towards axis 0.
fn vector(axis: usize, tilt: f32) -> Vec<f32> {
    let mut v = vec![0.0; EMBEDDING_DIMENSION];
    v[axis] = 1.0;
    v[0] += tilt;
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / norm).collect()
}

struct Doc {
    source: &'static str,
    classification: Classification,
    audience: &'static str,
    paragraphs: Vec<(String, Vec<f32>)>,
}

impl Doc {
    fn new(source: &'static str, classification: Classification) -> Self {
        Self {
            source,
            classification,
            audience: "",
            paragraphs: Vec::new(),
        }
    }

    fn paragraph(mut self, text: &str, vector: Vec<f32>) -> Self {
        self.paragraphs.push((text.to_owned(), vector));
        self
    }

    fn text(&self) -> String {
        self.paragraphs
            .iter()
            .map(|(text, _)| text.as_str())
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    fn version<'a>(
        &'a self,
        text: &'a str,
        hash: &'a str,
        metadata: &'a serde_json::Value,
    ) -> NewVersion<'a> {
        NewVersion {
            source: self.source,
            title: self.source,
            format: "md",
            classification: self.classification,
            audience: self.audience,
            metadata,
            content_hash: hash,
            byte_size: text.len() as u64,
            page_count: None,
            text,
        }
    }

    fn chunks<'a>(&'a self, text: &'a str) -> Vec<NewChunk<'a>> {
        let mut start = 0;
        self.paragraphs
            .iter()
            .enumerate()
            .map(|(ordinal, (paragraph, vector))| {
                let span = start..start + paragraph.len();
                start = span.end + 2;
                NewChunk {
                    ordinal: ordinal as u32,
                    page: None,
                    section: Some("Section"),
                    span: span.clone(),
                    text: &text[span],
                    token_count: paragraph.split_whitespace().count(),
                    embedding: vector,
                }
            })
            .collect()
    }

    /// Ingests the whole document; returns what `begin_version` said.
    fn ingest(&self, store: &Store, hash: &str) -> VersionStart {
        let text = self.text();
        let metadata = serde_json::json!({"equipment": ["P-101"], "doc_type": "manual"});
        let start = store
            .begin_version(&self.version(&text, hash, &metadata), false)
            .unwrap();
        if let VersionStart::Ingest {
            version_id,
            next_ordinal,
            ..
        } = start
        {
            let chunks = self.chunks(&text);
            store
                .add_chunks(version_id, &chunks[next_ordinal as usize..])
                .unwrap();
            store.activate_version(version_id).unwrap();
        }
        start
    }
}

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    (dir, store)
}

fn everyone() -> Clearance {
    Clearance::level(Classification::Restricted)
}

fn texts(store: &Store, hits: &[airlock_store::ChunkHit]) -> Vec<String> {
    let ids: Vec<i64> = hits.iter().map(|hit| hit.chunk_id).collect();
    store
        .chunks(&ids)
        .unwrap()
        .into_iter()
        .map(|chunk| chunk.text)
        .collect()
}

#[test]
fn ingested_chunks_are_found_by_vector_and_by_keyword() {
    let (_dir, store) = open();
    let doc = Doc::new("manual.md", Classification::Internal)
        .paragraph("Impeller bolts M10: 45 N·m torque.", vector(1, 0.0))
        .paragraph("Bearing grease every 2000 hours.", vector(2, 0.0));
    assert!(matches!(
        doc.ingest(&store, "h1"),
        VersionStart::Ingest { version: 1, .. }
    ));

    let near = store
        .nearest_chunks(&vector(2, 0.1), 1, &everyone(), &SearchFilter::default())
        .unwrap();
    assert_eq!(texts(&store, &near), ["Bearing grease every 2000 hours."]);
    assert!(near[0].score < 0.2, "distance {}", near[0].score);

    let words = store
        .keyword_chunks(
            "what torque for the impeller?",
            5,
            &everyone(),
            &SearchFilter::default(),
        )
        .unwrap();
    assert_eq!(
        texts(&store, &words),
        ["Impeller bolts M10: 45 N·m torque."]
    );

    let record = &store.chunks(&[near[0].chunk_id]).unwrap()[0];
    assert_eq!(record.version, 1);
    assert_eq!(record.ordinal, 1);
    assert_eq!(record.section.as_deref(), Some("Section"));
    let listed = store.documents().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].version, listed[0].chunks), (Some(1), 2));
    assert!(store.has_documents().unwrap());
}

#[test]
fn unchanged_content_is_not_ingested_again_and_changed_content_replaces_the_old_chunks() {
    let (_dir, store) = open();
    let old = Doc::new("manual.md", Classification::Internal)
        .paragraph("Torque 40 N·m (old value).", vector(1, 0.0));
    old.ingest(&store, "h1");
    assert!(matches!(
        old.ingest(&store, "h1"),
        VersionStart::Unchanged { version: 1, .. }
    ));

    let new = Doc::new("manual.md", Classification::Internal)
        .paragraph("Torque 45 N·m (revision 3).", vector(1, 0.0));
    assert!(matches!(
        new.ingest(&store, "h2"),
        VersionStart::Ingest { version: 2, .. }
    ));

    let near = store
        .nearest_chunks(&vector(1, 0.0), 10, &everyone(), &SearchFilter::default())
        .unwrap();
    assert_eq!(texts(&store, &near), ["Torque 45 N·m (revision 3)."]);
    let words = store
        .keyword_chunks("torque", 10, &everyone(), &SearchFilter::default())
        .unwrap();
    assert_eq!(texts(&store, &words), ["Torque 45 N·m (revision 3)."]);
    let listed = store.documents().unwrap();
    assert_eq!((listed.len(), listed[0].version), (1, Some(2)));
}

#[test]
fn an_interrupted_ingest_resumes_after_the_stored_chunks_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let doc = Doc::new("long.md", Classification::Public)
        .paragraph("first part", vector(1, 0.0))
        .paragraph("second part", vector(2, 0.0))
        .paragraph("third part", vector(3, 0.0));
    let text = doc.text();
    let metadata = serde_json::json!({});
    {
        let store = Store::open(dir.path()).unwrap();
        let VersionStart::Ingest { version_id, .. } = store
            .begin_version(&doc.version(&text, "h1", &metadata), false)
            .unwrap()
        else {
            panic!("a new document is ingested")
        };
        store
            .add_chunks(version_id, &doc.chunks(&text)[..2])
            .unwrap();
        // The process dies here: the version stays unfinished and unsearchable.
        assert!(!store.has_documents().unwrap());
        assert!(store.documents().unwrap()[0].ingesting);
    }
    let store = Store::open(dir.path()).unwrap();
    assert!(store
        .nearest_chunks(&vector(1, 0.0), 5, &everyone(), &SearchFilter::default())
        .unwrap()
        .is_empty());
    let start = doc.ingest(&store, "h1");
    assert!(
        matches!(
            start,
            VersionStart::Ingest {
                version: 1,
                next_ordinal: 2,
                ..
            }
        ),
        "{start:?}"
    );
    let all = store
        .nearest_chunks(&vector(1, 0.0), 10, &everyone(), &SearchFilter::default())
        .unwrap();
    let mut found = texts(&store, &all);
    found.sort();
    assert_eq!(found, ["first part", "second part", "third part"]);
    assert_eq!(store.documents().unwrap()[0].chunks, 3);
}

#[test]
fn an_unfinished_version_of_other_content_is_discarded() {
    let (_dir, store) = open();
    let doc = Doc::new("a.md", Classification::Public).paragraph("old draft", vector(1, 0.0));
    let text = doc.text();
    let metadata = serde_json::json!({});
    let VersionStart::Ingest { version_id, .. } = store
        .begin_version(&doc.version(&text, "h1", &metadata), false)
        .unwrap()
    else {
        panic!("new")
    };
    store.add_chunks(version_id, &doc.chunks(&text)).unwrap();
    let changed = Doc::new("a.md", Classification::Public).paragraph("final text", vector(2, 0.0));
    let start = changed.ingest(&store, "h2");
    assert!(
        matches!(
            start,
            VersionStart::Ingest {
                next_ordinal: 0,
                ..
            }
        ),
        "{start:?}"
    );
    let all = store
        .nearest_chunks(&vector(1, 0.0), 10, &everyone(), &SearchFilter::default())
        .unwrap();
    assert_eq!(texts(&store, &all), ["final text"]);
}

/// Ten restricted chunks nearer to the query than any public one: a reader cleared for
/// internal still gets k public chunks, because the filter is inside the KNN query.
#[test]
fn clearance_filters_inside_the_search_and_top_k_stays_k() {
    let (_dir, store) = open();
    let mut secret = Doc::new("incident.md", Classification::Restricted);
    secret.audience = "safety";
    for i in 0..10 {
        secret = secret.paragraph(
            &format!("restricted pump finding {i}"),
            vector(5, 0.01 * i as f32),
        );
    }
    secret.ingest(&store, "s");
    let mut open_doc = Doc::new("sop.md", Classification::Public);
    for i in 0..10 {
        open_doc = open_doc.paragraph(
            &format!("public pump step {i}"),
            vector(5, 0.5 + 0.1 * i as f32),
        );
    }
    open_doc.ingest(&store, "p");
    let contract = Doc::new("contract.md", Classification::Confidential)
        .paragraph("confidential pump price", vector(5, 0.2));
    contract.ingest(&store, "c");

    let viewer = Clearance::level(Classification::Internal);
    let near = store
        .nearest_chunks(&vector(5, 0.0), 5, &viewer, &SearchFilter::default())
        .unwrap();
    assert_eq!(near.len(), 5);
    assert!(texts(&store, &near)
        .iter()
        .all(|text| text.starts_with("public")));
    let words = store
        .keyword_chunks("pump", 5, &viewer, &SearchFilter::default())
        .unwrap();
    assert_eq!(words.len(), 5);
    assert!(texts(&store, &words)
        .iter()
        .all(|text| text.starts_with("public")));

    // The safety group reads the restricted report but still not the confidential contract.
    let safety = Clearance {
        level: Classification::Internal,
        groups: vec!["safety".into()],
    };
    let near = store
        .nearest_chunks(&vector(5, 0.0), 12, &safety, &SearchFilter::default())
        .unwrap();
    let found = texts(&store, &near);
    assert_eq!(found.len(), 12);
    assert!(found[..10]
        .iter()
        .all(|text| text.starts_with("restricted")));
    assert!(!found.iter().any(|text| text.contains("confidential")));
    let words = store
        .keyword_chunks("pump", 30, &safety, &SearchFilter::default())
        .unwrap();
    assert_eq!(words.len(), 20);

    let cleared = Clearance::level(Classification::Confidential);
    let near = store
        .nearest_chunks(&vector(5, 0.0), 1, &cleared, &SearchFilter::default())
        .unwrap();
    assert_eq!(texts(&store, &near), ["confidential pump price"]);

    // Opening a chunk checks clearance too.
    assert!(store
        .open_chunk(near[0].chunk_id, &viewer, 100)
        .unwrap()
        .is_none());
    assert!(store
        .open_chunk(near[0].chunk_id, &cleared, 100)
        .unwrap()
        .is_some());
}

#[test]
fn relabelling_a_document_moves_its_chunks_out_of_reach() {
    let (_dir, store) = open();
    let mut doc =
        Doc::new("notes.md", Classification::Internal).paragraph("valve notes", vector(7, 0.0));
    doc.ingest(&store, "h");
    let viewer = Clearance::level(Classification::Internal);
    let find = |store: &Store| {
        (
            store
                .nearest_chunks(&vector(7, 0.0), 3, &viewer, &SearchFilter::default())
                .unwrap()
                .len(),
            store
                .keyword_chunks("valve", 3, &viewer, &SearchFilter::default())
                .unwrap()
                .len(),
        )
    };
    assert_eq!(find(&store), (1, 1));
    doc.classification = Classification::Restricted;
    assert!(matches!(
        doc.ingest(&store, "h"),
        VersionStart::Unchanged { .. }
    ));
    assert_eq!(find(&store), (0, 0));
    assert_eq!(
        store.documents().unwrap()[0].classification,
        Classification::Restricted
    );
}

#[test]
fn document_filters_and_labels_narrow_a_search() {
    let (_dir, store) = open();
    Doc::new("a.md", Classification::Public)
        .paragraph("alpha pump", vector(3, 0.0))
        .ingest(&store, "a");
    Doc::new("b.md", Classification::Public)
        .paragraph("beta pump", vector(3, 0.05))
        .ingest(&store, "b");
    let ids: Vec<i64> = store.documents().unwrap().iter().map(|d| d.id).collect();
    let only_b = SearchFilter {
        documents: Some(vec![ids[1]]),
    };
    let near = store
        .nearest_chunks(&vector(3, 0.0), 5, &everyone(), &only_b)
        .unwrap();
    assert_eq!(texts(&store, &near), ["beta pump"]);
    let words = store
        .keyword_chunks("pump", 5, &everyone(), &only_b)
        .unwrap();
    assert_eq!(texts(&store, &words), ["beta pump"]);
    assert_eq!(store.documents_labelled("equipment", "P-101").unwrap(), ids);
    assert_eq!(store.documents_labelled("doc_type", "manual").unwrap(), ids);
    assert!(store
        .documents_labelled("equipment", "P-999")
        .unwrap()
        .is_empty());
}

#[test]
fn removing_a_document_removes_it_from_both_indexes() {
    let (_dir, store) = open();
    Doc::new("a.md", Classification::Public)
        .paragraph("gearbox oil", vector(4, 0.0))
        .ingest(&store, "a");
    let id = store.documents().unwrap()[0].id;
    assert!(store.remove_document(id).unwrap());
    assert!(!store.remove_document(id).unwrap());
    assert!(store.documents().unwrap().is_empty());
    assert!(store
        .nearest_chunks(&vector(4, 0.0), 3, &everyone(), &SearchFilter::default())
        .unwrap()
        .is_empty());
    assert!(store
        .keyword_chunks("gearbox", 3, &everyone(), &SearchFilter::default())
        .unwrap()
        .is_empty());
}

#[test]
fn an_opened_chunk_carries_the_text_around_it() {
    let (_dir, store) = open();
    Doc::new("a.md", Classification::Public)
        .paragraph("Before the torque table.", vector(1, 0.0))
        .paragraph("M10: 45 N·m", vector(2, 0.0))
        .paragraph("After it.", vector(3, 0.0))
        .ingest(&store, "a");
    let hit = store
        .keyword_chunks("M10", 1, &everyone(), &SearchFilter::default())
        .unwrap();
    let opened = store
        .open_chunk(hit[0].chunk_id, &everyone(), 8)
        .unwrap()
        .unwrap();
    assert_eq!(opened.chunk.text, "M10: 45 N·m");
    assert_eq!(opened.before, "table.\n\n");
    assert_eq!(opened.after, "\n\nAfter ");
}

#[test]
fn bad_vectors_spans_and_states_are_refused() {
    let (_dir, store) = open();
    let doc = Doc::new("a.md", Classification::Public).paragraph("text", vector(1, 0.0));
    let text = doc.text();
    let metadata = serde_json::json!({});
    let VersionStart::Ingest { version_id, .. } = store
        .begin_version(&doc.version(&text, "h", &metadata), false)
        .unwrap()
    else {
        panic!("new")
    };
    let mut chunk = doc.chunks(&text).remove(0);
    let short = vec![0.5; 3];
    chunk.embedding = &short;
    assert!(matches!(
        store.add_chunks(version_id, &[chunk.clone()]),
        Err(StoreError::Invalid(message)) if message.contains("3-dimensional")
    ));
    let good = vector(1, 0.0);
    chunk.embedding = &good;
    chunk.span = 0..999;
    assert!(matches!(
        store.add_chunks(version_id, &[chunk.clone()]),
        Err(StoreError::Invalid(message)) if message.contains("spans bytes")
    ));
    chunk.span = 0..4;
    chunk.ordinal = 1;
    store.add_chunks(version_id, &[chunk]).unwrap();
    assert!(matches!(
        store.activate_version(version_id),
        Err(StoreError::Invalid(message)) if message.contains("gaps")
    ));
    assert!(matches!(
        store.nearest_chunks(&[1.0], 1, &everyone(), &SearchFilter::default()),
        Err(StoreError::Invalid(_))
    ));
    assert!(store.set_embedding_model("other", 768).is_err());
    store.set_embedding_model("all-MiniLM-L6-v2", 384).unwrap();
    assert_eq!(
        store.embedding_model().unwrap(),
        Some(("all-MiniLM-L6-v2".to_owned(), 384))
    );
}
