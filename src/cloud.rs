//! Where requests go: the Defender clouds and regional endpoints (the spec's `servers`).

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// A Defender API endpoint: the global one, a nearer data centre, or a US Government cloud.
///
/// Names parse from [`Cloud::name`] (`europe`, `gcc-high`, …) and from the short host codes
/// (`eu`, `swa`, `ina`, …), ignoring case and `_`/`-`.
///
/// ```
/// use defender_tvm::Cloud;
///
/// assert_eq!(Cloud::Europe.base_url(), "https://eu.api.security.microsoft.com");
/// assert_eq!("gcc-high".parse::<Cloud>().unwrap(), Cloud::GccHigh);
/// assert_eq!("swa".parse::<Cloud>().unwrap(), Cloud::Switzerland);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Cloud {
    /// Commercial cloud, global endpoint `https://api.security.microsoft.com` (the default).
    #[default]
    Global,
    /// Commercial cloud, United States data centres (`us.`).
    UnitedStates,
    /// Commercial cloud, European Union data centres (`eu.`).
    Europe,
    /// Commercial cloud, United Kingdom data centres (`uk.`).
    UnitedKingdom,
    /// Commercial cloud, Australia data centres (`au.`).
    Australia,
    /// Commercial cloud, Switzerland data centres (`swa.`).
    Switzerland,
    /// Commercial cloud, India data centres (`ina.`).
    India,
    /// Commercial cloud, United Arab Emirates data centres (`aea.`).
    UnitedArabEmirates,
    /// US Government Community Cloud (GCC).
    Gcc,
    /// US Government GCC High.
    GccHigh,
    /// US Government Department of Defense (DoD).
    Dod,
}

impl Cloud {
    /// Every cloud, in the order of the spec's `servers` (a slice: a new cloud is not a
    /// breaking change).
    pub const ALL: &'static [Cloud] = &[
        Cloud::Global,
        Cloud::UnitedStates,
        Cloud::Europe,
        Cloud::UnitedKingdom,
        Cloud::Australia,
        Cloud::Switzerland,
        Cloud::India,
        Cloud::UnitedArabEmirates,
        Cloud::Gcc,
        Cloud::GccHigh,
        Cloud::Dod,
    ];

    /// The API base URL of this cloud.
    pub fn base_url(self) -> &'static str {
        match self {
            Cloud::Global => "https://api.security.microsoft.com",
            Cloud::UnitedStates => "https://us.api.security.microsoft.com",
            Cloud::Europe => "https://eu.api.security.microsoft.com",
            Cloud::UnitedKingdom => "https://uk.api.security.microsoft.com",
            Cloud::Australia => "https://au.api.security.microsoft.com",
            Cloud::Switzerland => "https://swa.api.security.microsoft.com",
            Cloud::India => "https://ina.api.security.microsoft.com",
            Cloud::UnitedArabEmirates => "https://aea.api.security.microsoft.com",
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

    /// The name this cloud displays as and parses from (`global`, `united-states`, `europe`,
    /// …, `gcc`, `gcc-high`, `dod`).
    pub fn name(self) -> &'static str {
        match self {
            Cloud::Global => "global",
            Cloud::UnitedStates => "united-states",
            Cloud::Europe => "europe",
            Cloud::UnitedKingdom => "united-kingdom",
            Cloud::Australia => "australia",
            Cloud::Switzerland => "switzerland",
            Cloud::India => "india",
            Cloud::UnitedArabEmirates => "united-arab-emirates",
            Cloud::Gcc => "gcc",
            Cloud::GccHigh => "gcc-high",
            Cloud::Dod => "dod",
        }
    }

    /// The short code of a regional endpoint (its host prefix: `us`, `eu`, `uk`, `au`, `swa`,
    /// `ina`, `aea`), also accepted when parsing.
    pub fn code(self) -> Option<&'static str> {
        Some(match self {
            Cloud::UnitedStates => "us",
            Cloud::Europe => "eu",
            Cloud::UnitedKingdom => "uk",
            Cloud::Australia => "au",
            Cloud::Switzerland => "swa",
            Cloud::India => "ina",
            Cloud::UnitedArabEmirates => "aea",
            _ => return None,
        })
    }
}

impl fmt::Display for Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Cloud {
    type Err = Error;

    /// Parses a name as [`Cloud::name`] gives it, or a short code ([`Cloud::code`]), ignoring
    /// case and `_`/`-`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace('_', "-");
        Cloud::ALL
            .iter()
            .copied()
            .find(|cloud| cloud.name() == wanted || cloud.code() == Some(wanted.as_str()))
            .ok_or_else(|| {
                let names: Vec<_> = Cloud::ALL.iter().map(|c| c.name()).collect();
                Error::invalid_input(format!(
                    "unknown cloud {s:?}; expected one of {} (or a region code: us, eu, uk, au, \
                     swa, ina, aea)",
                    names.join(", ")
                ))
            })
    }
}
