//! Where requests go: the Defender clouds and regional endpoints (the spec's `servers`).

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// A Defender API endpoint: the global one, a nearer data centre, or a US Government cloud.
///
/// ```
/// use defender_tvm::Cloud;
///
/// assert_eq!(Cloud::Eu.base_url(), "https://eu.api.security.microsoft.com");
/// assert_eq!("gcc-high".parse::<Cloud>().unwrap(), Cloud::GccHigh);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Cloud {
    /// Commercial cloud, global endpoint `https://api.security.microsoft.com` (the default).
    #[default]
    Global,
    /// Commercial cloud, United States data centres.
    Us,
    /// Commercial cloud, European Union data centres.
    Eu,
    /// Commercial cloud, United Kingdom data centres.
    Uk,
    /// Commercial cloud, Australia data centres.
    Au,
    /// Commercial cloud, Switzerland data centres.
    Swa,
    /// Commercial cloud, India data centres.
    Ina,
    /// US Government Community Cloud (GCC).
    Gcc,
    /// US Government GCC High.
    GccHigh,
    /// US Government Department of Defense (DoD).
    Dod,
}

impl Cloud {
    /// Every cloud, in the order of the spec's `servers`.
    pub const ALL: [Cloud; 10] = [
        Cloud::Global,
        Cloud::Us,
        Cloud::Eu,
        Cloud::Uk,
        Cloud::Au,
        Cloud::Swa,
        Cloud::Ina,
        Cloud::Gcc,
        Cloud::GccHigh,
        Cloud::Dod,
    ];

    /// The API base URL of this cloud.
    pub fn base_url(self) -> &'static str {
        match self {
            Cloud::Global => "https://api.security.microsoft.com",
            Cloud::Us => "https://us.api.security.microsoft.com",
            Cloud::Eu => "https://eu.api.security.microsoft.com",
            Cloud::Uk => "https://uk.api.security.microsoft.com",
            Cloud::Au => "https://au.api.security.microsoft.com",
            Cloud::Swa => "https://swa.api.security.microsoft.com",
            Cloud::Ina => "https://ina.api.security.microsoft.com",
            Cloud::Gcc => "https://api-gcc.securitycenter.microsoft.us",
            Cloud::GccHigh | Cloud::Dod => "https://api-gov.securitycenter.microsoft.us",
        }
    }

    /// The Entra ID sign-in host of this cloud: `https://login.microsoftonline.us` for GCC High
    /// and DoD, `https://login.microsoftonline.com` for the others (GCC included).
    pub fn authority_host(self) -> &'static str {
        match self {
            Cloud::GccHigh | Cloud::Dod => "https://login.microsoftonline.us",
            _ => "https://login.microsoftonline.com",
        }
    }

    /// The OAuth scope to request tokens for: the cloud's API resource with `/.default`.
    ///
    /// Decision: the commercial regions share the resource `https://api.securitycenter.microsoft.com`;
    /// GCC and GCC High/DoD use their own API host as resource, as Microsoft's US Government
    /// pages describe.
    pub fn scope(self) -> &'static str {
        match self {
            Cloud::Gcc => "https://api-gcc.securitycenter.microsoft.us/.default",
            Cloud::GccHigh | Cloud::Dod => "https://api-gov.securitycenter.microsoft.us/.default",
            _ => "https://api.securitycenter.microsoft.com/.default",
        }
    }

    /// The name this cloud parses from (`global`, `us`, `eu`, …, `gcc`, `gcc-high`, `dod`).
    pub fn name(self) -> &'static str {
        match self {
            Cloud::Global => "global",
            Cloud::Us => "us",
            Cloud::Eu => "eu",
            Cloud::Uk => "uk",
            Cloud::Au => "au",
            Cloud::Swa => "swa",
            Cloud::Ina => "ina",
            Cloud::Gcc => "gcc",
            Cloud::GccHigh => "gcc-high",
            Cloud::Dod => "dod",
        }
    }
}

impl fmt::Display for Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Cloud {
    type Err = Error;

    /// Parses a name as [`Cloud::name`] gives it, ignoring case and `_`/`-`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace('_', "-");
        Cloud::ALL
            .into_iter()
            .find(|cloud| cloud.name() == wanted)
            .ok_or_else(|| {
                let names: Vec<_> = Cloud::ALL.iter().map(|c| c.name()).collect();
                Error::invalid_input(format!(
                    "unknown cloud {s:?}; expected one of {}",
                    names.join(", ")
                ))
            })
    }
}
