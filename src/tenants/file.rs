//! A TOML file of tenants (feature `tenants`):
//!
//! ```toml
//! [[tenant]]
//! name = "contoso"
//! tenant_id = "00000000-0000-0000-0000-000000000001"
//! client_id = "00000000-0000-0000-0000-0000000000aa"
//! client_secret_env = "CONTOSO_SECRET"      # or client_secret_file = "/run/secrets/contoso"
//! cloud = "europe"                           # optional (DEFENDER_TVM_CLOUD's names)
//! base_url = "https://eu.api.security.microsoft.com"   # optional
//! authority_host = "https://login.microsoftonline.us"  # optional (sovereign clouds)
//! # or, instead of an application: bearer_token_env = "CONTOSO_TOKEN"
//! ```
//!
//! A secret written in the file (`client_secret = "…"`) is refused unless the file says
//! `allow_inline_secrets = true` at its top; a secret file that others may read gets a warning.
//! Each tenant's client is made by the one resolution of credentials
//! ([`ClientBuilder::from_vars`]), fed the tenant's values. Errors name the file, the line and
//! the tenant, never a secret.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::Tenants;
use crate::client::builder::ClientBuilder;
use crate::error::Error;

/// What [`Tenants::from_file`] read: the tenants, and warnings for a person (a secret file
/// that others may read).
#[derive(Debug)]
#[non_exhaustive]
pub struct TenantsFile {
    /// The tenants, in the file's order.
    pub tenants: Tenants,
    /// Warnings, each naming the file, line and tenant.
    pub warnings: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    allow_inline_secrets: bool,
    #[serde(default)]
    tenant: Vec<toml::Spanned<Entry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    tenant_id: Option<String>,
    client_id: Option<String>,
    client_secret_env: Option<String>,
    client_secret_file: Option<PathBuf>,
    client_secret: Option<String>,
    bearer_token_env: Option<String>,
    cloud: Option<String>,
    base_url: Option<String>,
    authority_host: Option<String>,
}

impl Tenants {
    /// Reads a TOML file of tenants (see the module documentation of `tenants/file.rs`):
    /// every tenant's client is built, and nothing is sent yet. `env` looks up the variables
    /// the file names (`std::env::var` in production).
    pub fn from_file(
        path: &Path,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<TenantsFile, Error> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::invalid_input(format!("cannot read the tenants file {shown}: {e}"))
        })?;
        let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        let file: File = toml::from_str(&text).map_err(|e| {
            let line = e.span().map(|span| line_of(span.start));
            Error::invalid_input(format!(
                "{shown}{}: {}",
                line.map(|l| format!(" line {l}")).unwrap_or_default(),
                e.message()
            ))
        })?;
        if file.tenant.is_empty() {
            return Err(Error::invalid_input(format!(
                "{shown}: no [[tenant]] in the file"
            )));
        }
        let mut tenants = Tenants::new();
        let mut warnings = Vec::new();
        for spanned in file.tenant {
            let line = line_of(spanned.span().start);
            let entry = spanned.into_inner();
            let at = format!("{shown} line {line} (tenant {:?})", entry.name);
            let fail = |message: String| Error::invalid_input(format!("{at}: {message}"));
            // Another error, in this tenant's terms (an invalid input's own message).
            let about = |e: Error| match e {
                Error::InvalidInput(invalid) => fail(invalid.message),
                other => fail(other.to_string()),
            };
            let mut vars: BTreeMap<&str, String> = BTreeMap::new();
            let secret = match (
                &entry.client_secret_env,
                &entry.client_secret_file,
                &entry.client_secret,
            ) {
                (Some(var), None, None) => {
                    Some(env(var).filter(|v| !v.trim().is_empty()).ok_or_else(|| {
                        fail(format!("client_secret_env names {var}, which is not set"))
                    })?)
                }
                (None, Some(file), None) => {
                    if let Some(warning) = readable_by_others(file) {
                        warnings.push(format!("{at}: {warning}"));
                    }
                    let secret = std::fs::read_to_string(file).map_err(|e| {
                        fail(format!(
                            "cannot read client_secret_file {}: {e}",
                            file.display()
                        ))
                    })?;
                    Some(secret.trim().to_owned())
                }
                (None, None, Some(secret)) if file.allow_inline_secrets => Some(secret.clone()),
                (None, None, Some(_)) => {
                    return Err(fail(
                        "a client secret is written in the file; use client_secret_env or \
                         client_secret_file (or set allow_inline_secrets = true at the top)"
                            .into(),
                    ));
                }
                (None, None, None) => None,
                _ => {
                    return Err(fail(
                        "give one of client_secret_env, client_secret_file, client_secret".into(),
                    ));
                }
            };
            if let Some(secret) = secret {
                vars.insert("AZURE_CLIENT_SECRET", secret);
            }
            if let Some(var) = &entry.bearer_token_env {
                let token = env(var).filter(|v| !v.trim().is_empty()).ok_or_else(|| {
                    fail(format!("bearer_token_env names {var}, which is not set"))
                })?;
                vars.insert("DEFENDER_TVM_BEARER_TOKEN", token);
            }
            for (name, value) in [
                ("AZURE_TENANT_ID", &entry.tenant_id),
                ("AZURE_CLIENT_ID", &entry.client_id),
                ("DEFENDER_TVM_CLOUD", &entry.cloud),
                ("DEFENDER_TVM_BASE_URL", &entry.base_url),
                ("AZURE_AUTHORITY_HOST", &entry.authority_host),
            ] {
                if let Some(value) = value {
                    vars.insert(name, value.clone());
                }
            }
            let client = ClientBuilder::from_vars(|name| vars.get(name).cloned())
                .and_then(ClientBuilder::build)
                .map_err(about)?;
            tenants = tenants.with(entry.name, client).map_err(about)?;
        }
        Ok(TenantsFile { tenants, warnings })
    }
}

impl TenantsFile {
    /// The tenants' names in a tenants file, in its order, without building any client (no
    /// secret is read): for a dry run, or to stand a demo tenant in for each.
    pub fn names(path: &Path) -> Result<Vec<String>, Error> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::invalid_input(format!("cannot read the tenants file {shown}: {e}"))
        })?;
        let file: File = toml::from_str(&text)
            .map_err(|e| Error::invalid_input(format!("{shown}: {}", e.message())))?;
        Ok(file
            .tenant
            .into_iter()
            .map(|entry| entry.into_inner().name)
            .collect())
    }
}

/// A warning when others than the owner may read `path`.
#[cfg(unix)]
fn readable_by_others(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o077 != 0).then(|| {
        format!(
            "the secret file {} may be read by others (mode {:o}); chmod 600 it",
            path.display(),
            mode & 0o777
        )
    })
}

#[cfg(not(unix))]
fn readable_by_others(_: &Path) -> Option<String> {
    None
}
