//! A tenant's name as one folder name, `tenant=<value>`: the name comes from the service or a
//! user, so it is encoded before it touches a path.
//!
//! The rule: ASCII letters and digits, `-` and `_` are kept; so is `.`, unless it is the last
//! character or the next one is a `.` too; every other byte of the name's UTF-8 is `%XX`
//! (upper-case hex). So the value never holds `/`, `\`, `..`, a control character or a
//! trailing dot (which Windows drops), and percent-decoding gives the name back: the decoding
//! DuckDB applies to Hive partition values (`hive_partitioning = true`). An empty name, or one
//! whose folder name would pass 255 bytes (the limit of common file systems), is refused.

use crate::error::Error;

/// The longest folder name written (bytes).
const MAX_SEGMENT: usize = 255;

/// The folder of `tenant`'s partition: `tenant=` and the encoded name.
pub(crate) fn tenant_segment(tenant: &str) -> Result<String, Error> {
    if tenant.is_empty() {
        return Err(Error::Invalid(
            "a tenant with an empty name cannot be exported: its name names its folder".into(),
        ));
    }
    let segment = format!("tenant={}", encode(tenant));
    if segment.len() > MAX_SEGMENT {
        return Err(Error::Invalid(format!(
            "the tenant name {tenant:?} is too long to name a folder once encoded \
             ({} bytes, at most {MAX_SEGMENT})",
            segment.len()
        )));
    }
    Ok(segment)
}

/// `value` percent-encoded by the rule above.
pub(crate) fn encode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = String::with_capacity(bytes.len());
    for (i, &byte) in bytes.iter().enumerate() {
        let keep = match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' => true,
            b'.' => bytes.get(i + 1).is_some_and(|&next| next != b'.'),
            _ => false,
        };
        if keep {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(hex(byte >> 4));
            out.push(hex(byte & 0x0f));
        }
    }
    out
}

/// The upper-case hex digit of a nibble.
fn hex(nibble: u8) -> char {
    char::from(b"0123456789ABCDEF"[usize::from(nibble & 0x0f)])
}

#[cfg(test)]
mod tests {
    use super::{encode, tenant_segment};

    /// Percent-decoding, as DuckDB applies it to a partition value.
    fn decode(value: &str) -> String {
        let bytes = value.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn safe_names_stay_as_they_are() {
        for name in [
            "contoso",
            "demo-1",
            "fabrikam_eu",
            "contoso.onmicrosoft.com",
            "A9",
        ] {
            assert_eq!(encode(name), name);
        }
    }

    #[test]
    fn everything_else_is_percent_encoded_and_decodes_back() {
        let cases = [
            ("../evil/x", "%2E.%2Fevil%2Fx"),
            ("a b", "a%20b"),
            ("é", "%C3%A9"),
            ("..", "%2E%2E"),
            (".", "%2E"),
            ("...", "%2E%2E%2E"),
            ("a..b", "a%2E.b"),
            ("a\\b", "a%5Cb"),
            ("x=1", "x%3D1"),
            ("50%", "50%25"),
            ("trailing.", "trailing%2E"),
            ("new\nline", "new%0Aline"),
            ("a+b", "a%2Bb"),
        ];
        for (name, encoded) in cases {
            assert_eq!(encode(name), encoded, "{name:?}");
            assert_eq!(decode(encoded), name);
        }
    }

    #[test]
    fn an_encoded_value_is_one_safe_segment() {
        for name in [
            "../evil/x",
            "..",
            "a/../../b",
            "\\\\server\\share",
            "é..",
            ". .",
        ] {
            let value = encode(name);
            assert!(!value.contains(['/', '\\']), "{value}");
            assert!(!value.contains(".."), "{value}");
            assert!(!value.ends_with('.'), "{value}");
            assert!(
                value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.%".contains(&b)),
                "{value}"
            );
            assert_eq!(decode(&value), name);
        }
    }

    #[test]
    fn empty_and_overlong_names_are_refused() {
        assert!(tenant_segment("").is_err());
        assert!(tenant_segment(&"é".repeat(40)).is_ok());
        assert!(tenant_segment(&"é".repeat(50)).is_err());
        assert_eq!(tenant_segment("a b").unwrap(), "tenant=a%20b");
    }
}
