//! The simulator over real HTTP on loopback, as an OData client sees it.

use std::path::PathBuf;

use airlock_sap_sim::{SapSimulator, SimConfig};
use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const USER: &str = "airlock";
const PASSWORD: &str = "correct horse";
const ORDERS: &str = "API_MAINTENANCEORDER/MaintenanceOrder";
const NOTIFICATIONS: &str = "API_MAINTNOTIFICATION/MaintenanceNotification";
const PRODUCTION: &str = "API_PRODUCTION_ORDER_2_SRV/A_ProductionOrder_2";

/// An HTTP client. The workspace builds reqwest with rustls and no default crypto provider
/// (the connectors bring their own), so one is installed for the process first.
fn http() -> Client {
    let _already_installed = rustls::crypto::ring::default_provider().install_default();
    Client::new()
}

fn seed_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../fixtures/sap")
}

fn start() -> SapSimulator {
    start_with(|_| {})
}

fn start_with(adjust: impl FnOnce(&mut SimConfig)) -> SapSimulator {
    let mut config = SimConfig::new(seed_dir(), USER, PASSWORD);
    adjust(&mut config);
    SapSimulator::start(config).unwrap()
}

/// A request to `root_url()/<path>` with the right credentials.
fn request(sim: &SapSimulator, method: Method, path: &str) -> RequestBuilder {
    http()
        .request(method, format!("{}/{path}", sim.root_url()))
        .basic_auth(USER, Some(PASSWORD))
}

fn get(sim: &SapSimulator, path: &str) -> Response {
    request(sim, Method::GET, path).send().unwrap()
}

/// The JSON of a GET that must succeed.
fn get_json(sim: &SapSimulator, path: &str) -> Value {
    let response = get(sim, path);
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    response.json().unwrap()
}

/// The keys of a collection response's results.
fn keys(body: &Value, key: &str) -> Vec<String> {
    body["d"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entity| entity[key].as_str().unwrap().to_owned())
        .collect()
}

fn order_keys(sim: &SapSimulator, query: &str) -> Vec<String> {
    keys(
        &get_json(sim, &format!("{ORDERS}?{query}")),
        "MaintenanceOrder",
    )
}

fn header(response: &Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
        .to_owned()
}

/// The SAP error of a failed request: its status and message.
fn sap_error(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    assert!(
        header(&response, "content-type").starts_with("application/json"),
        "an SAP error body is JSON"
    );
    let body: Value = response.json().unwrap();
    (status, body["error"].clone())
}

/// A CSRF session: the token and the cookie it is bound to.
struct Session {
    cookie: String,
    token: String,
}

fn fetch_token(sim: &SapSimulator, cookie: Option<&str>) -> Session {
    let mut fetch =
        request(sim, Method::GET, "API_MAINTENANCEORDER/").header("X-CSRF-Token", "Fetch");
    if let Some(cookie) = cookie {
        fetch = fetch.header("Cookie", cookie);
    }
    let response = fetch.send().unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let set_cookie = header(&response, "set-cookie");
    assert!(
        set_cookie.starts_with("SAP_SESSIONID_SIM_100="),
        "{set_cookie}"
    );
    assert!(set_cookie.contains("path=/") && set_cookie.contains("HttpOnly"));
    Session {
        cookie: set_cookie.split(';').next().unwrap().to_owned(),
        token: header(&response, "x-csrf-token"),
    }
}

/// A write carrying the session's cookie and token.
fn write(sim: &SapSimulator, method: Method, path: &str, session: &Session) -> RequestBuilder {
    request(sim, method, path)
        .header("Cookie", &session.cookie)
        .header("X-CSRF-Token", &session.token)
}

fn new_order() -> Value {
    json!({
        "MaintenanceOrderDesc": "P-101 check impeller for wear",
        "Equipment": "P-101",
        "MaintPriority": "2"
    })
}

