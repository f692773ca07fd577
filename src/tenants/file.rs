//! The tenants file (feature `tenants`): its format is documented in [`crate::tenants`].

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
    client_secret_env: Option<toml::Spanned<String>>,
    client_secret_file: Option<PathBuf>,
    client_secret: Option<String>,
    bearer_token_env: Option<toml::Spanned<String>>,
    cloud: Option<String>,
    base_url: Option<String>,
    authority_host: Option<String>,
}

impl Tenants {
    /// Reads a TOML file of tenants (its format: [the module documentation](crate::tenants#the-tenants-file)):
    /// every tenant's client is built, and nothing is sent yet. `env` looks up the variables
    /// the file names (`std::env::var` in production).
    pub fn from_file(
        path: &Path,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<TenantsFile, Error> {
        let Read { shown, text, file } = Read::checked(path)?;
        let line_of = |offset: usize| line_of(&text, offset);
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
                    let var = variable_name(var, "client_secret_env", &shown, &line_of)?;
                    Some(env(var).filter(|v| !v.trim().is_empty()).ok_or_else(|| {
                        fail(format!("client_secret_env names {var}, which is not set"))
                    })?)
                }
                (None, Some(file), None) => {
                    if let Some(warning) = readable_by_others(file) {
                        warnings.push(format!("{at}: {warning}"));
                    }
                    let secret = std::fs::read_to_string(file).map_err(|e| {
                        Error::file(format!("the client_secret_file of {at}"), file, e)
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
                let var = variable_name(var, "bearer_token_env", &shown, &line_of)?;
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
    /// It refuses what [`Tenants::from_file`] refuses of the file as a whole (it cannot be
    /// read, it is not TOML of tenants, it has none, a name is refused or given twice), with
    /// the file and the line.
    pub fn names(path: &Path) -> Result<Vec<String>, Error> {
        let read = Read::checked(path)?;
        Ok(read
            .file
            .tenant
            .into_iter()
            .map(|entry| entry.into_inner().name)
            .collect())
    }
}

/// A tenants file read and checked as a whole: TOML of tenants, at least one, each name
/// allowed and given once.
struct Read {
    /// The path, for messages.
    shown: String,
    text: String,
    file: File,
}

impl Read {
    fn checked(path: &Path) -> Result<Self, Error> {
        let shown = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|e| Error::file("the tenants file", path, e))?;
        let file: File = toml::from_str(&text).map_err(|e| {
            let line = e.span().map(|span| line_of(&text, span.start));
            Error::invalid_input(format!(
                "{shown}{}: {}",
                line.map(|l| format!(" line {l}")).unwrap_or_default(),
                without_values(e.message())
            ))
        })?;
        if file.tenant.is_empty() {
            return Err(Error::invalid_input(format!(
                "{shown}: no [[tenant]] in the file"
            )));
        }
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for spanned in &file.tenant {
            let line = line_of(&text, spanned.span().start);
            let name = spanned.get_ref().name.as_str();
            super::check_name(name)
                .map_err(|why| Error::invalid_input(format!("{shown} line {line}: {why}")))?;
            if let Some(first) = seen.insert(name, line) {
                return Err(Error::invalid_input(format!(
                    "{shown} line {line}: a tenant named {name:?} is already at line {first}"
                )));
            }
        }
        Ok(Self { shown, text, file })
    }
}

/// The line (from 1) of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len()))
        .unwrap_or(text)
        .matches('\n')
        .count()
        + 1
}

/// A TOML error's message without the value it quotes (`invalid type: integer `12345`,
/// expected a string`): the value may be a secret written in the wrong place.
fn without_values(message: &str) -> String {
    let message = message.trim();
    if message.starts_with("invalid type") || message.starts_with("invalid value") {
        return match message.split_once(", expected ") {
            Some((_, expected)) => {
                format!("a value of the wrong type (expected {expected}; the value is not shown)")
            }
            None => "a value of the wrong type (the value is not shown)".to_owned(),
        };
    }
    message.to_owned()
}

/// A `client_secret_env` or `bearer_token_env`: the name of an environment variable (letters,
/// digits and `_`, not starting with a digit). Anything else (a secret pasted there) is refused
/// without being shown.
fn variable_name<'a>(
    value: &'a toml::Spanned<String>,
    field: &str,
    shown: &str,
    line_of: &dyn Fn(usize) -> usize,
) -> Result<&'a str, Error> {
    let name = value.get_ref().as_str();
    let valid = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if valid {
        return Ok(name);
    }
    Err(Error::invalid_input(format!(
        "{shown} line {}: {field} must be the name of an environment variable (letters, \
         digits and _, not starting with a digit); what it holds is not (a pasted secret?) \
         and is not shown",
        line_of(value.span().start)
    )))
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
