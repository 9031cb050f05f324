//! The SAP client and tools against the OData simulator over loopback, and against servers
//! that misbehave (refused connections, untrusted TLS, malformed and oversized answers).
#![cfg(target_os = "linux")]

mod support;

use std::path::PathBuf;

use airlock_connectors::sap::{
    self, MaintenanceFilter, NewMaintenance, Priority, ProductionFilter, SapClient, SapConnection,
    SapError, SapSource, MAINTENANCE_ORDERS,
};
use airlock_connectors::vault::{Backend, Secret, Vault};
use airlock_core::Undo;
use airlock_sap_sim::{SapSimulator, SimConfig};
use serde_json::{json, Map, Value};

const USER: &str = "AIRLOCK";
const PASSWORD: &str = "sim-Passw0rd-7f3a";

fn seed_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../fixtures/sap")
}

fn simulator(page_size: usize) -> SapSimulator {
    let mut config = SimConfig::new(seed_dir(), USER, PASSWORD);
    config.page_size = page_size;
    SapSimulator::start(config).expect("the simulator starts")
}

fn client(sim: &SapSimulator) -> SapClient {
    let mut connection = SapConnection::new("sap-test", &sim.root_url(), USER).unwrap();
    connection.client = Some("100".to_owned());
    SapClient::new(connection).unwrap()
}

fn secret() -> Secret {
    Secret::new(PASSWORD.to_owned())
}

fn ids(entities: &[sap::odata::Entity], field: &str) -> Vec<String> {
    entities.iter().map(|e| e.text(field).to_owned()).collect()
}

#[test]
fn open_maintenance_orders_for_one_pump_are_filtered_by_the_gateway() {
    let sim = simulator(50);
    let client = client(&sim);
    let open = client
        .maintenance_orders(
            &secret(),
            &MaintenanceFilter {
                equipment: Some("P-101".to_owned()),
                open_only: true,
            },
            50,
        )
        .unwrap();
    assert!(open.len() >= 2, "{open:?}");
    for order in &open {
        assert_eq!(order.text("Equipment"), "P-101");
        assert!(
            ["CRTD", "REL"].contains(&order.text("OrderSystemStatus")),
            "{order:?}"
        );
        assert!(
            order.text("MaintOrdBasicStartDate").starts_with("2026-"),
            "dates are readable: {order:?}"
        );
    }
    let all = client
        .maintenance_orders(
            &secret(),
            &MaintenanceFilter {
                equipment: Some("P-101".to_owned()),
                open_only: false,
            },
            50,
        )
        .unwrap();
    assert!(all.len() > open.len(), "closed P-101 orders exist too");
    let priorities: Vec<_> = ids(&open, "MaintPriority");
    let mut sorted = priorities.clone();
    sorted.sort();
    assert_eq!(priorities, sorted, "most urgent first");
}

#[test]
fn reads_follow_server_paging_and_stop_at_top() {
    let paged = simulator(3);
    let whole = simulator(100);
    let filter = MaintenanceFilter::default();
    let across_pages = client(&paged)
        .maintenance_orders(&secret(), &filter, 10)
        .unwrap();
    let in_one = client(&whole)
        .maintenance_orders(&secret(), &filter, 10)
        .unwrap();
    assert_eq!(across_pages.len(), 10);
    assert_eq!(
        ids(&across_pages, "MaintenanceOrder"),
        ids(&in_one, "MaintenanceOrder")
    );

    let released = client(&paged)
        .production_orders(
            &secret(),
            &ProductionFilter {
                released: Some(true),
                ..ProductionFilter::default()
            },
            200,
        )
        .unwrap();
    assert!(!released.is_empty());
    assert!(released
        .iter()
        .all(|o| o.fields["OrderIsReleased"] == json!(true)));
}

