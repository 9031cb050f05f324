//! Scored tool choice: the planner picks its tools first, then fills their arguments.
//!
//! Greedy decoding commits to a tool on the first token that differs between tool names, and
//! a small model often commits to the wrong one. Here the plan is written one intent at a
//! time. Before each, the model chooses between ending the plan and another call (`]}` against
//! `{"tool":"`, scored). For a call, it scores every offered tool's whole name after
//! `{"tool":"`, and each tool's similarity to the request (all-MiniLM-L6-v2, as in
//! preselection) is added as a prior:
//!
//! `score(tool) = ln p_model(tool) + similarity_weight × cosine(request, tool)`
//!
//! The best tool is chosen, and the model writes that call's arguments under a grammar that
//! allows only that tool.
//!
//! A small model often ends a plan after the first of several things a request asks for
//! ("Show CPU and memory usage and the last 20 lines of syslog" got only the log read). So
//! when the model would end the plan of a request of several clauses ([`crate::clauses`]),
//! each clause is scored as if it were the whole request. A clause asks for a tool when the
//! model would call one for it, and its favourite and the combined favourite agree on one
//! with a combined probability of at least [`CLAUSE_MIN_PROBABILITY`]; fragments such as
//! "tell me the count" ask for nothing. While a clause asks for a tool no call of the plan
//! uses, the plan goes on with that tool.
//!
//! The plant documents searched before planning are evidence too. When a passage came close
//! to the request, the request is at least that similar to `search_documents`
//! ([`credit_documents`]): a question the documents answer is not planned as a log read or a
//! log-level change because the small model leaned that way.

use serde::Serialize;

/// The settings of the scored choice (`make eval-planner` measures them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoredChoice {
    /// Weight of the request–tool cosine similarity against the model's log-probability
    /// (0: the model's scores alone).
    pub similarity_weight: f64,
    /// Whether a plan goes on while a clause of the request asks for a tool it does not use.
    pub cover_clauses: bool,
}

impl Default for ScoredChoice {
    fn default() -> Self {
        Self {
            similarity_weight: 12.0,
            cover_clauses: true,
        }
    }
}

/// The combined probability a clause's favourite tool needs for the clause to ask for it.
pub const CLAUSE_MIN_PROBABILITY: f64 = 0.5;

/// How the planner picks the tools of a plan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ToolChoice {
    /// The model's own token-by-token choice while it writes the plan.
    Greedy,
    /// Tools scored and chosen first, then their arguments written.
    Scored(ScoredChoice),
}

/// One offered tool's scores for a request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolScore {
    /// The tool.
    pub tool: String,
    /// The model's probability for it as the first call, among the offered tools.
    pub model: f64,
    /// Its cosine similarity to the request (0 when the embedding model is unavailable).
    pub similarity: f32,
    /// The combined probability the choice is made on.
    pub combined: f64,
}

/// The scores of each tool named in `tools`, from the model's log-probabilities `log_probs`
/// and the similarities `similarities` (same order), best first.
pub(crate) fn combine(
    tools: &[String],
    log_probs: &[f64],
    similarities: &[f32],
    settings: &ScoredChoice,
) -> Vec<ToolScore> {
    let model = softmax(log_probs);
    let combined_logits: Vec<f64> = log_probs
        .iter()
        .zip(similarities)
        .map(|(lp, sim)| lp + settings.similarity_weight * f64::from(*sim))
        .collect();
    let combined = softmax(&combined_logits);
    let mut scores: Vec<ToolScore> = tools
        .iter()
        .enumerate()
        .map(|(i, tool)| ToolScore {
            tool: tool.clone(),
            model: model[i],
            similarity: similarities[i],
            combined: combined[i],
        })
        .collect();
    scores.sort_by(|a, b| b.combined.total_cmp(&a.combined));
    scores
}

/// A request as the scored choice weighs it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScoredRequest<'a> {
    /// The operator's request.
    pub text: &'a str,
    /// The cosine similarity of the passage nearest the request among those the documents
    /// search found before planning.
    pub passage_similarity: Option<f32>,
}

