//! `policy/principals.toml`: roles, people, agent profiles, systems and documents, and their
//! Cedar entities.

use std::collections::{BTreeMap, BTreeSet};

use airlock_core::Classification;
use serde::Deserialize;
use serde_json::{json, Value};

/// A role: its own tools and the roles whose tools and permissions it inherits.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Role {
    /// Roles this role is a member of.
    pub member_of: Vec<String>,
    /// Tools this role may call (besides those of `member_of`).
    pub tools: Vec<String>,
    /// The most sensitive documents its holders may retrieve (the highest of a member's roles
    /// counts; none: public only).
    pub clearance: Option<Classification>,
}

/// A person, keyed by OS login name, or an agent profile.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Member {
    /// Roles held.
    pub roles: Vec<String>,
    /// Groups (approver groups, plant areas, document audiences).
    pub groups: Vec<String>,
    /// Agent profiles only: the tools this agent may call, within its roles' tools.
    pub tools: Option<Vec<String>>,
    /// A blocked principal is denied everything.
    pub blocked: bool,
    /// Overrides the clearance the roles give.
    pub clearance: Option<Classification>,
}

/// A system a tool can touch.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct System {
    /// `prod` or `dev`.
    pub environment: String,
    /// `public`, `internal` or `restricted`.
    pub classification: String,
    /// What it is, for people.
    #[serde(default)]
    pub description: String,
}

/// A document the assistant can read.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// `public`, `internal` or `restricted`.
    pub classification: String,
    /// The group that may read it when it is restricted.
    pub audience: String,
}

/// Whether a principal is a person or an agent profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    /// An OS user.
    User,
    /// A named agent profile.
    Agent,
}

impl PrincipalKind {
    /// The Cedar entity type.
    #[must_use]
    pub fn entity_type(self) -> &'static str {
        match self {
            PrincipalKind::User => "Airlock::User",
            PrincipalKind::Agent => "Airlock::Agent",
        }
    }
}

/// The parsed `principals.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Directory {
    /// Roles by name.
    pub roles: BTreeMap<String, Role>,
    /// People by OS login name.
    pub users: BTreeMap<String, Member>,
    /// Agent profiles by name.
    pub agents: BTreeMap<String, Member>,
    /// Systems by id.
    pub systems: BTreeMap<String, System>,
    /// Documents by id.
    pub documents: BTreeMap<String, Document>,
}

impl Directory {
    /// The principal named `name` and whether it is a person or an agent.
    #[must_use]
    pub fn principal(&self, name: &str) -> Option<(PrincipalKind, &Member)> {
        self.users
            .get(name)
            .map(|m| (PrincipalKind::User, m))
            .or_else(|| self.agents.get(name).map(|m| (PrincipalKind::Agent, m)))
    }

    /// Every tool `member` may call: its roles' tools (inherited transitively), narrowed to the
    /// agent profile's list when it has one.
    #[must_use]
    pub fn allowed_tools(&self, member: &Member) -> BTreeSet<String> {
        let mut tools: BTreeSet<String> = self
            .roles_of(member)
            .flat_map(|role| role.tools.iter().cloned())
            .collect();
        if let Some(profile) = &member.tools {
            tools.retain(|tool| profile.contains(tool));
        }
        tools
    }

    /// The most sensitive documents `member` may retrieve: its own clearance when set, else the
    /// highest of its roles' (inherited transitively), else public. Documents whose audience is
    /// one of the member's groups are readable besides.
    #[must_use]
    pub fn clearance(&self, member: &Member) -> Classification {
        member.clearance.unwrap_or_else(|| {
            self.roles_of(member)
                .filter_map(|role| role.clearance)
                .max()
                .unwrap_or(Classification::Public)
        })
    }

    /// What the principal named `name` may retrieve: its clearance and its groups (document
    /// audiences). An unknown or blocked principal gets public documents only.
    #[must_use]
    pub fn reader(&self, name: &str) -> (Classification, Vec<String>) {
        match self.principal(name) {
            Some((_, member)) if !member.blocked => (self.clearance(member), member.groups.clone()),
            _ => (Classification::Public, Vec::new()),
        }
    }