#[test]
fn a_write_fetches_a_csrf_token_and_recovers_when_the_gateway_expired_it() {
    let sim = simulator(50);
    let client = client(&sim);
    let created = client
        .create_maintenance_order(
            &secret(),
            &NewMaintenance {
                equipment: "P-101".to_owned(),
                description: "bearing noise at drive end".to_owned(),
                priority: Priority::High,
            },
        )
        .unwrap();
    let order = created.text("MaintenanceOrder").to_owned();
    assert_eq!(created.text("OrderSystemStatus"), "CRTD");
    assert_eq!(created.text("Equipment"), "P-101");

    sim.expire_csrf_tokens();
    let change = client
        .set_order_status(&secret(), &order, "REL", Some("CRTD"))
        .unwrap();
    assert_eq!(
        (change.before.as_str(), change.after.as_str()),
        ("CRTD", "REL")
    );

    let statuses: Vec<(String, u16)> = sim
        .writes()
        .iter()
        .map(|w| (w.method.clone(), w.status))
        .collect();
    assert_eq!(
        statuses.first(),
        Some(&("POST".to_owned(), 201)),
        "{statuses:?}"
    );
    assert!(
        statuses.ends_with(&[("PATCH".to_owned(), 403), ("PATCH".to_owned(), 204)]),
        "the stale token was refused, a new one fetched and the write sent again: {statuses:?}"
    );
}

