//! Generates the API client from the hand-maintained OpenAPI contract.
//!
//! `openapi/defender-tvm.yaml` is the source of truth. On every build where it changed, this
//! script runs progenitor and writes three files into `OUT_DIR`:
//! - `types.rs`: the spec's types (included by `src/types/spec.rs`), apart from the client so
//!   that the value types sit below everything that sends requests;
//! - `client.rs`: the builder-style client, which uses them (included by `src/generated.rs`);
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
    let (client, types) = split_types(client)?;
    write_formatted(&out_dir.join("types.rs"), types)?;
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
        // (`src/client/hooks.rs`); `Expected` makes a missing implementation a compile error.
        .with_hooks(HooksMode::Expected)
        // The client's one sending path, reachable from the hooks (no per-call state).
        .with_inner_type(context)
        .with_derive("schemars::JsonSchema")
        // Reports compare and round-trip the spec's types.
        .with_derive("PartialEq")
        // A forward-compatible enum: an unknown severity must not fail a whole page.
        .with_replacement(
            "VulnerabilitySeverity",
            "crate::types::severity::Severity",
            [TypeImpl::Display, TypeImpl::FromStr].into_iter(),
        )
        // Export rows: one hand-written type reads both casings the service sends (camelCase
        // pages, PascalCase files), its timestamp text and unknown exploitability levels.
        .with_replacement(
            "SoftwareVulnerability",
            "crate::export::SoftwareVulnerability",
            std::iter::empty(),
        )
        .with_replacement(
            "SoftwareVulnerabilityChange",
            "crate::export::SoftwareVulnerabilityChange",
            std::iter::empty(),
        )
        .with_replacement(
            "SoftwareInventory",
            "crate::export::SoftwareInventory",
            std::iter::empty(),
        )
        .with_replacement(
            "ExportTimestamp",
            "crate::export::ExportTimestamp",
            std::iter::empty(),
        )
        .with_replacement(
            "ExploitabilityLevel",
            "crate::export::ExploitabilityLevel",
            std::iter::empty(),
        )
        .with_replacement(
            "ChangeStatus",
            "crate::export::ChangeStatus",
            std::iter::empty(),
        )
        // The export's file links are secrets: a type whose `Debug` hides them.
        .with_replacement(
            "ExportFiles",
            "crate::export::ExportFiles",
            std::iter::empty(),
        )
        // A string collection the service also sends as one string: always a list.
        .with_replacement(
            "StringOrStrings",
            "crate::types::string_list::StringList",
            [TypeImpl::Default].into_iter(),
        );
    Ok(settings)
}

/// Takes the generated `pub mod types { … }` out of the client: its items become their own file,
/// and the client names them through `crate::types` instead.
fn split_types(client: TokenStream) -> Result<(TokenStream, TokenStream), String> {
    let mut file: syn::File = syn::parse2(client)
        .map_err(|e| format!("progenitor produced code that does not parse: {e}"))?;
    let position = file
        .items
        .iter()
        .position(|item| matches!(item, syn::Item::Mod(m) if m.ident == "types"))
        .ok_or("progenitor's client has no `types` module")?;
    let syn::Item::Mod(types) = &file.items[position] else {
        return Err("progenitor's `types` is not a module".into());
    };
    let items = types
        .content
        .as_ref()
        .map(|(_, items)| items.clone())
        .ok_or("progenitor's `types` module is empty")?;
    file.items[position] = syn::parse_quote! {
        /// The spec's types (`crate::types`), which the client's requests and responses use.
        pub use crate::types;
    };
    let types = syn::File {
        shebang: None,
        attrs: Vec::new(),
        items,
    };
    Ok((quote::quote!(#file), quote::quote!(#types)))
}

fn write_formatted(path: &Path, tokens: TokenStream) -> Result<(), String> {
    let file: syn::File = syn::parse2(tokens)
        .map_err(|e| format!("progenitor produced code that does not parse: {e}"))?;
    std::fs::write(path, prettyplease::unparse(&file))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}
