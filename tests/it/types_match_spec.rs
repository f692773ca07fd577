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
