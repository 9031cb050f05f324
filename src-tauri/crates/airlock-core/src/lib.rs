//! Airlock's shared vocabulary.
//!
//! Every other crate speaks in these types: what a tool is ([`ToolSpec`], [`Tool`]), what the
//! model proposes ([`Plan`], [`Intent`]), how a request runs ([`Mode`]) and what gets recorded
//! ([`Event`]). This crate does no I/O beyond [`resources::locate_dir`].

mod event;
mod plan;
mod tool;

pub mod resources;

pub use event::{Event, EventKind, TraceId};
pub use plan::{Confidence, Intent, Mode, ParseModeError, Plan};
pub use tool::{
    Classification, Environment, SystemKind, Tool, ToolEffect, ToolError, ToolSpec, ToolTarget,
    Undo, UNDO_KEY,
};
