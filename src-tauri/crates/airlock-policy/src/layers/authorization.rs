//! Layer 3: Cedar. The principal, the tool as the action, the system or document the call
//! touches as the resource, and a context of environment, classification, amount, hour and
//! taint. Forbid wins; a permit annotated `@decision("approval")` asks its `@approver`.

use std::str::FromStr;
use std::sync::LazyLock;

use cedar_policy::{
    Authorizer, Context, Decision as CedarDecision, EntityId, EntityTypeName, EntityUid, Request,
    RestrictedExpression,
};
use serde_json::{Map, Value};

use super::Finding;
use crate::bundle::PolicyBundle;
use crate::config::{ResourceKind, ToolRules};
use crate::decision::{Layer, Risk};
use crate::directory::{Directory, PrincipalKind};

/// The group asked when an approval policy names no `@approver`.
const DEFAULT_APPROVER: &str = "admins";

/// The system or document a call touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resource {
    /// Its id in `principals.toml`.
    pub id: String,
    /// System or document.
    pub kind: ResourceKind,
    /// `prod`, `dev`, or `none` for documents.
    pub environment: String,
    /// `public`, `internal` or `restricted`.
    pub classification: String,
}

impl Resource {
    /// Whether reading it makes a session's later writes suspicious.
    pub fn is_restricted(&self) -> bool {
        self.classification == "restricted"
    }
}

/// Finds the resource a call names (its resource argument, else the tool's default). An
/// unknown or missing resource is a question for the user, not a guess.
pub(crate) fn resolve(
    directory: &Directory,
    tool: &str,
    rules: &ToolRules,
    args: &Map<String, Value>,
) -> Result<Resource, Finding> {
    let named = rules
        .resource_param
        .as_deref()
        .and_then(|param| args.get(param))
        .map(|value| {
            value
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| value.to_string())
        });
    let id = named.or_else(|| rules.default_resource.clone());
    let (noun, known): (&str, Vec<&String>) = match rules.resource_kind {
        ResourceKind::System => ("system", directory.systems.keys().collect()),
        ResourceKind::Document => ("document", directory.documents.keys().collect()),
    };
    let known_list = || {
        known
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(id) = id else {
        return Err(Finding::clarify(
            Layer::Authorization,
            "clarify.missing_resource",
            vec![format!(
                "Which {noun} should `{tool}` act on? Known: {}.",
                known_list()
            )],
            Risk::Low,
        ));
    };
    let found = match rules.resource_kind {
        ResourceKind::System => directory.systems.get(&id).map(|s| Resource {
            id: id.clone(),
            kind: ResourceKind::System,
            environment: s.environment.clone(),
            classification: s.classification.clone(),
        }),
        ResourceKind::Document => directory.documents.get(&id).map(|d| Resource {
            id: id.clone(),
            kind: ResourceKind::Document,
            environment: "none".to_owned(),
            classification: d.classification.clone(),
        }),
    };
    found.ok_or_else(|| {
        Finding::clarify(
            Layer::Authorization,
            "clarify.unknown_resource",
            vec![format!(
                "`{id}` is not a known {noun}. Which one did you mean: {}?",
                known_list()
            )],
            Risk::Low,
        )
    })
}

/// What Cedar is asked about one call.
pub(crate) struct CedarQuery<'a> {
    pub principal: &'a str,
    pub kind: PrincipalKind,
    /// The tool called (the context's `tool`).
    pub tool: &'a str,
    /// Its Cedar action: the tool itself, or `external_tool` for an attached server's tool.
    pub action: &'a str,
    pub resource: &'a Resource,
    pub amount_cents: i64,
    pub hour: u8,
    pub tainted: bool,
}

