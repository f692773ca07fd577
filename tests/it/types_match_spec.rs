//! The client is generated from the spec at build time: the generated types carry exactly the
//! properties (and required properties) the spec's schemas declare. A stale or hand-edited
//! client would fail here as soon as the spec changes.

use std::collections::BTreeSet;

use defender_tvm::types::{
    MachineReference, MachineReferenceCollection, ODataError, ODataErrorDetail,
    PublicProductFixDto, PublicProductFixDtoCollection, Software, SoftwareCollection,
    SoftwareVersionDistribution, SoftwareVersionDistributionCollection, Vulnerability,
    VulnerabilityCollection,
};
use schemars::JsonSchema;
use serde_json::Value;

const SPEC: &str = include_str!("../../openapi/defender-tvm.yaml");

fn names(value: Option<&Value>) -> BTreeSet<String> {
    match value {
        Some(Value::Object(map)) => map.keys().cloned().collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => BTreeSet::new(),
    }
}

/// Compares one generated type with its schema in the spec.
fn assert_matches_spec<T: JsonSchema>(name: &str) {
    let spec: Value = serde_yaml_ng::from_str(SPEC).expect("the spec is valid YAML");
    let declared = &spec["components"]["schemas"][name];
    assert!(declared.is_object(), "{name} is not in the spec");
    let generated = serde_json::to_value(schemars::schema_for!(T)).expect("a JSON schema");

    assert!(
        !names(generated.get("properties")).is_empty(),
        "{name} has properties"
    );
    assert_eq!(
        names(generated.get("properties")),
        names(declared.get("properties")),
        "properties of {name}"
    );
    assert_eq!(
        names(generated.get("required")),
        names(declared.get("required")),
        "required properties of {name}"
    );
}

#[test]
fn generated_types_have_exactly_the_properties_of_the_spec() {
    assert_matches_spec::<PublicProductFixDto>("PublicProductFixDto");
    assert_matches_spec::<PublicProductFixDtoCollection>("PublicProductFixDtoCollection");
    assert_matches_spec::<ODataError>("ODataError");
    assert_matches_spec::<ODataErrorDetail>("ODataErrorDetail");
    assert_matches_spec::<Software>("Software");
    assert_matches_spec::<SoftwareCollection>("SoftwareCollection");
    assert_matches_spec::<SoftwareVersionDistribution>("SoftwareVersionDistribution");
    assert_matches_spec::<SoftwareVersionDistributionCollection>(
        "SoftwareVersionDistributionCollection",
    );
    assert_matches_spec::<Vulnerability>("Vulnerability");
    assert_matches_spec::<VulnerabilityCollection>("VulnerabilityCollection");
    assert_matches_spec::<MachineReference>("MachineReference");
    assert_matches_spec::<MachineReferenceCollection>("MachineReferenceCollection");
}

#[test]
fn hand_written_export_types_have_exactly_the_properties_of_the_spec() {
    // The spec's export rows and file list are replaced by hand-written types (both casings,
    // the service's timestamps, secret links): they must still carry the spec's properties.
    use defender_tvm::{
        export::{ExportFiles, SoftwareInventory, SoftwareVulnerability},
        types::{SoftwareInventoryCollection, SoftwareVulnerabilityCollection},
    };
    assert_matches_spec::<SoftwareVulnerability>("SoftwareVulnerability");
    assert_matches_spec::<SoftwareVulnerabilityCollection>("SoftwareVulnerabilityCollection");
    assert_matches_spec::<SoftwareInventory>("SoftwareInventory");
    assert_matches_spec::<SoftwareInventoryCollection>("SoftwareInventoryCollection");
    assert_matches_spec::<ExportFiles>("ExportFiles");
}

/// Decodes `json` (which carries fields the spec does not declare) into `T`.
fn decodes_with_unknown_fields<T: serde::de::DeserializeOwned>(name: &str, json: &str) {
    if let Err(e) = serde_json::from_str::<T>(json) {
        panic!("{name} refused unknown fields: {e}");
    }
}

#[test]
fn every_generated_type_ignores_fields_it_does_not_know() {
    let unknown = r#""futureField": {"nested": [1, "two", null]}, "@odata.etag": "W/\"1\"""#;
    let kb = format!(r#"{{"id": "1", "machineMissedOn": 1, "cveAddressed": 1, {unknown}}}"#);
    let software = format!(r#"{{"id": "microsoft-_-edge", {unknown}}}"#);
    let distribution = format!(r#"{{"version": "1.0", {unknown}}}"#);
    let vulnerability = format!(r#"{{"id": "CVE-2025-0001", {unknown}}}"#);
    let machine = format!(r#"{{"id": "m-1", {unknown}}}"#);
    let error = format!(r#"{{"error": {{"code": "X", "message": "y", {unknown}}}, {unknown}}}"#);
    let page = |item: &str| format!(r#"{{"value": [{item}], {unknown}}}"#);

    decodes_with_unknown_fields::<PublicProductFixDto>("PublicProductFixDto", &kb);
    decodes_with_unknown_fields::<PublicProductFixDtoCollection>(
        "PublicProductFixDtoCollection",
        &page(&kb),
    );
    decodes_with_unknown_fields::<Software>("Software", &software);
    decodes_with_unknown_fields::<SoftwareCollection>("SoftwareCollection", &page(&software));
    decodes_with_unknown_fields::<SoftwareVersionDistribution>(
        "SoftwareVersionDistribution",
        &distribution,
    );
    decodes_with_unknown_fields::<SoftwareVersionDistributionCollection>(
        "SoftwareVersionDistributionCollection",
        &page(&distribution),
    );
    decodes_with_unknown_fields::<Vulnerability>("Vulnerability", &vulnerability);
    decodes_with_unknown_fields::<VulnerabilityCollection>(
        "VulnerabilityCollection",
        &page(&vulnerability),
    );
    decodes_with_unknown_fields::<MachineReference>("MachineReference", &machine);
    decodes_with_unknown_fields::<MachineReferenceCollection>(
        "MachineReferenceCollection",
        &page(&machine),
    );
    decodes_with_unknown_fields::<ODataError>("ODataError", &error);
}
