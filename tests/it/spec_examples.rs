//! Walks every example in `openapi/defender-tvm.yaml`, serves it from a mock with its status,
//! and checks the facade decodes it to exactly the example's values. A new example in the spec
//! is checked without touching this file; a new operation needs one line in `call`.

use crate::common::client;
use defender_tvm::{
    Client, DeviceVulnerabilityQuery, Error, SoftwareQuery,
    export::{ExportPages, SasValidHours},
};
use httpmock::MockServer;
use serde_json::{Value, json};

const SPEC: &str = include_str!("../../openapi/defender-tvm.yaml");

/// One example response of one operation.
struct Example {
    operation_id: String,
    path: String,
    status: u16,
    body: Value,
    /// The application permission the operation's `security` requires.
    permission: String,
}

fn spec() -> Value {
    serde_yaml_ng::from_str(SPEC).expect("the spec is valid YAML")
}

/// Follows a local `$ref` (`#/components/...`) if `node` is one.
fn resolve<'a>(spec: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(pointer) => {
            let target = spec
                .pointer(pointer.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("dangling $ref {pointer}"));
            resolve(spec, target)
        }
        None => node,
    }
}

/// Fills path parameters with their `example` values.
fn concrete_path(spec: &Value, template: &str, parameters: &[Value]) -> String {
    let mut path = template.to_owned();
    for parameter in parameters {
        let parameter = resolve(spec, parameter);
        if parameter["in"] == "path" {
            let name = parameter["name"].as_str().expect("a parameter name");
            let example = parameter["example"]
                .as_str()
                .unwrap_or_else(|| panic!("path parameter {name} needs an example"));
            path = path.replace(&format!("{{{name}}}"), example);
        }
    }
    path
}

fn examples() -> Vec<Example> {
    let spec = spec();
    let mut found = Vec::new();
    for (template, item) in spec["paths"].as_object().expect("paths") {
        let shared_parameters = item["parameters"].as_array().cloned().unwrap_or_default();
        for (method, operation) in item.as_object().expect("a path item") {
            if method == "parameters" {
                continue;
            }
            let mut parameters = shared_parameters.clone();
            parameters.extend(
                operation["parameters"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default(),
            );
            let path = concrete_path(&spec, template, &parameters);
            let operation_id = operation["operationId"].as_str().expect("operationId");
            let permission = operation
                .pointer("/security/1/entraClientCredentials/0")
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("{operation_id} names its permission in security"));
            for (status, response) in operation["responses"].as_object().expect("responses") {
                let response = resolve(&spec, response);
                let Some(media) = response.pointer("/content/application~1json") else {
                    continue;
                };
                let mut bodies: Vec<Value> = media.get("example").cloned().into_iter().collect();
                if let Some(named) = media.get("examples").and_then(Value::as_object) {
                    bodies.extend(named.values().map(|e| resolve(&spec, e)["value"].clone()));
                }
                for body in bodies {
                    found.push(Example {
                        operation_id: operation_id.to_owned(),
                        path: path.clone(),
                        status: status.parse().expect("a numeric status"),
                        body,
                        permission: permission.to_owned(),
                    });
                }
            }
        }
    }
    found
}

/// Calls the facade method of an operation; what it returns comes back as JSON (the items of a
/// collection, or the entity).
async fn call(client: &Client, operation_id: &str, path: &str) -> Result<Value, Error> {
    // `/api/Software/{Id}/...` and `/api/machines/{machineId}/...`; none for `/api/Software`.
    let id = path.split('/').nth(3).unwrap_or_default().to_owned();
    match operation_id {
        "get_missing_kbs_by_software_id" => client.missing_kbs(&id).await.map(|v| json!(v)),
        // One `$top` request: the mock answers every request with the same page.
        "list_software" => client
            .software(SoftwareQuery::new().top(10))
            .collect_items()
            .await
            .map(|v| json!(v)),
        "get_software_by_id" => client.software_by_id(&id).await.map(|v| json!(v)),
        "list_software_version_distribution" => {
            client.software_distributions(&id).await.map(|v| json!(v))
        }
        "list_vulnerabilities_by_software" => {
            client.software_vulnerabilities(&id).await.map(|v| json!(v))
        }
        "list_machines_by_software" => client.software_machines(&id).await.map(|v| json!(v)),
        "get_missing_kbs_by_machine_id" => client.machine_missing_kbs(&id).await.map(|v| json!(v)),
        "list_machines_vulnerabilities" => client
            .machines_vulnerabilities(DeviceVulnerabilityQuery::new().top(10))
            .await
            .map(|v| json!(v)),
        "list_software_vulnerabilities_by_machine" => client
            .software_vulnerabilities_by_machine(ExportPages::new())
            .await
            .map(|v| json!(v)),
        "list_software_vulnerability_changes_by_machine" => {
            let since = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now())
                - chrono::Duration::days(1);
            client
                .software_vulnerability_changes_by_machine(
                    defender_tvm::export::ChangesSince::new(since).unwrap(),
                    ExportPages::new(),
                )
                .await
                .map(|v| json!(v))
        }
        "list_software_inventory_by_machine" => client
            .software_inventory_by_machine(ExportPages::new())
            .await
            .map(|v| json!(v)),
        "export_software_vulnerabilities" => client
            .software_vulnerabilities_export(SasValidHours::default())
            .await
            .map(|v| json!(v)),
        "export_software_inventory" => client
            .software_inventory_export(SasValidHours::default())
            .await
            .map(|v| json!(v)),
        other => panic!("the examples walker does not know {other}: add it to `call`"),
    }
}

/// The example as the generated types serialize it: absent and null optional fields, empty
/// arrays and OData annotations are not written back.
fn normalized(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, v)| {
                    !k.starts_with("@odata.")
                        && !v.is_null()
                        && v.as_array().is_none_or(|a| !a.is_empty())
                })
                .map(|(k, v)| (k.clone(), normalized(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(normalized).collect()),
        other => other.clone(),
    }
}

#[tokio::test]
async fn every_example_in_the_spec_is_served_and_decoded_to_its_values() {
    let examples = examples();
    // One success example and six error examples today; the walker must find at least those.
    assert!(
        examples.len() >= 7,
        "found only {} examples",
        examples.len()
    );

    for example in &examples {
        let server = MockServer::start_async().await;
        server.mock(|when, then| {
            when.path(example.path.as_str());
            then.status(example.status)
                .header("content-type", "application/json")
                .json_body(example.body.clone());
        });
        let what = format!("{} {} example", example.operation_id, example.status);

        let result = call(&client(&server), &example.operation_id, &example.path).await;

        if (200..300).contains(&example.status) {
            let decoded = result.unwrap_or_else(|e| panic!("{what}: {e}"));
            let expected = match example.body.get("value") {
                Some(items) => normalized(items),
                None => normalized(&example.body),
            };
            assert_eq!(decoded, expected, "{what}");
        } else {
            let err = result.expect_err(&what);
            let detail = &example.body["error"];
            assert_eq!(
                err.status().map(|s| s.as_u16()),
                Some(example.status),
                "{what}"
            );
            assert_eq!(err.code(), detail["code"].as_str(), "{what}");
            assert_eq!(
                err.api().and_then(|a| a.message.as_deref()),
                detail["message"].as_str(),
                "{what}"
            );
            assert_eq!(err.target(), detail["target"].as_str(), "{what}");
            if example.status == 403 {
                let api = err.api().expect("an API error");
                assert_eq!(api.permission.application, example.permission, "{what}");
                assert!(
                    err.to_string().contains(&example.permission),
                    "{what}: {err}"
                );
            }
        }
    }
}
