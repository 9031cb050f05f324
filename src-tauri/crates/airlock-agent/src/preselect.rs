//! Tool preselection for small planner models: the planner is shown, and its grammar allows,
//! only the tools most similar to the request (plus a few always offered), instead of every
//! tool in the catalog.
//!
//! Off by default: with the bundled models and the 22-tool catalog it gained at most 2 of 32
//! cases, within noise (BENCHMARKS.md, "Planner: tool preselection"); `--preselect K` turns it
//! on. Each tool is known by several vectors: its name and description, and each few-shot
//! example request whose plan uses it (`fixtures/planner/examples.toml`). A tool's score is
//! its best cosine similarity to the request.

use airlock_core::ToolSpec;
use airlock_llm::{EmbedError, Embedder};

use crate::planner::Example;

/// The tools a preselecting planner is offered whatever the request: the status read, the
/// first step of most diagnoses.
pub const ALWAYS_OFFERED: &[&str] = &["get_system_status"];

/// How many tools the planner is offered per request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preselection {
    /// How many of the tools most similar to the request are offered; 0 offers every tool.
    pub top_k: usize,
    /// Tools offered whatever the request.
    pub always: Vec<String>,
    /// Whether the prompt, too, lists only the offered tools (and the examples using them);
    /// otherwise only the grammar is narrowed and the prompt stays the same for every
    /// request, so the model worker reuses its cached prefix.
    pub narrow_prompt: bool,
}

impl Preselection {
    /// Every tool, every time: no preselection.
    #[must_use]
    pub fn off() -> Self {
        Self {
            top_k: 0,
            always: Vec::new(),
            narrow_prompt: false,
        }
    }

    /// The `top_k` most similar tools, plus `always`, allowed by the grammar (the prompt
    /// still lists every tool).
    #[must_use]
    pub fn top(top_k: usize, always: &[&str]) -> Self {
        Self {
            top_k,
            always: always.iter().map(|&name| name.to_owned()).collect(),
            narrow_prompt: false,
        }
    }

    /// The same offer, made in the prompt as well as in the grammar.
    #[must_use]
    pub fn in_prompt_too(self) -> Self {
        Self {
            narrow_prompt: true,
            ..self
        }
    }

    /// Whether requests see a subset of the tools.
    #[must_use]
    pub fn is_on(&self) -> bool {
        self.top_k > 0
    }
}

/// The vectors each tool is known by.
pub(crate) struct ToolIndex {
    tools: Vec<(String, Vec<Vec<f32>>)>,
}

impl ToolIndex {
    /// Embeds each spec's name and description and each example request under the tools its
    /// plan uses.
    ///
    /// # Errors
    /// [`EmbedError`] when the embedding model fails.
    pub(crate) fn build(
        embedder: &Embedder,
        specs: &[ToolSpec],
        examples: &[Example],
    ) -> Result<Self, EmbedError> {
        let mut owners: Vec<&str> = Vec::new();
        let mut texts: Vec<String> = Vec::new();
        for spec in specs {
            owners.push(&spec.name);
            texts.push(format!(
                "{}: {}",
                spec.name.replace('_', " "),
                spec.description
            ));
        }
        for example in examples {
            for tool in example.tools() {
                if let Some(spec) = specs.iter().find(|spec| spec.name == *tool) {
                    owners.push(&spec.name);
                    texts.push(example.request().to_owned());
                }
            }
        }
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let vectors = embedder.embed(&refs)?;
        let mut tools: Vec<(String, Vec<Vec<f32>>)> = specs
            .iter()
            .map(|spec| (spec.name.clone(), Vec::new()))
            .collect();
        for (owner, vector) in owners.into_iter().zip(vectors) {
            if let Some((_, known)) = tools.iter_mut().find(|(name, _)| name == owner) {
                known.push(vector);
            }
        }
        Ok(Self { tools })
    }

    /// Every tool with its score for the unit vector `query`, most similar first.
    pub(crate) fn rank(&self, query: &[f32]) -> Vec<(&str, f32)> {
        let mut ranked: Vec<(&str, f32)> = self
            .tools
            .iter()
            .map(|(name, vectors)| {
                let best = vectors
                    .iter()
                    .map(|vector| dot(vector, query))
                    .fold(f32::NEG_INFINITY, f32::max);
                (name.as_str(), best)
            })
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        ranked
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The specs the planner is offered: the `preselection.top_k` best of `ranked` and the
/// `always` ones, in the catalog's order (every spec when preselection is off).
pub(crate) fn offered(
    specs: &[ToolSpec],
    ranked: &[(&str, f32)],
    preselection: &Preselection,
) -> Vec<ToolSpec> {
    if !preselection.is_on() {
        return specs.to_vec();
    }
    let chosen: Vec<&str> = ranked
        .iter()
        .take(preselection.top_k)
        .map(|(name, _)| *name)
        .chain(preselection.always.iter().map(String::as_str))
        .collect();
    specs
        .iter()
        .filter(|spec| chosen.contains(&spec.name.as_str()))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use airlock_core::{Classification, SystemKind, ToolEffect, ToolTarget};
    use serde_json::json;

    use super::*;

    fn spec(name: &str) -> ToolSpec {
        ToolSpec {
            name: name.into(),
            description: String::new(),
            parameters: json!({"type": "object"}),
            effect: ToolEffect::Read,
            target: ToolTarget::named_by_args(SystemKind::Ops, Classification::Internal),
        }
    }

    fn index(tools: &[(&str, &[&[f32]])]) -> ToolIndex {
        ToolIndex {
            tools: tools
                .iter()
                .map(|(name, vectors)| {
                    (
                        (*name).to_owned(),
                        vectors.iter().map(|v| v.to_vec()).collect(),
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn a_tool_scores_by_its_best_vector() {
        let index = index(&[
            ("get_logs", &[&[1.0, 0.0], &[0.0, 1.0]]),
            ("list_files", &[&[0.6, 0.8]]),
        ]);
        let ranked = index.rank(&[0.0, 1.0]);
        assert_eq!(ranked[0], ("get_logs", 1.0));
        assert_eq!(ranked[1].0, "list_files");
        let ranked = index.rank(&[0.6, 0.8]);
        assert_eq!(ranked[0].0, "list_files");
    }

    #[test]
    fn offered_keeps_the_top_k_and_the_always_on_in_catalog_order() {
        let specs = [spec("a"), spec("b"), spec("c"), spec("d")];
        let ranked = [("d", 0.9), ("b", 0.8), ("a", 0.1), ("c", 0.0)];
        let names = |offered: Vec<ToolSpec>| {
            offered
                .into_iter()
                .map(|spec| spec.name)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(offered(&specs, &ranked, &Preselection::top(2, &["c"]))),
            ["b", "c", "d"]
        );
        assert_eq!(
            names(offered(&specs, &ranked, &Preselection::top(1, &["d"]))),
            ["d"]
        );
        assert_eq!(
            names(offered(&specs, &ranked, &Preselection::off())),
            ["a", "b", "c", "d"]
        );
    }
}