#[test]
fn basic_auth_is_required_and_checked() {
    let sim = start();
    let url = format!("{}/API_MAINTENANCEORDER/", sim.root_url());
    let client = http();

    for attempt in [
        client.get(&url),
        client.get(&url).basic_auth(USER, Some("wrong")),
        client.get(&url).basic_auth("SOMEONE", Some(PASSWORD)),
    ] {
        let refused = attempt.send().unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            header(&refused, "www-authenticate"),
            "Basic realm=\"SAP NetWeaver Application Server [SIM/100]\""
        );
        assert!(refused.text().unwrap().contains("<html>"));
    }

    let accepted = client
        .get(format!("{url}?sap-client=100"))
        .basic_auth("AIRLOCK", Some(PASSWORD))
        .send()
        .unwrap();
    assert_eq!(
        accepted.status(),
        StatusCode::OK,
        "user names are not case-sensitive"
    );
    let document: Value = accepted.json().unwrap();
    assert_eq!(document, json!({"d": {"EntitySets": ["MaintenanceOrder"]}}));
}

#[test]
fn filter_combines_eq_and_or_with_parentheses() {
    let sim = start();
    let open_p101 = order_keys(
        &sim,
        "$filter=Equipment eq 'P-101' and (OrderSystemStatus eq 'CRTD' or OrderSystemStatus eq 'REL')",
    );
    assert_eq!(open_p101, ["4000101", "4000102"]);
    let p101_teco = order_keys(
        &sim,
        "$filter=Equipment%20eq%20%27P-101%27%20and%20OrderSystemStatus%20eq%20%27TECO%27",
    );
    assert_eq!(
        p101_teco,
        ["4000103"],
        "percent-encoded as OData clients send it"
    );
    let plus_encoded = order_keys(&sim, "$filter=MaintPriority+eq+'1'&$format=json");
    assert_eq!(plus_encoded, ["4000106"], "'+' is a space as well");
    let released = keys(
        &get_json(
            &sim,
            &format!("{PRODUCTION}?$filter=OrderIsReleased eq false"),
        ),
        "ManufacturingOrder",
    );
    assert_eq!(released, ["1000205", "1000206"]);
}

#[test]
fn filter_searches_text_and_compares_dates() {
    let sim = start();
    assert_eq!(
        order_keys(&sim, "$filter=substringof('bearing',MaintenanceOrderDesc)"),
        ["4000108"]
    );
    assert_eq!(
        order_keys(&sim, "$filter=startswith(MaintenanceOrderDesc,'CV-301')"),
        ["4000104", "4000105"]
    );
    assert_eq!(
        order_keys(
            &sim,
            "$filter=MaintOrdBasicStartDate ge datetime'2026-11-20T00:00:00' and \
             MaintOrdBasicStartDate lt datetime'2026-11-22T00:00:00'"
        ),
        ["4000105", "4000107", "4000111"]
    );
    assert!(
        order_keys(&sim, "$filter=MaintenanceOrderDesc eq 'operator''s note'").is_empty(),
        "a doubled quote is a literal quote, not the end of the string"
    );
}

#[test]
fn select_returns_only_the_chosen_properties_and_metadata() {
    let sim = start();
    let body = get_json(
        &sim,
        &format!("{ORDERS}?$select=MaintenanceOrder,OrderSystemStatus&$top=1"),
    );
    let first = body["d"]["results"][0].as_object().unwrap();
    let names: Vec<&str> = first.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["__metadata", "MaintenanceOrder", "OrderSystemStatus"]
    );
    let metadata = &first["__metadata"];
    let uri = format!("{}/{ORDERS}('4000101')", sim.root_url());
    assert_eq!(metadata["uri"], uri.as_str());
    assert_eq!(metadata["id"], uri.as_str());
    assert_eq!(
        metadata["type"],
        "API_MAINTENANCEORDER.MaintenanceOrderType"
    );
    assert!(metadata["etag"]
        .as_str()
        .unwrap()
        .starts_with("W/\"datetime'2026-11-17T07%3A42%3A10."));
}

#[test]
fn orderby_sorts_stably_by_several_properties() {
    let sim = start();
    assert_eq!(
        order_keys(
            &sim,
            "$filter=Equipment eq 'P-101'&$orderby=MaintPriority asc,MaintOrdBasicStartDate desc"
        ),
        ["4000101", "4000113", "4000103", "4000102"]
    );
    assert_eq!(
        order_keys(
            &sim,
            "$filter=Equipment eq 'L3-CAP-01'&$orderby=MaintenanceOrder desc"
        ),
        ["4000107", "4000106"]
    );
    // Equal priorities keep key order.
    assert_eq!(
        order_keys(&sim, "$filter=MaintPriority eq '3'&$orderby=MaintPriority"),
        ["4000102", "4000107", "4000109", "4000110", "4000111"]
    );
}

