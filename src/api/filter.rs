//! OData `$filter` expressions for the software inventory, built from typed parts so that no
//! value can change the filter's meaning: string values are single-quoted, with a single quote
//! written twice, as OData requires. (Percent-encoding for the URL is the HTTP layer's job.)

use std::fmt;

/// A property of [`Software`](crate::types::Software) the service can filter on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SoftwareField {
    /// `id`, for example `microsoft-_-edge`.
    Id,
    /// `name`, for example `edge`.
    Name,
    /// `vendor`, for example `microsoft`.
    Vendor,
}

impl SoftwareField {
    fn as_str(self) -> &'static str {
        match self {
            SoftwareField::Id => "id",
            SoftwareField::Name => "name",
            SoftwareField::Vendor => "vendor",
        }
    }
}

/// A `$filter` for [`Client::software`](crate::Client::software).
///
/// ```
/// use defender_tvm::{SoftwareField, SoftwareFilter};
///
/// let filter = SoftwareFilter::eq(SoftwareField::Vendor, "microsoft")
///     .and(SoftwareFilter::ne(SoftwareField::Name, "O'Reilly's tool"));
/// assert_eq!(
///     filter.as_str(),
///     "(vendor eq 'microsoft') and (name ne 'O''Reilly''s tool')"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SoftwareFilter(String);

impl SoftwareFilter {
    /// `field eq 'value'`.
    pub fn eq(field: SoftwareField, value: &str) -> Self {
        Self(format!("{} eq {}", field.as_str(), quote(value)))
    }

    /// `field ne 'value'`.
    pub fn ne(field: SoftwareField, value: &str) -> Self {
        Self(format!("{} ne {}", field.as_str(), quote(value)))
    }

    /// Both filters hold.
    pub fn and(self, other: SoftwareFilter) -> Self {
        Self(format!("({}) and ({})", self.0, other.0))
    }

    /// Either filter holds.
    pub fn or(self, other: SoftwareFilter) -> Self {
        Self(format!("({}) or ({})", self.0, other.0))
    }

    /// Raw OData filter text, sent as is: **you** quote and escape its values. For filters the
    /// typed helpers cannot express.
    pub fn raw_odata(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The filter text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SoftwareFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An OData string literal: single quotes around, a single quote inside written twice.
fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_and_single_quotes_doubled() {
        let f = SoftwareFilter::eq(SoftwareField::Name, "a' or '1' eq '1");
        assert_eq!(f.as_str(), "name eq 'a'' or ''1'' eq ''1'");
        let f = SoftwareFilter::eq(SoftwareField::Id, "$&#=?/ü中 ''");
        assert_eq!(f.as_str(), "id eq '$&#=?/ü中 '''''");
    }

    #[test]
    fn combinations_are_parenthesised() {
        let f = SoftwareFilter::eq(SoftwareField::Vendor, "a")
            .or(SoftwareFilter::eq(SoftwareField::Vendor, "b"))
            .and(SoftwareFilter::raw_odata("startswith(name,'x')"));
        assert_eq!(
            f.to_string(),
            "((vendor eq 'a') or (vendor eq 'b')) and (startswith(name,'x'))"
        );
    }
}
