//! CSV cells a spreadsheet would run: values from the service (device, software, group and
//! tenant names, KB titles) are untrusted, and a cell that starts with `=`, `+`, `-`, `@`, a tab
//! or a carriage return is a formula to Excel, LibreOffice and Google Sheets
//! (`=HYPERLINK("http://x","y")`). As OWASP advises, such a text cell gets a leading `'`, which
//! spreadsheets show as text and do not display; numbers (`-1.5`) are left as they are.
//! `--csv-raw` writes every value as it is, for pipelines that never open a spreadsheet.

use std::borrow::Cow;

/// `text` as a CSV cell a spreadsheet shows as text (unless `raw`).
pub fn cell(text: &str, raw: bool) -> Cow<'_, str> {
    let formula = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if raw || !formula || is_number(text) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(format!("'{text}"))
}

/// Whether `text` is a plain number (`-3`, `+2.5`, `-1e3`), which no spreadsheet runs.
fn is_number(text: &str) -> bool {
    text.parse::<f64>().is_ok_and(f64::is_finite)
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn formulas_get_a_leading_quote_and_numbers_and_plain_text_do_not() {
        for (text, safe) in [
            ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
            ("+1+1", "'+1+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("-", "'-"),
            ("-1.5", "-1.5"),
            ("+3", "+3"),
            ("-1e3", "-1e3"),
            ("-inf", "'-inf"),
            ("-NaN", "'-NaN"),
            ("ws-fin-0001", "ws-fin-0001"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(cell(text, false), safe, "{text:?}");
            assert_eq!(cell(text, true), text, "{text:?} raw");
        }
    }
}
