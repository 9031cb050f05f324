//! SAP over OData v2: a client for an on-premise gateway (basic auth with the password from
//! the vault, CSRF tokens, ETags, server paging, a response cap, one allowed origin), typed
//! operations on maintenance orders, notifications and production orders, and the governed
//! tools over them.

mod api;
mod client;
mod connection;
mod error;
pub mod odata;
pub mod query;
mod tools;

pub use api::{
    MaintenanceFilter, NewMaintenance, Priority, ProductionFilter, StatusChange,
    MAINTENANCE_ORDERS, NOTIFICATIONS, NOTIFICATION_PHASES, ORDER_STATUSES, PRODUCTION_ORDERS,
};
pub use client::SapClient;
pub use connection::{SapConnection, DEFAULT_MAX_RESPONSE_BYTES};
pub use error::SapError;
pub use tools::{specs, tools, SapSource, MAX_TOP};