/// Credits the document search with `passage_similarity`, the cosine similarity of the
/// passage nearest the request among those found before planning: `search_documents` (when
/// among `tools`) is at least that similar to the request. `similarities` is in the order of
/// `tools`.
pub(crate) fn credit_documents(
    tools: &[String],
    similarities: &mut [f32],
    passage_similarity: Option<f32>,
) {
    let Some(passage) = passage_similarity else {
        return;
    };
    for (tool, similarity) in tools.iter().zip(similarities.iter_mut()) {
        if tool == crate::documents::SEARCH_DOCUMENTS {
            *similarity = similarity.max(passage);
        }
    }
}

/// One step of a scored plan: the choice between ending it and another call, and, for a
/// call, the tools' scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanChoice {
    /// The model's probability of ending the plan here rather than adding a call.
    pub end: f64,
    /// Every offered tool's scores for the call, best first (empty when the plan ended).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ToolScore>,
    /// The clause of the request the call was added for, when the model would have ended
    /// the plan (then `tools` are the clause's scores).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clause: Option<String>,
}

/// A clause of a request scored as if it were the whole request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClauseChoice {
    /// The clause.
    pub clause: String,
    /// The model's probability of planning no call for it.
    pub end: f64,
    /// Every offered tool's scores for its first call, best first.
    pub tools: Vec<ToolScore>,
}

impl ClauseChoice {
    /// The tool the clause asks for: the model would call one, and its favourite and the
    /// combined favourite agree, with a combined probability of at least
    /// [`CLAUSE_MIN_PROBABILITY`].
    pub(crate) fn asked_tool(&self) -> Option<&str> {
        let combined = self.tools.first()?;
        let model = self
            .tools
            .iter()
            .max_by(|a, b| a.model.total_cmp(&b.model))?;
        (!ends_plan(self.end)
            && combined.tool == model.tool
            && combined.combined >= CLAUSE_MIN_PROBABILITY)
            .then_some(combined.tool.as_str())
    }
}

/// The model's probability of ending the plan rather than adding a call: `log_end` is the
/// log-probability of closing the list, `log_call` of opening another intent.
pub(crate) fn end_probability(log_end: f64, log_call: f64) -> f64 {
    softmax(&[log_end, log_call])[0]
}

/// Whether the plan ends, given the probability of ending it ([`end_probability`]).
pub(crate) fn ends_plan(end: f64) -> bool {
    end > 0.5
}

