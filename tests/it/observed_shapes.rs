//! What the service has been seen sending decodes: every body of `tests/corpus/` (one folder per
//! operation) is served for its operation and read through the client; and a body that does not
//! decode says where (operation, item position and id, field path).

use std::path::Path;

use defender_tvm::{Error, MachineVulnerabilityQuery, SoftwareQuery, StringList};
use httpmock::MockServer;

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

/// Serves `body` for any request and returns how many items the client read from it.
async fn read_through_the_client(operation: &str, body: &str) -> Result<usize, Error> {
    answer_through_the_client(operation, 200, body).await
}

/// Serves `status` with `body` for any request; returns how many items the client read.
async fn answer_through_the_client(
    operation: &str,
    status: u16,
    body: &str,
) -> Result<usize, Error> {
    let server = MockServer::start_async().await;
    server.mock(|when, then| {
        when.method("GET");
        then.status(status)
            .header("content-type", "application/json")
            .body(body);
    });
    let client = client(&server);
    let id = "microsoft-_-edge";
    Ok(match operation {
        "get_missing_kbs_by_software_id" => client.missing_kbs(id).await?.len(),
        "get_missing_kbs_by_machine_id" => client.machine_missing_kbs("1e5bc9d7").await?.len(),
        "list_software" => client.software(SoftwareQuery::new().top(10)).await?.len(),
        "get_software_by_id" => client.software_by_id(id).await.map(|_| 1)?,
        "list_software_version_distribution" => client.software_distributions(id).await?.len(),
        "list_vulnerabilities_by_software" => client.software_vulnerabilities(id).await?.len(),
        "list_machines_by_software" => client.software_machines(id).await?.len(),
        "list_machines_vulnerabilities" => client
            .machines_vulnerabilities(MachineVulnerabilityQuery::new().top(10))
            .await?
            .len(),
        other => panic!("no client method for {other}"),
    })
}

#[tokio::test]
async fn every_observed_shape_decodes_through_the_client() {
    let mut walked = 0;
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
            let expected = json
                .get("value")
                .and_then(|v| v.as_array())
                .map_or(1, Vec::len);
            let read = read_through_the_client(operation, &body)
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            assert_eq!(read, expected, "{}", file.display());
            walked += 1;
        }
    }
    assert!(walked >= OPERATIONS.len());
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
        Some(defender_tvm::Severity::Other(String::new()))
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
    let text = err.to_string();
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