#[test]
fn top_and_skip_cut_the_sorted_result() {
    let sim = start();
    assert_eq!(
        order_keys(&sim, "$orderby=MaintenanceOrder&$skip=2&$top=3"),
        ["4000103", "4000104", "4000105"]
    );
    assert!(order_keys(&sim, "$skip=100").is_empty());
    let count = get(
        &sim,
        &format!("{ORDERS}/$count?$filter=Equipment eq 'P-101'"),
    );
    assert_eq!(count.text().unwrap(), "4");
}

#[test]
fn server_paging_follows_next_links_with_the_same_options() {
    let sim = start_with(|config| config.page_size = 5);
    let mut next = Some(format!(
        "{}/{ORDERS}?$inlinecount=allpages&$select=MaintenanceOrder&$orderby=MaintenanceOrder desc",
        sim.root_url()
    ));
    let mut pages = Vec::new();
    while let Some(url) = next.take() {
        let page: Value = http()
            .get(&url)
            .basic_auth(USER, Some(PASSWORD))
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(
            page["d"]["__count"], "13",
            "the count of all pages, on every page"
        );
        let entity = page["d"]["results"][0].as_object().unwrap();
        assert_eq!(
            entity.len(),
            2,
            "$select is kept: __metadata and MaintenanceOrder"
        );
        next = page["d"]["__next"].as_str().map(str::to_owned);
        if let Some(link) = &next {
            assert!(
                link.starts_with(&sim.root_url()) && link.contains("$skiptoken="),
                "{link}"
            );
        }
        pages.push(keys(&page, "MaintenanceOrder"));
    }
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [5, 5, 3]);
    let all: Vec<String> = pages.concat();
    assert_eq!(all.first().unwrap(), "4000113");
    assert_eq!(all.last().unwrap(), "4000101");

    let limited = get_json(&sim, &format!("{ORDERS}?$top=7"));
    assert_eq!(keys(&limited, "MaintenanceOrder").len(), 5);
    let rest = http()
        .get(limited["d"]["__next"].as_str().unwrap())
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .unwrap()
        .json::<Value>()
        .unwrap();
    assert_eq!(
        keys(&rest, "MaintenanceOrder"),
        ["4000106", "4000107"],
        "$top spans pages"
    );
    assert!(rest["d"].get("__next").is_none());
    assert!(rest["d"].get("__count").is_none(), "only with $inlinecount");
}

#[test]
fn an_entity_read_carries_its_etag_header() {
    let sim = start();
    let response = get(&sim, &format!("{ORDERS}('4000101')"));
    assert_eq!(response.status(), StatusCode::OK);
    let etag = header(&response, "etag");
    let body: Value = response.json().unwrap();
    assert_eq!(body["d"]["__metadata"]["etag"], etag.as_str());
    assert_eq!(body["d"]["Equipment"], "P-101");
    assert_eq!(body["d"]["FunctionalLocation"], "PLT1-L3-PMP");
    assert_eq!(body["d"]["MaintOrdBasicStartDate"], "/Date(1794873600000)/");

    let (status, error) = sap_error(get(&sim, &format!("{ORDERS}('4009999')")));
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        error["message"]["value"],
        "Maintenance order 4009999 does not exist"
    );
}

#[test]
fn a_write_without_a_csrf_token_is_refused() {
    let sim = start();
    let refused = request(&sim, Method::POST, ORDERS)
        .json(&new_order())
        .send()
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(header(&refused, "x-csrf-token"), "Required");
    assert_eq!(refused.text().unwrap(), "CSRF token validation failed");

    let session = fetch_token(&sim, None);
    let without_cookie = request(&sim, Method::POST, ORDERS)
        .header("X-CSRF-Token", &session.token)
        .json(&new_order())
        .send()
        .unwrap();
    assert_eq!(
        without_cookie.status(),
        StatusCode::FORBIDDEN,
        "the token is bound to its session"
    );
}

