//! Values in people's words, for the formats people read (HTML, Markdown, the table): product
//! names as Microsoft writes them, yes/no, numbers with thousands separators, dates in words,
//! what a KB is (product and month).

use defender_tvm::export::ExploitabilityLevel;
use defender_tvm::report::{KbRollup, Report};

/// A product id as the service sends it (`edge_chromium-based`, `windows_11`, `.net_framework`)
/// as Microsoft writes the name (`Edge Chromium-based`, `Windows 11`, `.NET Framework`).
pub fn product(id: &str) -> String {
    id.split('_')
        .filter(|word| !word.is_empty())
        .map(|word| match word {
            "sql" => "SQL".to_owned(),
            ".net" => ".NET".to_owned(),
            "os" | "vpn" | "ie" | "jdk" | "jre" => word.to_uppercase(),
            _ => {
                let mut chars = word.chars();
                match chars.next() {
                    Some(first) => first.to_uppercase().chain(chars).collect(),
                    None => String::new(),
                }
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Products, named, joined with `, `.
pub fn products(ids: &[String]) -> String {
    ids.iter()
        .map(|id| product(id))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A column name (`cves_addressed`, `os_platform`) as a header (`CVEs addressed`,
/// `OS platform`).
pub fn header(column: &str) -> String {
    let words: Vec<String> = column
        .split('_')
        .enumerate()
        .map(|(i, word)| match word {
            "kb" | "kbs" => word.to_uppercase().replace("KBS", "KBs"),
            "cve" | "cvss" | "epss" | "id" | "os" | "url" | "dns" | "rbac" => word.to_uppercase(),
            "cves" | "ids" => format!("{}s", word[..word.len() - 1].to_uppercase()),
            "v3" => "v3".to_owned(),
            _ if i == 0 => {
                let mut chars = word.chars();
                chars
                    .next()
                    .map(|first| first.to_uppercase().chain(chars).collect())
                    .unwrap_or_default()
            }
            _ => word.to_owned(),
        })
        .collect();
    words.join(" ")
}

/// `yes` or `no`.
pub fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A time in words, `30 November 2026, 16:00 UTC`.
pub fn date(time: &chrono::DateTime<chrono::Utc>) -> String {
    time.format("%-d %B %Y, %H:%M UTC").to_string()
}

/// A time as RFC 3339 to the second, `2026-11-30T16:00:00Z` (for machines, and CSV cells).
pub fn rfc3339(time: &chrono::DateTime<chrono::Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The month a KB's title starts with (`2025-08 Cumulative Update …`), as `Aug 2025`.
pub fn month(title: &str) -> Option<String> {
    let prefix = title.get(..7)?;
    let date = chrono::NaiveDate::parse_from_str(&format!("{prefix}-01"), "%Y-%m-%d").ok()?;
    Some(date.format("%b %Y").to_string())
}

/// What a KB is, for a label: its products and month, then its number
/// (`Windows 11, Aug 2025 (KB5056016)`).
pub fn kb_label(kb: &KbRollup) -> String {
    let what = products(&kb.products);
    let month = kb.name.as_deref().and_then(month);
    match (what.is_empty(), month) {
        (false, Some(month)) => format!("{what}, {month} (KB{})", kb.id),
        (false, None) => format!("{what} (KB{})", kb.id),
        (true, _) => format!("KB{}", kb.id),
    }
}

/// How exploitable a KB's worst CVE is: the export's level when known, else whether one of its
/// software has a public exploit.
pub fn exploit(kb: &KbRollup) -> &'static str {
    match &kb.exploitability {
        Some(ExploitabilityLevel::ExploitIsInKit) => "in an exploit kit",
        Some(ExploitabilityLevel::ExploitIsVerified) => "verified exploit",
        Some(ExploitabilityLevel::ExploitIsPublic) => "public exploit",
        Some(ExploitabilityLevel::NoExploit) => "none known",
        Some(_) => "unknown",
        None if kb.public_exploit => "public exploit (for one of its software)",
        None => "none known",
    }
}

/// Whether a KB's worst CVE has an exploit (the same sources as [`exploit`]).
pub fn has_exploit(kb: &KbRollup) -> bool {
    match &kb.exploitability {
        Some(level) => level.has_exploit(),
        None => kb.public_exploit,
    }
}

/// The devices the report's KBs miss on: exact with device ids, else a lower bound.
pub fn devices(report: &Report) -> String {
    match report.devices() {
        Some(devices) => thousands(devices.len() as i64),
        None => format!(
            "at least {} (with --devices, exact)",
            thousands(report.kbs.iter().map(|kb| kb.devices).max().unwrap_or(0))
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_ids_read_as_microsoft_names_them() {
        for (id, name) in [
            ("edge_chromium-based", "Edge Chromium-based"),
            ("windows_11", "Windows 11"),
            ("windows_server_2019", "Windows Server 2019"),
            (".net_framework", ".NET Framework"),
            ("sql_server_2019", "SQL Server 2019"),
            ("visual_studio_2022", "Visual Studio 2022"),
            ("office", "Office"),
            ("notepad++", "Notepad++"),
        ] {
            assert_eq!(product(id), name, "{id}");
        }
        assert_eq!(
            products(&["office".into(), "teams".into()]),
            "Office, Teams"
        );
    }

    #[test]
    fn numbers_dates_and_months_in_words() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(-12_345), "-12,345");
        let at: chrono::DateTime<chrono::Utc> =
            chrono::DateTime::parse_from_rfc3339("2026-11-30T18:05:09.5+02:00")
                .unwrap()
                .into();
        assert_eq!(date(&at), "30 November 2026, 16:05 UTC");
        assert_eq!(rfc3339(&at), "2026-11-30T16:05:09Z");
        assert_eq!(
            month("2025-08 Cumulative Update for Windows 11").as_deref(),
            Some("Aug 2025")
        );
        assert_eq!(month("Security Update for SQL Server 2019 CU25"), None);
        assert_eq!(yes_no(true), "yes");
        assert_eq!(header("cves_addressed"), "CVEs addressed");
        assert_eq!(header("os_platform"), "OS platform");
        assert_eq!(header("kbs_to_deploy"), "KBs to deploy");
        assert_eq!(header("device_id"), "Device ID");
        assert_eq!(header("cvss_v3"), "CVSS v3");
    }
}
