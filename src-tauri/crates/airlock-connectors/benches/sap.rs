//! SAP round trips against the OData simulator on loopback (HTTP/1.1, basic auth, a fresh
//! request per call as the tools make, a pooled connection): a filtered read, a read over
//! server paging, and a status write (GET for the ETag, then PATCH with If-Match and the CSRF
//! token). Prints p50/p99/mean over `SAP_BENCH_RUNS` calls each (default 500).

#[path = "support/timing.rs"]
mod timing;

use std::path::Path;

use airlock_connectors::sap::{MaintenanceFilter, SapClient, SapConnection};
use airlock_connectors::vault::Secret;
use airlock_sap_sim::{SapSimulator, SimConfig};
use timing::{header, summary, time};

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let runs: usize = std::env::var("SAP_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../fixtures/sap");
    let secret = Secret::new("bench-password".to_owned());
    let client = |page_size: usize| {
        let mut config = SimConfig::new(&seed, "AIRLOCK", secret.expose());
        config.page_size = page_size;
        let sim = SapSimulator::start(config).expect("the simulator starts");
        let connection = SapConnection::new("sap-bench", &sim.root_url(), "AIRLOCK").unwrap();
        (sim, SapClient::new(connection).unwrap())
    };
    let (_sim, sap) = client(50);
    let (_paged_sim, paged) = client(3);
    let p101 = MaintenanceFilter {
        equipment: Some("P-101".to_owned()),
        open_only: true,
    };

    println!("\nSAP OData against the simulator on loopback, {runs} calls each:");
    header();
    summary(
        "open orders for P-101 ($filter, $select)",
        time(runs, || {
            let orders = sap.maintenance_orders(&secret, &p101, 50).expect("read");
            assert_eq!(orders.len(), 2);
        }),
    );
    summary(
        "all orders over 5 pages of 3",
        time(runs, || {
            let orders = paged
                .maintenance_orders(&secret, &MaintenanceFilter::default(), 13)
                .expect("read");
            assert_eq!(orders.len(), 13);
        }),
    );
    let mut flip = ["REL", "CRTD"].into_iter().cycle();
    summary(
        "status change (GET ETag + PATCH If-Match)",
        time(runs, || {
            let status = flip.next().unwrap_or("REL");
            sap.set_order_status(&secret, "4000102", status, None)
                .expect("write");
        }),
    );
}