#[test]
fn a_fetched_token_and_cookie_allow_creating_orders_and_notifications() {
    let sim = start();
    let session = fetch_token(&sim, None);
    let again = fetch_token(&sim, Some(&session.cookie));
    assert_eq!(
        (&again.cookie, &again.token),
        (&session.cookie, &session.token),
        "session reused"
    );

    let created = write(&sim, Method::POST, ORDERS, &session)
        .json(&new_order())
        .send()
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let location = header(&created, "location");
    assert_eq!(location, format!("{}/{ORDERS}('4000114')", sim.root_url()));
    let etag = header(&created, "etag");
    let order: Value = created.json().unwrap();
    let order = &order["d"];
    assert_eq!(
        order["MaintenanceOrder"], "4000114",
        "the next number after the seed's"
    );
    assert_eq!(order["OrderSystemStatus"], "CRTD");
    assert_eq!(order["MaintenanceOrderType"], "PM01");
    assert_eq!(order["FunctionalLocation"], "PLT1-L3-PMP");
    assert_eq!(order["MaintenancePlanningPlant"], "1000");
    assert_eq!(order["MaintenanceNotification"], "");
    assert_eq!(order["__metadata"]["etag"], etag.as_str());
    let read = get_json(&sim, &format!("{ORDERS}('4000114')"));
    assert_eq!(
        read["d"]["MaintenanceOrderDesc"],
        "P-101 check impeller for wear"
    );

    let notification = write(&sim, Method::POST, NOTIFICATIONS, &session)
        .json(&json!({
            "NotificationText": "CV-301 belt squeals at start-up",
            "Equipment": "CV-301",
            "MaintPriority": "3"
        }))
        .send()
        .unwrap();
    assert_eq!(notification.status(), StatusCode::CREATED);
    let notification: Value = notification.json().unwrap();
    assert_eq!(notification["d"]["MaintenanceNotification"], "10000209");
    assert_eq!(notification["d"]["ReportedByUser"], "AIRLOCK");
    assert_eq!(notification["d"]["NotifProcessingPhase"], "1");
    assert_eq!(notification["d"]["NotificationType"], "M1");
    assert_eq!(notification["d"]["FunctionalLocation"], "PLT1-L3-CNV");
}