    /// The roles and groups of the person named `name` (an approver group may name either);
    /// empty for an agent profile, a blocked person or a stranger.
    #[must_use]
    pub fn memberships(&self, name: &str) -> Vec<String> {
        match self.principal(name) {
            Some((PrincipalKind::User, member)) if !member.blocked => {
                member.roles.iter().chain(&member.groups).cloned().collect()
            }
            _ => Vec::new(),
        }
    }

    /// `member`'s roles and the roles they are members of, each once.
    fn roles_of<'a>(&'a self, member: &'a Member) -> impl Iterator<Item = &'a Role> + 'a {
        let mut seen = BTreeSet::new();
        let mut pending: Vec<&str> = member.roles.iter().map(String::as_str).collect();
        std::iter::from_fn(move || {
            while let Some(name) = pending.pop() {
                if !seen.insert(name) {
                    continue;
                }
                if let Some(role) = self.roles.get(name) {
                    pending.extend(role.member_of.iter().map(String::as_str));
                    return Some(role);
                }
            }
            None
        })
    }

    /// Names referenced but not defined (roles of members and roles; document audiences are
    /// free-form groups), as messages for `airlock policy check`.
    #[must_use]
    pub fn dangling_references(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let members = self
            .users
            .iter()
            .map(|(n, m)| ("user", n, m))
            .chain(self.agents.iter().map(|(n, m)| ("agent", n, m)));
        for (kind, name, member) in members {
            for role in &member.roles {
                if !self.roles.contains_key(role) {
                    problems.push(format!("{kind} `{name}` has unknown role `{role}`"));
                }
            }
        }
        for (name, role) in &self.roles {
            for parent in &role.member_of {
                if !self.roles.contains_key(parent) {
                    problems.push(format!(
                        "role `{name}` is a member of unknown role `{parent}`"
                    ));
                }
            }
        }
        for name in self.users.keys() {
            if self.agents.contains_key(name) {
                problems.push(format!("`{name}` is both a user and an agent profile"));
            }
        }
        problems
    }

    /// The Cedar entities (JSON format) of a user named `name` holding `member`'s roles and
    /// groups, plus the groups the directory does not know yet: what a stated identity adds to
    /// (or replaces in) the directory's entities.
    #[must_use]
    pub fn stated_entities(&self, name: &str, member: &Member) -> Value {
        let mut parents: Vec<Value> = member
            .roles
            .iter()
            .map(|role| uid("Airlock::Role", role))
            .collect();
        let mut entities = Vec::new();
        for group in &member.groups {
            parents.push(uid("Airlock::Group", group));
            entities.push(json!({"uid": uid("Airlock::Group", group), "attrs": {}, "parents": []}));
        }
        entities.push(json!({"uid": uid(PrincipalKind::User.entity_type(), name), "attrs": {}, "parents": parents}));
        Value::Array(entities)
    }

    /// The Cedar entities (JSON format) of everything in the directory.
    #[must_use]
    pub fn cedar_entities(&self) -> Value {
        let mut groups = BTreeSet::new();
        let mut entities = Vec::new();
        for (name, role) in &self.roles {
            let parents: Vec<Value> = role
                .member_of
                .iter()
                .map(|p| uid("Airlock::Role", p))
                .collect();
            entities
                .push(json!({"uid": uid("Airlock::Role", name), "attrs": {}, "parents": parents}));
        }
        let members = self
            .users
            .iter()
            .map(|(n, m)| (PrincipalKind::User, n, m))
            .chain(
                self.agents
                    .iter()
                    .map(|(n, m)| (PrincipalKind::Agent, n, m)),
            );
        for (kind, name, member) in members {
            let mut parents: Vec<Value> = member
                .roles
                .iter()
                .map(|r| uid("Airlock::Role", r))
                .collect();
            for group in &member.groups {
                groups.insert(group.clone());
                parents.push(uid("Airlock::Group", group));
            }
            entities.push(
                json!({"uid": uid(kind.entity_type(), name), "attrs": {}, "parents": parents}),
            );
        }
        for (name, system) in &self.systems {
            entities.push(json!({
                "uid": uid("Airlock::System", name),
                "attrs": {"environment": system.environment, "classification": system.classification},
                "parents": []
            }));
        }
        for (name, document) in &self.documents {
            groups.insert(document.audience.clone());
            entities.push(json!({
                "uid": uid("Airlock::Document", name),
                "attrs": {
                    "classification": document.classification,
                    "audience": {"__entity": uid("Airlock::Group", &document.audience)}
                },
                "parents": []
            }));
        }
        for group in groups {
            entities
                .push(json!({"uid": uid("Airlock::Group", &group), "attrs": {}, "parents": []}));
        }
        Value::Array(entities)
    }
}

