//! The catalog: the specification of every tool Airlock governs, whether or not its executor
//! is installed yet. The governor validates arguments against these schemas and Cedar names
//! each tool as an action. Executors: the simulator's read tools ([`crate::ops`]), the MES
//! tools ([`crate::mes`]), the SAP tools ([`crate::sap`]) and the sandbox (`run_command`, in
//! `airlock-sandbox`); the others arrive with their connectors, and until then the agent
//! refuses to run them with a message saying so.

use airlock_core::{Classification, Environment, SystemKind, ToolEffect, ToolSpec, ToolTarget};
use serde_json::json;

use crate::ops::OpsSimulator;

/// Every governed tool's spec: the simulator's first, then the rest by name, then the MES's,
/// then SAP's (the small planner models over-pick the tools listed first).
#[must_use]
pub fn specs() -> Vec<ToolSpec> {
    let mut specs = OpsSimulator::specs();
    specs.extend([
        create_purchase_request(),
        read_document(),
        restart_service(),
        run_command(),
        search_documents(),
        set_config(),
    ]);
    specs.extend(crate::mes::specs());
    #[cfg(target_os = "linux")]
    specs.extend(crate::sap::specs());
    specs
}

fn system_param() -> serde_json::Value {
    json!({
        "type": "string",
        "minLength": 1,
        "maxLength": 32,
        "description": "The target system's id, e.g. plant-ops, pkg-line3 or ops-dev."
    })
}

fn run_command() -> ToolSpec {
    ToolSpec::new(
        "run_command",
        "Run one read-only shell command (cat, ls, head, tail, grep, wc, echo, date, hostname) \
         in the sandbox, where the plant files are mounted read-only at /sim.",
        json!({
            "type": "object",
            "properties": {
                "command": {"type": "string", "minLength": 1, "maxLength": 512,
                            "description": "The command line, e.g. tail -n 20 /sim/logs/syslog.log."}
            },
            "required": ["command"],
            "additionalProperties": false
        }),
        ToolEffect::Read,
        ToolTarget::system(
            SystemKind::Sandbox,
            "plant-ops",
            Environment::Prod,
            Classification::Internal,
        ),
    )
}

/// `restart_service`, executed by the simulator ([`crate::ops`]).
pub(crate) fn restart_service() -> ToolSpec {
    ToolSpec::new(
        "restart_service",
        "Restart one service that the system status reports down or degraded (e.g. labelprintd \
         on pkg-line3). Disruptive: it needs approval.",
        json!({
            "type": "object",
            "properties": {
                "service": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_.-]{0,39}$",
                            "description": "The service's name as the system status lists it, e.g. labelprintd."},
                "system": system_param()
            },
            "required": ["service", "system"],
            "additionalProperties": false
        }),
        ToolEffect::Write,
        ToolTarget::named_by_args(SystemKind::Ops, Classification::Internal),
    )
}

fn set_config() -> ToolSpec {
    ToolSpec::new(
        "set_config",
        "Change one configuration value of a system (a write that needs approval).",
        json!({
            "type": "object",
            "properties": {
                "system": system_param(),
                "key": {"type": "string", "minLength": 1, "maxLength": 128,
                        "description": "Dotted configuration key, e.g. printer.label.width_mm."},
                "value": {"type": ["string", "number", "boolean"],
                          "maxLength": 256, "description": "The new value."}
            },
            "required": ["system", "key", "value"],
            "additionalProperties": false
        }),
        ToolEffect::Write,
        ToolTarget::named_by_args(SystemKind::Ops, Classification::Internal),
    )
}

fn create_purchase_request() -> ToolSpec {
    ToolSpec::new(
        "create_purchase_request",
        "Create an SAP purchase requisition for spare parts or hardware. amount_cents is the \
         total in integer cents (e.g. 12500 for 125.00).",
        json!({
            "type": "object",
            "properties": {
                "item": {"type": "string", "minLength": 2, "maxLength": 80},
                "quantity": {"type": "integer", "minimum": 1, "maximum": 10000},
                "amount_cents": {"type": "integer",
                                 "description": "Total price in integer cents."},
                "vendor": {"type": "string", "minLength": 2, "maxLength": 80}
            },
            "required": ["item", "quantity", "amount_cents"],
            "additionalProperties": false
        }),
        ToolEffect::Write,
        ToolTarget::system(
            SystemKind::Sap,
            "sap-prd",
            Environment::Prod,
            Classification::Internal,
        ),
    )
}

fn search_documents() -> ToolSpec {
    ToolSpec::new(
        "search_documents",
        "Search the plant's documents (manuals, SOPs, shift handovers, reports) for passages \
         that answer a question; returns the passages with their citations.",
        json!({
            "type": "object",
            "properties": {
                "query": {"type": "string", "minLength": 1, "maxLength": 500,
                          "description": "The question or keywords, e.g. P-101 impeller bolt torque."},
                "top_k": {"type": "integer", "minimum": 1, "maximum": 10,
                          "description": "How many passages to return (default 5)."},
                "equipment": {"type": "string", "minLength": 1, "maxLength": 32,
                              "description": "Only documents about this equipment, e.g. P-101."}
            },
            "required": ["query"],
            "additionalProperties": false
        }),
        ToolEffect::Read,
        ToolTarget::system(
            SystemKind::Documents,
            "plant-docs",
            Environment::Prod,
            Classification::Restricted,
        ),
    )
}

fn read_document() -> ToolSpec {
    ToolSpec::new(
        "read_document",
        "Read one plant document (SOP, manual, deviation report) by its id.",
        json!({
            "type": "object",
            "properties": {
                "document": {"type": "string", "minLength": 1, "maxLength": 64,
                             "description": "Document id, e.g. sop-pump-p101."}
            },
            "required": ["document"],
            "additionalProperties": false
        }),
        ToolEffect::Read,
        ToolTarget::named_by_args(SystemKind::Documents, Classification::Restricted),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_every_schema_refuses_unknown_fields() {
        let specs = specs();
        let mut names: Vec<_> = specs.iter().map(|s| s.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), specs.len());
        for spec in &specs {
            assert_eq!(
                spec.parameters["additionalProperties"],
                json!(false),
                "{}",
                spec.name
            );
            assert_eq!(spec.parameters["type"], json!("object"), "{}", spec.name);
        }
    }
}