#[test]
fn a_create_with_bad_values_is_refused_with_a_clear_message() {
    let sim = start();
    let session = fetch_token(&sim, None);
    let attempt = |body: Value| {
        sap_error(
            write(&sim, Method::POST, ORDERS, &session)
                .json(&body)
                .send()
                .unwrap(),
        )
    };

    let (status, error) = attempt(json!({
        "MaintenanceOrderDesc": "Check pump", "Equipment": "P-999", "MaintPriority": "2"
    }));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["code"], "API_MAINTORDER/012");
    assert_eq!(error["message"]["value"], "Equipment P-999 does not exist");

    for (body, expected) in [
        (
            json!({"Equipment": "P-101", "MaintPriority": "2"}),
            "MaintenanceOrderDesc is required",
        ),
        (
            json!({"MaintenanceOrderDesc": "x", "Equipment": "P-101", "MaintPriority": "7"}),
            "Value '7' is not allowed for MaintPriority",
        ),
        (
            json!({"MaintenanceOrderDesc": "x", "Equipment": "P-101", "MaintPriority": 2}),
            "expects an Edm.String value",
        ),
        (
            json!({"MaintenanceOrderDesc": "x", "Equipment": "P-101", "MaintPriority": "2", "Colour": "red"}),
            "Property 'Colour' is not defined",
        ),
        (
            json!({"MaintenanceOrderDesc": "x", "Equipment": "P-101", "MaintPriority": "2", "OrderSystemStatus": "REL"}),
            "OrderSystemStatus is set by the system",
        ),
        (
            json!({"MaintenanceOrderDesc": "x", "Equipment": "P-101", "MaintPriority": "2", "MaintenanceNotification": "10009999"}),
            "MaintenanceNotification 10009999 does not exist",
        ),
    ] {
        let (status, error) = attempt(body.clone());
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let message = error["message"]["value"].as_str().unwrap();
        assert!(message.contains(expected), "{body}: {message}");
    }
    assert!(get_json(
        &sim,
        &format!("{ORDERS}?$filter=MaintenanceOrder eq '4000114'")
    )["d"]["results"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn expired_csrf_tokens_are_refused() {
    let sim = start();
    let session = fetch_token(&sim, None);
    sim.expire_csrf_tokens();
    let refused = write(&sim, Method::POST, ORDERS, &session)
        .json(&new_order())
        .send()
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(header(&refused, "x-csrf-token"), "Required");

    let renewed = fetch_token(&sim, Some(&session.cookie));
    assert_ne!(renewed.token, session.token);
    let created = write(&sim, Method::POST, ORDERS, &renewed)
        .json(&new_order())
        .send()
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
}

#[test]
fn a_change_needs_the_current_etag() {
    let sim = start();
    let session = fetch_token(&sim, None);
    let path = format!("{ORDERS}('4000101')");
    let release = json!({"OrderSystemStatus": "TECO"});

    let (status, error) = sap_error(
        write(&sim, Method::PATCH, &path, &session)
            .json(&release)
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);
    assert!(error["message"]["value"]
        .as_str()
        .unwrap()
        .contains("If-Match"));

    let stale = header(&get(&sim, &path), "etag");
    sim.modify("MaintenanceOrder", "4000101", "MaintPriority", json!("1"))
        .unwrap();
    let (status, error) = sap_error(
        write(&sim, Method::PATCH, &path, &session)
            .header("If-Match", &stale)
            .json(&release)
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    assert!(error["message"]["value"]
        .as_str()
        .unwrap()
        .contains("changed by someone else"));

    let current = header(&get(&sim, &path), "etag");
    assert_ne!(current, stale);
    let changed = write(&sim, Method::PATCH, &path, &session)
        .header("If-Match", &current)
        .json(&release)
        .send()
        .unwrap();
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    let newest = header(&changed, "etag");
    assert_ne!(newest, current);
    let read = get(&sim, &path);
    assert_eq!(header(&read, "etag"), newest);
    let order: Value = read.json().unwrap();
    assert_eq!(order["d"]["OrderSystemStatus"], "TECO");
    assert_eq!(
        order["d"]["MaintPriority"], "1",
        "the other user's change is kept"
    );

    let merged = write(&sim, Method::POST, &path, &session)
        .header("X-HTTP-Method", "MERGE")
        .header("If-Match", &newest)
        .json(&json!({"MaintenanceOrderDesc": "P-101 seal replaced"}))
        .send()
        .unwrap();
    assert_eq!(
        merged.status(),
        StatusCode::NO_CONTENT,
        "MERGE tunnelled through POST"
    );
    assert_eq!(sim.writes().last().unwrap().method, "MERGE");
}

#[test]
fn a_change_is_checked_against_codes_and_closed_orders() {
    let sim = start();
    let session = fetch_token(&sim, None);
    let patch = |key: &str, body: Value| {
        write(&sim, Method::PATCH, &format!("{ORDERS}('{key}')"), &session)
            .header("If-Match", "*")
            .json(&body)
            .send()
            .unwrap()
    };
    let (status, error) = sap_error(patch("4000110", json!({"OrderSystemStatus": "REL"})));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error["message"]["value"]
        .as_str()
        .unwrap()
        .contains("is closed"));
    let (status, _) = sap_error(patch("4000102", json!({"OrderSystemStatus": "DONE"})));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = sap_error(patch("4000102", json!({"Equipment": "CV-301"})));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = sap_error(patch("4009999", json!({"OrderSystemStatus": "REL"})));
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        patch("4000102", json!({"OrderSystemStatus": "REL"})).status(),
        StatusCode::NO_CONTENT
    );

    let merge = Method::from_bytes(b"MERGE").unwrap();
    let phase = write(
        &sim,
        merge,
        &format!("{NOTIFICATIONS}('10000203')"),
        &session,
    )
    .header("If-Match", "*")
    .json(&json!({"NotifProcessingPhase": "3"}))
    .send()
    .unwrap();
    assert_eq!(phase.status(), StatusCode::NO_CONTENT);
    let notification = get_json(&sim, &format!("{NOTIFICATIONS}('10000203')"));
    assert_eq!(notification["d"]["NotifProcessingPhase"], "3");
}

#[test]
fn production_orders_refuse_writes() {
    let sim = start();
    let session = fetch_token(&sim, None);
    let (status, error) = sap_error(
        write(&sim, Method::POST, PRODUCTION, &session)
            .json(&json!({"Material": "FG-SHAMPOO-250"}))
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(error["message"]["value"]
        .as_str()
        .unwrap()
        .contains("read-only"));
    let (status, _) = sap_error(
        write(
            &sim,
            Method::PATCH,
            &format!("{PRODUCTION}('1000201')"),
            &session,
        )
        .header("If-Match", "*")
        .json(&json!({"OrderIsReleased": false}))
        .send()
        .unwrap(),
    );
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let order = get_json(&sim, &format!("{PRODUCTION}('1000201')"));
    assert_eq!(order["d"]["Material"], "FG-SHAMPOO-250");
    assert_eq!(order["d"]["TotalQuantity"], "24000");
    assert_eq!(order["d"]["OrderIsReleased"], true);
}

#[test]
fn an_unknown_property_is_a_400_with_an_sap_error_body() {
    let sim = start();
    let (status, error) = sap_error(get(&sim, &format!("{ORDERS}?$filter=Plant eq '1000'")));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error["message"],
        json!({"lang": "en", "value": "Property 'Plant' not found in type 'API_MAINTENANCEORDER.MaintenanceOrderType' ($filter)"})
    );
    let inner = &error["innererror"];
    let transaction = inner["transactionid"].as_str().unwrap();
    assert_eq!(transaction.len(), 32);
    assert!(transaction.chars().all(|c| c.is_ascii_hexdigit()));
    let timestamp = inner["timestamp"].as_str().unwrap();
    assert_eq!(
        timestamp.len(),
        "20261122101500.1234560".len(),
        "{timestamp}"
    );
    assert_eq!(
        inner["Error_Resolution"]["SAP_Note"].as_str().unwrap()[..27],
        *"See SAP Note 1797736 for er"
    );
    assert_eq!(inner["errordetails"][0]["code"], error["code"]);
    assert_eq!(inner["errordetails"][0]["target"], "Plant");

    for (query, expected) in [
        (
            "$select=MaintenanceOrder,Colour",
            "Property 'Colour' not found",
        ),
        ("$orderby=Colour desc", "Property 'Colour' not found"),
        (
            "$top=ten",
            "Invalid value 'ten' for system query option $top",
        ),
        ("$filter=MaintPriority eq", "Invalid $filter expression"),
        (
            "$filter=MaintPriority eq 2",
            "incompatible with operand types",
        ),
    ] {
        let (status, error) = sap_error(get(&sim, &format!("{ORDERS}?{query}")));
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        let message = error["message"]["value"].as_str().unwrap();
        assert!(message.contains(expected), "{query}: {message}");
    }
}

#[test]
fn an_unknown_service_or_entity_set_is_a_404() {
    let sim = start();
    let (status, error) = sap_error(get(&sim, "API_NOPE/MaintenanceOrder"));
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        error["message"]["value"],
        "Resource not found for segment 'API_NOPE'"
    );
    let (status, error) = sap_error(get(&sim, "API_MAINTENANCEORDER/Orders"));
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        error["message"]["value"],
        "Resource not found for segment 'Orders'"
    );
}