fn uid(entity_type: &str, id: &str) -> Value {
    json!({"type": entity_type, "id": id})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directory(src: &str) -> Directory {
        toml::from_str(src).unwrap()
    }

    #[test]
    fn roles_inherit_tools_and_agent_profiles_narrow_them() {
        let dir = directory(
            r#"
            [roles.viewer]
            tools = ["get_logs", "list_files"]
            [roles.operator]
            member_of = ["viewer"]
            tools = ["set_log_level"]
            [users.olivia]
            roles = ["operator"]
            [agents.bot]
            roles = ["operator"]
            tools = ["get_logs", "run_command"]
            "#,
        );
        let (kind, olivia) = dir.principal("olivia").unwrap();
        assert_eq!(kind, PrincipalKind::User);
        let tools: Vec<_> = dir.allowed_tools(olivia).into_iter().collect();
        assert_eq!(tools, ["get_logs", "list_files", "set_log_level"]);
        let (kind, bot) = dir.principal("bot").unwrap();
        assert_eq!(kind, PrincipalKind::Agent);
        let tools: Vec<_> = dir.allowed_tools(bot).into_iter().collect();
        assert_eq!(tools, ["get_logs"], "run_command is not in the bot's roles");
    }

    #[test]
    fn clearance_is_the_highest_role_level_unless_the_member_sets_one() {
        let dir = directory(
            r#"
            [roles.viewer]
            clearance = "internal"
            [roles.lead]
            member_of = ["viewer"]
            clearance = "confidential"
            [roles.nothing]
            [users.victor]
            roles = ["viewer"]
            [users.lena]
            roles = ["lead"]
            [users.sam]
            roles = ["viewer"]
            clearance = "restricted"
            [users.nemo]
            roles = ["nothing"]
            "#,
        );
        let level = |name: &str| dir.clearance(dir.principal(name).unwrap().1);
        assert_eq!(level("victor"), Classification::Internal);
        assert_eq!(level("lena"), Classification::Confidential);
        assert_eq!(level("sam"), Classification::Restricted);
        assert_eq!(level("nemo"), Classification::Public);
        assert!(
            toml::from_str::<Directory>("[roles.x]\nclearance = \"secret\"").is_err(),
            "an unknown level is refused"
        );
    }

    #[test]
    fn role_cycles_do_not_loop() {
        let dir = directory(
            r#"
            [roles.a]
            member_of = ["b"]
            tools = ["x"]
            [roles.b]
            member_of = ["a"]
            tools = ["y"]
            [users.u]
            roles = ["a"]
            "#,
        );
        let (_, u) = dir.principal("u").unwrap();
        assert_eq!(dir.allowed_tools(u).len(), 2);
    }

    #[test]
    fn unknown_roles_are_reported() {
        let dir = directory(
            r#"
            [roles.viewer]
            member_of = ["ghost"]
            [users.u]
            roles = ["operatr"]
            "#,
        );
        let problems = dir.dangling_references();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("operatr"));
    }

    #[test]
    fn unknown_keys_are_errors() {
        let err = toml::from_str::<Directory>("[users.u]\nrole = [\"viewer\"]\n").unwrap_err();
        assert!(err.to_string().contains("unknown field `role`"), "{err}");
    }
}
