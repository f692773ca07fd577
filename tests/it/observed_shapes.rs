//! What the service has been seen sending decodes: every body of `tests/corpus/` (one folder per
//! operation) is served for its operation and read through the client, every value it holds read
//! (a field the spec names otherwise would be lost silently); and a body that does not decode
//! says where (operation, item position and id, field path).

use std::path::Path;

use defender_tvm::{DeviceVulnerabilityQuery, Error, SoftwareQuery, types::StringList};
use httpmock::MockServer;
use serde_json::{Value, json};

use crate::common::client;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");

/// Every operation of the client, by `operationId`.
const OPERATIONS: [&str; 8] = [
    "get_missing_kbs_by_software_id",
    "get_missing_kbs_by_machine_id",
    "list_software",
    "get_software_by_id",
    "list_software_version_distribution",
    "list_vulnerabilities_by_software",
    "list_machines_by_software",
    "list_machines_vulnerabilities",
];

/// Serves `body` for any request and returns the items the client read from it, as the crate's
/// types serialize them.
async fn read_through_the_client(operation: &str, body: &str) -> Result<Vec<Value>, Error> {
    answer_through_the_client(operation, 200, body).await
}

/// Serves `status` with `body` for any request; returns the items the client read.
async fn answer_through_the_client(
    operation: &str,
    status: u16,
    body: &str,
) -> Result<Vec<Value>, Error> {
    let server = MockServer::start_async().await;
    server.mock(|when, then| {
        when.method("GET");
        then.status(status)
            .header("content-type", "application/json")
            .body(body);
    });
    let client = client(&server);
    let id = "microsoft-_-edge";
    let read = match operation {
        "get_missing_kbs_by_software_id" => json!(client.missing_kbs(id).await?),
        "get_missing_kbs_by_machine_id" => json!(client.machine_missing_kbs("1e5bc9d7").await?),
        "list_software" => json!(client.software(SoftwareQuery::new().top(10)).await?),
        "get_software_by_id" => json!([client.software_by_id(id).await?]),
        "list_software_version_distribution" => json!(client.software_distributions(id).await?),
        "list_vulnerabilities_by_software" => json!(client.software_vulnerabilities(id).await?),
        "list_machines_by_software" => json!(client.software_machines(id).await?),
        "list_machines_vulnerabilities" => json!(
            client
                .machines_vulnerabilities(DeviceVulnerabilityQuery::new().top(10))
                .await?
        ),
        other => panic!("no client method for {other}"),
    };
    Ok(read.as_array().cloned().unwrap_or_default())
}

/// Whether the client read `raw` (a value of the body) as `read` (its value in the crate's
/// type, serialized): equal, or the same instant written another way, or a string read as a
/// one-item list (`cveSupportability`), or the same number, or an empty list left out.
fn read_as_sent(raw: &Value, read: &Value) -> bool {
    match (raw, read) {
        (Value::String(a), Value::String(b)) => {
            a == b
                || matches!(
                    (
                        chrono::DateTime::parse_from_rfc3339(a),
                        chrono::DateTime::parse_from_rfc3339(b)
                    ),
                    (Ok(x), Ok(y)) if x == y
                )
        }
        (Value::String(_), Value::Array(items)) => items.as_slice() == [raw.clone()],
        // An empty list is the default, which the crate's types leave out when serializing.
        (Value::Array(items), Value::Null) => items.is_empty(),
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => raw == read,
    }
}

#[tokio::test]
async fn every_observed_shape_decodes_through_the_client() {
    let mut walked = 0;
    let mut fields = 0;
    for operation in OPERATIONS {
        let folder = Path::new(CORPUS).join(operation);
        let mut files: Vec<_> = std::fs::read_dir(&folder)
            .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no observed shape for {operation}");
        for file in files {
            let body = std::fs::read_to_string(&file).unwrap();
            let json: serde_json::Value = serde_json::from_str(&body).unwrap();
            let sent: Vec<Value> = match json.get("value") {
                Some(Value::Array(items)) => items.clone(),
                _ => vec![json.clone()],
            };
            let read = read_through_the_client(operation, &body)
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            assert_eq!(read.len(), sent.len(), "{}", file.display());
            // Every value sent is read, under the name the service sends it by.
            for (i, (sent, read)) in sent.iter().zip(&read).enumerate() {
                for (field, value) in sent.as_object().unwrap() {
                    if value.is_null() || field.starts_with("@odata.") {
                        continue;
                    }
                    let got = read.get(field).unwrap_or(&Value::Null);
                    assert!(
                        read_as_sent(value, got),
                        "{}: value[{i}].{field} was sent as {value} and read as {got}",
                        file.display()
                    );
                    fields += 1;
                }
            }
            walked += 1;
        }
    }
    assert!(walked >= OPERATIONS.len());
    assert!(fields > 100, "{fields} values compared");
}