#[test]
fn a_stale_etag_is_a_clear_conflict_and_nothing_is_written() {
    let sim = simulator(50);
    let client = client(&sim);
    let path = format!("{MAINTENANCE_ORDERS}('4000101')");
    let read = client
        .get(&secret(), &path, "maintenance order 4000101")
        .unwrap();
    let etag = read.etag.clone().expect("an ETag");
    sim.modify("MaintenanceOrder", "4000101", "MaintPriority", json!("1"))
        .unwrap();

    let mut fields = Map::new();
    fields.insert("OrderSystemStatus".to_owned(), json!("TECO"));
    let err = client
        .update(
            &secret(),
            &path,
            &fields,
            &etag,
            "maintenance order 4000101",
        )
        .unwrap_err();
    assert!(matches!(err, SapError::Conflict { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("maintenance order 4000101") && message.contains("read it again"),
        "{message}"
    );
    let now = client.get(&secret(), &path, "order").unwrap();
    assert_eq!(
        now.text("OrderSystemStatus"),
        read.text("OrderSystemStatus")
    );
}

#[test]
fn a_rollback_refuses_to_undo_a_status_someone_changed_since() {
    let sim = simulator(50);
    let client = client(&sim);
    let before = sim.writes().len();
    let err = client
        .set_order_status(&secret(), "4000101", "CRTD", Some("TECO"))
        .unwrap_err();
    assert!(matches!(err, SapError::Unexpected { .. }), "{err:?}");
    assert!(err.to_string().contains("nothing was written"), "{err}");
    assert_eq!(sim.writes().len(), before);
}

#[test]
fn wrong_credentials_name_the_connection_and_user_but_never_the_password() {
    let sim = simulator(50);
    let wrong = Secret::new("wrong-Passw0rd-zz".to_owned());
    let err = client(&sim)
        .maintenance_orders(&wrong, &MaintenanceFilter::default(), 5)
        .unwrap_err();
    assert!(matches!(err, SapError::Unauthorized { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("`sap-test`") && message.contains("`AIRLOCK`"),
        "{message}"
    );
    assert!(!message.contains("wrong-Passw0rd") && !format!("{err:?}").contains("wrong-Passw0rd"));
}

#[test]
fn sap_error_bodies_become_clear_messages() {
    let sim = simulator(50);
    let err = client(&sim)
        .create_maintenance_order(
            &secret(),
            &NewMaintenance {
                equipment: "P-999".to_owned(),
                description: "does not exist".to_owned(),
                priority: Priority::Low,
            },
        )
        .unwrap_err();
    let message = err.to_string();
    assert!(message.starts_with("SAP answered 400"), "{message}");
    assert!(message.contains("P-999"), "{message}");
}

#[test]
fn the_tools_fetch_the_secret_per_call_and_every_write_returns_its_undo() {
    let sim = simulator(50);
    let vault = Vault::with_backends(vec![Backend::KernelKeyring]);
    let name = format!("sap-tools-{}", std::process::id());
    vault.store(&name, &secret()).unwrap();
    let connection = SapConnection::new(&name, &sim.root_url(), USER).unwrap();
    let tools = sap::tools(SapSource::Connected {
        client: Box::new(SapClient::new(connection).unwrap()),
        vault: vault.clone(),
    });
    let tool = |name: &str| {
        tools
            .iter()
            .find(|tool| tool.spec().name == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    let args = |value: Value| match value {
        Value::Object(map) => map,
        _ => unreachable!(),
    };

    let listed = tool("sap_maintenance_orders")
        .invoke(&args(json!({"equipment": "P-101"})))
        .unwrap();
    assert!(listed["count"].as_u64().unwrap() >= 2, "{listed}");

    let created = tool("create_maintenance_order")
        .invoke(&args(
            json!({"equipment": "P-101", "description": "bearing noise", "priority": "high"}),
        ))
        .unwrap();
    let undo = Undo::from_result(&created).expect("a write returns its undo");
    assert_eq!(undo.tool, "sap_set_order_status");
    assert_eq!(undo.args["status"], json!("DLFL"));
    let order = created["created"]["MaintenanceOrder"]
        .as_str()
        .unwrap()
        .to_owned();

    tool(&undo.tool).invoke(&undo.args).unwrap();
    let after = tool("sap_maintenance_orders")
        .invoke(&args(
            json!({"equipment": "P-101", "open_only": false, "top": 200}),
        ))
        .unwrap();
    let row = after["orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["MaintenanceOrder"] == json!(order))
        .unwrap();
    assert_eq!(row["OrderSystemStatus"], json!("DLFL"), "rolled back");
    let again = tool(&undo.tool).invoke(&undo.args).unwrap_err();
    assert!(
        again.to_string().contains("is now DLFL, not CRTD"),
        "{again}"
    );

    vault.remove(&name).unwrap();
    let gone = tool("sap_maintenance_orders")
        .invoke(&args(json!({})))
        .unwrap_err();
    assert!(gone.to_string().contains("airlock vault add"), "{gone}");
}

#[test]
fn an_unreachable_gateway_is_a_clear_error() {
    let port = support::free_port();
    let connection = SapConnection::new(
        "sap-down",
        &format!("http://127.0.0.1:{port}/sap/opu/odata/sap"),
        USER,
    )
    .unwrap();
    let err = SapClient::new(connection)
        .unwrap()
        .maintenance_orders(&secret(), &MaintenanceFilter::default(), 5)
        .unwrap_err();
    assert!(matches!(err, SapError::Unreachable { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("cannot reach the SAP gateway of connection `sap-down`"),
        "{err}"
    );
}

#[test]
fn an_untrusted_certificate_is_a_tls_error_and_the_plant_ca_fixes_it() {
    let server = support::TlsServer::start(support::odata_page());
    let url = format!("https://localhost:{}/sap/opu/odata/sap", server.port);
    let untrusted = SapConnection::new("sap-tls", &url, USER).unwrap();
    let err = SapClient::new(untrusted)
        .unwrap()
        .maintenance_orders(&secret(), &MaintenanceFilter::default(), 5)
        .unwrap_err();
    assert!(matches!(err, SapError::Tls { .. }), "{err:?}");
    assert!(err.to_string().contains("--ca-file"), "{err}");

    let mut trusted = SapConnection::new("sap-tls", &url, USER).unwrap();
    trusted.ca_file = Some(server.ca_file.path().to_owned());
    let orders = SapClient::new(trusted)
        .unwrap()
        .maintenance_orders(&secret(), &MaintenanceFilter::default(), 5)
        .unwrap();
    assert_eq!(orders.len(), 1);
}

#[test]
fn malformed_odata_is_a_clear_error() {
    let server = support::RawServer::start(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 23\r\n\r\n{\"d\": {\"results\": [1, 2".to_vec(),
        0,
    );
    let err = raw_client(server.port)
        .maintenance_orders(&secret(), &MaintenanceFilter::default(), 5)
        .unwrap_err();
    assert!(matches!(err, SapError::Malformed { .. }), "{err:?}");
    assert!(err.to_string().contains("not OData JSON"), "{err}");
}

#[test]
fn a_50_mb_answer_is_cut_off_at_the_cap() {
    let head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n";
    let server = support::RawServer::start(head.to_vec(), 50 * 1024 * 1024);
    let err = raw_client(server.port)
        .maintenance_orders(&secret(), &MaintenanceFilter::default(), 5)
        .unwrap_err();
    assert!(
        matches!(err, SapError::TooLarge { limit_mib: 16, .. }),
        "{err:?}"
    );
    assert!(server.sent() < 40 * 1024 * 1024, "stopped reading early");
}

fn raw_client(port: u16) -> SapClient {
    let connection = SapConnection::new(
        "sap-raw",
        &format!("http://127.0.0.1:{port}/sap/opu/odata/sap"),
        USER,
    )
    .unwrap();
    SapClient::new(connection).unwrap()
}