#[test]
fn every_write_attempt_is_recorded_accepted_or_not() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("writes.jsonl");
    let sim = start_with(|config| config.record = Some(record.clone()));
    let refused_logon = http()
        .post(format!("{}/{ORDERS}", sim.root_url()))
        .basic_auth(USER, Some("wrong"))
        .json(&new_order())
        .send()
        .unwrap();
    assert_eq!(refused_logon.status(), StatusCode::UNAUTHORIZED);
    let no_token = request(&sim, Method::POST, ORDERS)
        .json(&new_order())
        .send()
        .unwrap();
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
    let session = fetch_token(&sim, None);
    let created = write(&sim, Method::POST, ORDERS, &session)
        .json(&new_order())
        .send()
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let read_only = write(
        &sim,
        Method::DELETE,
        &format!("{PRODUCTION}('1000201')"),
        &session,
    )
    .send()
    .unwrap();
    assert_eq!(read_only.status(), StatusCode::METHOD_NOT_ALLOWED);

    let writes = sim.writes();
    let summary: Vec<(&str, u16, Option<&str>)> = writes
        .iter()
        .map(|w| (w.method.as_str(), w.status, w.user.as_deref()))
        .collect();
    assert_eq!(
        summary,
        [
            ("POST", 401, None),
            ("POST", 403, Some("AIRLOCK")),
            ("POST", 201, Some("AIRLOCK")),
            ("DELETE", 405, Some("AIRLOCK")),
        ]
    );
    assert_eq!(writes[2].path, format!("/sap/opu/odata/sap/{ORDERS}"));
    assert_eq!(writes[2].body, new_order());
    assert_eq!(writes[3].body, Value::Null);

    sim.shutdown();
    let lines: Vec<Value> = std::fs::read_to_string(&record)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[2]["status"], 201);
    assert_eq!(lines[2]["body"]["Equipment"], "P-101");
}