/// Asks Cedar and turns its answer (and the annotations of the deciding policies) into a
/// finding.
pub(crate) fn check(
    authorizer: &Authorizer,
    bundle: &PolicyBundle,
    entities: &cedar_policy::Entities,
    query: &CedarQuery<'_>,
) -> Finding {
    let request = match build_request(query) {
        Ok(request) => request,
        Err(message) => {
            return Finding::deny(
                Layer::Authorization,
                "cedar.bad_request",
                format!("the call could not be put to Cedar ({message}); report this as a bug"),
                Risk::Medium,
            )
        }
    };
    let response = authorizer.is_authorized(&request, &bundle.policies, entities);
    let reasons: Vec<String> = response
        .diagnostics()
        .reason()
        .map(ToString::to_string)
        .collect();
    let errors: Vec<String> = response
        .diagnostics()
        .errors()
        .map(ToString::to_string)
        .collect();
    let notes = |id: &str| bundle.notes.get(id);
    let what = format!(
        "{} `{}` → {} on {} ({}, {})",
        query.kind.entity_type(),
        query.principal,
        query.tool,
        query.resource.id,
        query.resource.environment,
        query.resource.classification
    );
    match response.decision() {
        CedarDecision::Deny => {
            let forbid = reasons
                .iter()
                .find_map(|id| notes(id).filter(|n| n.forbids).map(|n| (id, n)));
            match forbid {
                Some((id, notes)) => {
                    let reason = notes
                        .reason
                        .clone()
                        .unwrap_or_else(|| format!("forbidden by policy `{id}`"));
                    Finding::deny(Layer::Authorization, id.clone(), reason, Risk::High)
                }
                None => {
                    let mut reason = format!(
                        "no policy permits `{}` to call `{}` on `{}`",
                        query.principal, query.tool, query.resource.id
                    );
                    if !errors.is_empty() {
                        reason.push_str(&format!(
                            " (policies that failed to evaluate: {})",
                            errors.join("; ")
                        ));
                    }
                    Finding::deny(
                        Layer::Authorization,
                        "cedar.no_permit",
                        reason,
                        Risk::Medium,
                    )
                }
            }
        }
        CedarDecision::Allow => {
            let approval = reasons
                .iter()
                .find_map(|id| notes(id).filter(|n| n.needs_approval).map(|n| (id, n)));
            if let Some((id, notes)) = approval {
                let group = notes
                    .approver
                    .clone()
                    .unwrap_or_else(|| DEFAULT_APPROVER.to_owned());
                let reason = notes
                    .reason
                    .clone()
                    .unwrap_or_else(|| format!("policy `{id}` requires approval"));
                return Finding::approval(
                    Layer::Authorization,
                    id.clone(),
                    group,
                    reason,
                    Risk::Medium,
                );
            }
            let mut finding = Finding::pass(
                Layer::Authorization,
                format!("{what}: permitted by {}", reasons.join(", ")),
                Risk::Low,
            );
            finding.step.rules = reasons;
            finding
        }
    }
}

/// The entity types a request names, parsed once (parsing a type name runs Cedar's parser).
struct EntityTypes {
    user: EntityTypeName,
    agent: EntityTypeName,
    action: EntityTypeName,
    system: EntityTypeName,
    document: EntityTypeName,
}

static ENTITY_TYPES: LazyLock<Result<EntityTypes, String>> = LazyLock::new(|| {
    let parse = |name: &str| EntityTypeName::from_str(name).map_err(|err| err.to_string());
    Ok(EntityTypes {
        user: parse(PrincipalKind::User.entity_type())?,
        agent: parse(PrincipalKind::Agent.entity_type())?,
        action: parse("Airlock::Action")?,
        system: parse("Airlock::System")?,
        document: parse("Airlock::Document")?,
    })
});

fn build_request(query: &CedarQuery<'_>) -> Result<Request, String> {
    let types = ENTITY_TYPES.as_ref().map_err(String::clone)?;
    let uid = |entity_type: &EntityTypeName, id: &str| {
        EntityUid::from_type_name_and_id(entity_type.clone(), EntityId::new(id))
    };
    let principal_type = match query.kind {
        PrincipalKind::User => &types.user,
        PrincipalKind::Agent => &types.agent,
    };
    let resource_type = match query.resource.kind {
        ResourceKind::System => &types.system,
        ResourceKind::Document => &types.document,
    };
    let principal = uid(principal_type, query.principal);
    let action = uid(&types.action, query.action);
    let resource = uid(resource_type, &query.resource.id);
    let context = Context::from_pairs([
        (
            "environment".to_owned(),
            RestrictedExpression::new_string(query.resource.environment.clone()),
        ),
        (
            "classification".to_owned(),
            RestrictedExpression::new_string(query.resource.classification.clone()),
        ),
        (
            "amount_cents".to_owned(),
            RestrictedExpression::new_long(query.amount_cents),
        ),
        (
            "hour".to_owned(),
            RestrictedExpression::new_long(i64::from(query.hour)),
        ),
        (
            "tainted".to_owned(),
            RestrictedExpression::new_bool(query.tainted),
        ),
        (
            "tool".to_owned(),
            RestrictedExpression::new_string(query.tool.to_owned()),
        ),
    ])
    .map_err(|err| err.to_string())?;
    Request::new(principal, action, resource, context, None).map_err(|err| err.to_string())
}
