//! Generates the API client from the hand-maintained OpenAPI contract.
//!
//! `openapi/defender-tvm.yaml` is the source of truth. On every build where it changed, this
//! script runs progenitor and writes two files into `OUT_DIR`:
//! - `client.rs`: the builder-style client and its types (included by `src/generated.rs`);
//! - `mock.rs`: progenitor's typed httpmock helpers (included by `src/mock.rs`, feature `mock`).
//!
//! Nothing generated is committed. A spec that cannot be read or generated from fails the build
//! with one message naming the file and the problem.

use std::path::{Path, PathBuf};

use proc_macro2::TokenStream;
use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TypeImpl};

const SPEC: &str = "openapi/defender-tvm.yaml";

fn main() {
    println!("cargo::rerun-if-changed={SPEC}");
    println!("cargo::rerun-if-changed=build.rs");
    if let Err(problem) = generate() {
        // `cargo::error` prints the message without a panic backtrace and fails the build.
        for line in problem.lines() {
            println!("cargo::error={SPEC}: {line}");
        }
        std::process::exit(1);
    }
}

fn generate() -> Result<(), String> {
    let text = std::fs::read_to_string(SPEC).map_err(|e| format!("cannot read the spec: {e}"))?;
    let spec: openapiv3::OpenAPI = serde_yaml_ng::from_str(&text)
        .map_err(|e| format!("not a valid OpenAPI 3.0 document: {e}"))?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").map_err(|e| format!("OUT_DIR: {e}"))?);

    let settings = settings()?;
    let client = Generator::new(&settings)
        .generate_tokens(&spec)
        .map_err(|e| format!("progenitor cannot generate the client: {e}"))?;
    write_formatted(&out_dir.join("client.rs"), client)?;

    // A second generator: `httpmock` registers the spec's types again.
    let mock = Generator::new(&settings)
        .httpmock(&spec, "crate::generated")
        .map_err(|e| format!("progenitor cannot generate the httpmock helpers: {e}"))?;
    write_formatted(&out_dir.join("mock.rs"), mock)
}

fn settings() -> Result<GenerationSettings, String> {
    let context: TokenStream = "std::sync::Arc<crate::transport::Transport>"
        .parse()
        .map_err(|e| format!("inner type: {e}"))?;
    let mut settings = GenerationSettings::new();
    settings
        .with_interface(InterfaceStyle::Builder)
        // Every generated request enters the one sending path through `ClientHooks`
        // (`src/transport/hooks.rs`); `Expected` makes a missing implementation a compile error.
        .with_hooks(HooksMode::Expected)
        // The client's one sending path, reachable from the hooks (no per-call state).
        .with_inner_type(context)
        .with_derive("schemars::JsonSchema")
        // Reports compare and round-trip the spec's types.
        .with_derive("PartialEq")
        // A forward-compatible enum: an unknown severity must not fail a whole page.
        .with_replacement(
            "VulnerabilitySeverity",
            "crate::Severity",
            [TypeImpl::Display, TypeImpl::FromStr].into_iter(),
        )
        // A string collection the service also sends as one string: always a list.
        .with_replacement(
            "StringOrStrings",
            "crate::StringList",
            [TypeImpl::Default].into_iter(),
        );
    Ok(settings)
}

fn write_formatted(path: &Path, tokens: TokenStream) -> Result<(), String> {
    let file: syn::File = syn::parse2(tokens)
        .map_err(|e| format!("progenitor produced code that does not parse: {e}"))?;
    std::fs::write(path, prettyplease::unparse(&file))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}
