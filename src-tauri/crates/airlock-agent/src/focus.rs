//! Which retrieved passages an answer is written from. Given five passages, a small model often
//! answers from a neighbour of the one that holds the answer; given the two the request is most
//! likely about, it keeps to them, and the others are listed beside the answer to open.
//!
//! "Most likely about" is query likelihood (unsupervised passage re-ranking): how probable the
//! model finds the operator's request as a question written about each passage. The request
//! is the same text after every passage, so the log-probabilities compare directly.

use airlock_llm::{ChatMessage, Role, ScoreRequest};
use airlock_rag::Passage;

use crate::answer::{truncate, MAX_RESULT_CHARS};

/// How many passages an answer is written from; the rest are listed as further reading.
pub(crate) const ANSWER_PASSAGES: usize = 2;

/// The scoring of `request` as a question written about `passage`.
pub(crate) fn likelihood_request(request: &str, passage: &Passage) -> ScoreRequest {
    ScoreRequest {
        messages: vec![ChatMessage::new(
            Role::User,
            format!(
                "Passage from {}:\n{}\n\nWrite a question that this passage answers.",
                passage.citation,
                truncate(passage.text.trim(), MAX_RESULT_CHARS)
            ),
        )],
        prefix: String::new(),
        continuations: vec![request.to_owned()],
        shared_messages: 0,
    }
}

/// The passages' indices, most likely first by `log_probs` (one per passage, in retrieval
/// order); ties keep the retrieval order.
pub(crate) fn ranked(log_probs: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..log_probs.len()).collect();
    order.sort_by(|&a, &b| log_probs[b].total_cmp(&log_probs[a]).then(a.cmp(&b)));
    order
}

/// `passages` taken in `order`, split into the [`ANSWER_PASSAGES`] the answer is written from
/// and the rest.
pub(crate) fn split(passages: &[Passage], order: &[usize]) -> (Vec<Passage>, Vec<Passage>) {
    let mut ordered: Vec<Passage> = order.iter().map(|&i| passages[i].clone()).collect();
    let rest = ordered.split_off(ANSWER_PASSAGES.min(ordered.len()));
    (ordered, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passage(chunk_id: i64) -> Passage {
        Passage {
            chunk_id,
            citation: format!("[Manual, part {chunk_id}]"),
            quote: String::new(),
            text: format!("  text {chunk_id}\n"),
            score: 0.0,
            similarity: None,
        }
    }

    #[test]
    fn the_request_is_scored_as_a_question_about_the_passage() {
        let scored = likelihood_request("How tight are the bolts?", &passage(7));
        assert_eq!(scored.continuations, ["How tight are the bolts?"]);
        assert!(scored.prefix.is_empty());
        assert_eq!(scored.messages.len(), 1);
        assert_eq!(
            scored.messages[0].content,
            "Passage from [Manual, part 7]:\ntext 7\n\nWrite a question that this passage answers."
        );
    }

    #[test]
    fn the_most_likely_passages_come_first_and_ties_keep_retrieval_order() {
        assert_eq!(ranked(&[-30.0, -12.5, -40.0, -12.5]), [1, 3, 0, 2]);
        assert!(ranked(&[]).is_empty());
    }

    #[test]
    fn the_answer_is_written_from_the_first_ones_and_the_rest_are_listed() {
        let passages: Vec<Passage> = (1..=4).map(passage).collect();
        let (answer, rest) = split(&passages, &[2, 0, 3, 1]);
        let ids = |list: &[Passage]| list.iter().map(|p| p.chunk_id).collect::<Vec<_>>();
        assert_eq!(ids(&answer), [3, 1]);
        assert_eq!(ids(&rest), [4, 2]);
        let (answer, rest) = split(&passages[..1], &[0]);
        assert_eq!(ids(&answer), [1]);
        assert!(rest.is_empty());
    }
}
