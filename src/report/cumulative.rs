//! Which KBs are Windows cumulative updates of one series, told from their titles.
//!
//! On Windows 10, Windows 11 and Windows Server 2016 or later, the monthly cumulative update of
//! a version contains every earlier one of that version: installing the newest installs them
//! all. Microsoft titles them `2025-08 Cumulative Update for Windows 11 Version 24H2 for
//! x64-based Systems (KB5056016)`: the month, then `Cumulative Update for`, then the version and
//! architecture (the **series**), then the KB.
//!
//! The rule: two KBs are of one series when both titles follow that pattern with the same series
//! text and the KBs name the same products; the newest is the one of the latest month (then the
//! higher KB number). Its limits, written in the README too:
//! - only titles in that form count: previews (`Cumulative Update Preview for …`), dynamic
//!   updates, .NET Framework and Internet Explorer cumulative updates, servicing stack updates
//!   and titles in other words are never collapsed;
//! - the service does not document whether it lists updates that a newer one supersedes (it has
//!   been seen to), nor does it give a supersedence chain: the rule trusts Microsoft's naming;
//! - `osBuild`, which only the device-level call returns, is not used.

/// The series and month of a Windows cumulative update's title, or `None` when the title is
/// not one (see the module documentation).
pub(crate) fn series(title: &str) -> Option<(&str, Option<&str>)> {
    let title = title.trim();
    let (month, rest) = match title.split_once(' ') {
        Some((month, rest)) if is_month(month) => (Some(month), rest),
        _ => (None, title),
    };
    let rest = rest.strip_prefix("Cumulative Update for ")?;
    let series = match rest.rfind(" (KB") {
        Some(end) => &rest[..end],
        None => rest,
    }
    .trim();
    let windows = [
        "Windows 10",
        "Windows 11",
        "Microsoft server operating system",
    ]
    .iter()
    .any(|os| series.starts_with(os))
        || ["2016", "2019", "2022", "2025"]
            .iter()
            .any(|year| series.starts_with(&format!("Windows Server {year}")));
    windows.then_some((series, month))
}

/// `YYYY-MM`.
fn is_month(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 7
        && bytes[4] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::series;

    #[test]
    fn windows_cumulative_updates_have_a_series_and_others_none() {
        let cases = [
            (
                "2025-08 Cumulative Update for Windows 11 Version 24H2 for x64-based Systems (KB5056016)",
                Some((
                    "Windows 11 Version 24H2 for x64-based Systems",
                    Some("2025-08"),
                )),
            ),
            (
                "2025-09 Cumulative Update for Windows Server 2019 for x64-based Systems (KB5057263)",
                Some(("Windows Server 2019 for x64-based Systems", Some("2025-09"))),
            ),
            (
                "2025-10 Cumulative Update for Microsoft server operating system version 21H2 for x64-based Systems (KB5058059)",
                Some((
                    "Microsoft server operating system version 21H2 for x64-based Systems",
                    Some("2025-10"),
                )),
            ),
            (
                "Cumulative Update for Windows 10 Version 22H2 for x64-based Systems (KB5055508)",
                Some(("Windows 10 Version 22H2 for x64-based Systems", None)),
            ),
            (
                "2025-10 Cumulative Update for .NET Framework 3.5 and 4.8.1 (KB5059404)",
                None,
            ),
            (
                "2025-09 Cumulative Update Preview for Windows 11 Version 24H2 for x64-based Systems (KB5065789)",
                None,
            ),
            (
                "2025-01 Dynamic Cumulative Update for Windows 11 Version 24H2 for x64-based Systems (KB5050001)",
                None,
            ),
            (
                "2025-01 Cumulative Update for Windows Server 2012 R2 for x64-based Systems (KB5050002)",
                None,
            ),
            (
                "2025-08 Security Update for Microsoft Edge (KB5059609)",
                None,
            ),
            (
                "Cumulative Security Update for Internet Explorer 11 (KB5050003)",
                None,
            ),
            ("", None),
            // Not a month before the title: not a monthly cumulative update.
            (
                "Preview Cumulative Update for Windows 11 Version 24H2 for x64-based Systems (KB5050004)",
                None,
            ),
            (
                "2025-0x Cumulative Update for Windows 11 Version 24H2 for x64-based Systems (KB5050005)",
                None,
            ),
        ];
        for (title, expected) in cases {
            assert_eq!(series(title), expected, "{title}");
        }
    }
}