fn softmax(logits: &[f64]) -> Vec<f64> {
    let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return vec![0.0; logits.len()];
    }
    let exps: Vec<f64> = logits.iter().map(|l| (l - max).exp()).collect();
    let sum: f64 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(tools: &[&str]) -> Vec<String> {
        tools.iter().map(|&t| t.to_owned()).collect()
    }

    const PLAIN: ScoredChoice = ScoredChoice {
        similarity_weight: 0.0,
        cover_clauses: false,
    };

    #[test]
    fn without_similarity_the_models_favourite_leads() {
        let tools = names(&["get_logs", "get_system_status", "list_files"]);
        let scores = combine(&tools, &[-0.2, -2.0, -5.0], &[0.1, 0.9, 0.0], &PLAIN);
        assert_eq!(scores[0].tool, "get_logs");
        assert_eq!(scores[2].tool, "list_files");
        let total: f64 = scores.iter().map(|s| s.combined).sum();
        assert!((total - 1.0).abs() < 1e-9);
        assert!((scores[0].combined - scores[0].model).abs() < 1e-12);
    }

    #[test]
    fn similarity_can_overturn_a_narrow_model_preference_but_not_a_clear_one() {
        let tools = names(&["sap_notifications", "sap_maintenance_orders"]);
        let settings = ScoredChoice {
            similarity_weight: 8.0,
            ..ScoredChoice::default()
        };
        // The model leans to notifications (0.62 vs 0.38); the request reads like orders.
        let narrow = [0.62_f64.ln(), 0.38_f64.ln()];
        let scores = combine(&tools, &narrow, &[0.35, 0.70], &settings);
        assert_eq!(scores[0].tool, "sap_maintenance_orders");
        assert!((scores[0].model - 0.38).abs() < 1e-9);
        // A model sure of its choice (0.999) keeps it against the same similarities.
        let clear = [0.999_f64.ln(), 0.001_f64.ln()];
        let scores = combine(&tools, &clear, &[0.35, 0.70], &settings);
        assert_eq!(scores[0].tool, "sap_notifications");
    }

    #[test]
    fn impossible_scores_give_zero_probabilities_rather_than_nan() {
        let tools = names(&["a", "b"]);
        let scores = combine(
            &tools,
            &[f64::NEG_INFINITY, f64::NEG_INFINITY],
            &[0.0; 2],
            &PLAIN,
        );
        assert!(scores.iter().all(|s| s.combined == 0.0));
        assert!(ends_plan(end_probability(-0.1, -3.0)));
        assert!(!ends_plan(end_probability(-3.0, -0.1)));
        assert!((end_probability(-2.0, -2.0) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn a_close_passage_credits_the_document_search_only() {
        let tools = names(&["get_logs", "search_documents", "set_log_level"]);
        let mut similarities = [0.16, 0.22, 0.09];
        credit_documents(&tools, &mut similarities, Some(0.58));
        assert_eq!(similarities, [0.16, 0.58, 0.09]);
        // A passage less similar than the tool's own description changes nothing.
        credit_documents(&tools, &mut similarities, Some(0.3));
        assert_eq!(similarities, [0.16, 0.58, 0.09]);
        let mut unchanged = [0.16, 0.22, 0.09];
        credit_documents(&tools, &mut unchanged, None);
        assert_eq!(unchanged, [0.16, 0.22, 0.09]);
        // A model leaning to a log read (0.40 against 0.05) outvotes the search's own
        // description, but not the passage the search found.
        let settings = ScoredChoice::default();
        let log_probs = [0.40_f64.ln(), 0.05_f64.ln(), 0.30_f64.ln()];
        let scores = combine(&tools, &log_probs, &unchanged, &settings);
        assert_eq!(scores[0].tool, "get_logs");
        let scores = combine(&tools, &log_probs, &similarities, &settings);
        assert_eq!(scores[0].tool, "search_documents");
    }

    /// A clause the model ends at once with probability `end`, and otherwise calls the three
    /// tools at the probabilities `tools`.
    fn clause(end: f64, tools: [f64; 3], similarities: &[f32]) -> ClauseChoice {
        let names = names(&["get_system_status", "get_logs", "search_documents"]);
        let log_probs: Vec<f64> = tools.iter().map(|p| p.ln()).collect();
        ClauseChoice {
            clause: "a clause".to_owned(),
            end,
            tools: combine(&names, &log_probs, similarities, &ScoredChoice::default()),
        }
    }

    #[test]
    fn a_clause_asks_for_a_tool_only_when_the_model_and_the_similarity_agree_on_it() {
        // "memory usage": the model is sure, the similarity weak but on its side.
        let sure = clause(0.03, [0.86, 0.05, 0.09], &[0.25, 0.2, 0.1]);
        assert_eq!(sure.asked_tool(), Some("get_system_status"));
        // "bearing noise": the similarity carries a tool the model does not favour.
        let split = clause(0.31, [0.10, 0.55, 0.35], &[0.45, 0.1, 0.0]);
        assert_eq!(split.tools[0].tool, "get_system_status");
        assert_eq!(split.asked_tool(), None);
        // "tell me the count": they agree, but on a coin toss.
        let unsure = clause(0.12, [0.4, 0.35, 0.25], &[0.03, 0.03, 0.03]);
        assert!(unsure.tools[0].combined < CLAUSE_MIN_PROBABILITY);
        assert_eq!(unsure.asked_tool(), None);
        // A clause the model would plan nothing for asks for nothing.
        let nothing = clause(0.8, [0.9, 0.05, 0.05], &[0.5, 0.1, 0.1]);
        assert_eq!(nothing.asked_tool(), None);
    }
}