#[tokio::test]
async fn cve_supportability_is_a_list_whether_sent_as_a_string_an_array_or_null() {
    let body = std::fs::read_to_string(format!(
        "{CORPUS}/list_vulnerabilities_by_software/cve_supportability_as_a_string.json"
    ))
    .unwrap();
    let server = MockServer::start_async().await;
    server.mock(|when, then| {
        when.method("GET");
        then.status(200).body(&body);
    });
    let cves = client(&server)
        .software_vulnerabilities("microsoft-_-edge")
        .await
        .unwrap();
    assert_eq!(
        cves[0].cve_supportability,
        StringList::from(vec!["Supported"])
    );
    assert_eq!(
        cves[1].cve_supportability.as_slice(),
        ["Supported", "NotSupported"]
    );
    assert_eq!(cves[1].tags, ["ZeroDay"]);
    assert!(cves[0].patch_first_available.is_none());
    assert!(cves[1].patch_first_available.is_some());
    assert_eq!(cves[0].status.as_deref(), Some("RemediationRequired"));

    let body = std::fs::read_to_string(format!(
        "{CORPUS}/list_vulnerabilities_by_software/cve_supportability_null_and_absent.json"
    ))
    .unwrap();
    let page: defender_tvm::types::VulnerabilityCollection = serde_json::from_str(&body).unwrap();
    assert!(page.value.iter().all(|v| v.cve_supportability.is_empty()));
    // An empty severity (seen from the service) is kept as an unknown one, ranked lowest.
    assert_eq!(
        page.value[3].severity,
        Some(defender_tvm::types::Severity::Other(String::new()))
    );
}

#[tokio::test]
async fn a_body_that_does_not_decode_names_the_operation_item_id_and_field() {
    let body = r#"{"value":[
        {"id":"1","machineMissedOn":1,"cveAddressed":1},
        {"id":"5043080","machineMissedOn":"many","cveAddressed":1}
    ]}"#;
    let server = MockServer::start_async().await;
    server.mock(|when, then| {
        when.method("GET");
        then.status(200).body(body);
    });

    let err = client(&server)
        .missing_kbs("microsoft-_-edge")
        .await
        .unwrap_err();

    let Error::Decode(decode) = &err else {
        panic!("expected Error::Decode, got {err:?}")
    };
    assert_eq!(decode.operation, "get_missing_kbs_by_software_id");
    assert_eq!(decode.path.as_deref(), Some("value[1].machineMissedOn"));
    assert_eq!(decode.item, Some(1));
    assert_eq!(decode.item_id.as_deref(), Some("5043080"));
    // `Display` is this layer; the serde error is the source, printed once in the chain.
    assert!(!err.to_string().contains("invalid type"), "{err}");
    let text = crate::common::chain(&err);
    for part in [
        "get_missing_kbs_by_software_id",
        "value[1].machineMissedOn",
        "item 1",
        "5043080",
        "invalid type",
    ] {
        assert!(text.contains(part), "{text:?} lacks {part:?}");
    }
}

#[tokio::test]
async fn every_operation_reports_an_error_status_as_an_api_error_whatever_the_body() {
    for operation in OPERATIONS {
        for (status, body) in [
            (404, "<html>Not Found</html>"),
            (429, ""),
            (502, "Bad gateway"),
        ] {
            let err = answer_through_the_client(operation, status, body)
                .await
                .expect_err("an error status");
            let api = err.api().unwrap_or_else(|| {
                panic!("{operation} {status}: expected Error::Api, got {err:?}")
            });
            assert_eq!(api.status.as_u16(), status, "{operation}");
            assert_eq!(api.operation, operation);
            assert_eq!(api.body_excerpt.as_deref(), Some(body), "{operation}");
        }
    }
}
