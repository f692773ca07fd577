//! OData `$filter` expressions for the filterable collections, built from typed parts so that no
//! value can change the filter's meaning: string values are single-quoted, with a single quote
//! written twice, as OData requires. (Percent-encoding for the URL is the HTTP layer's job.)

use std::fmt;

/// Defines a field enum and its filter type: the same builder for every filterable collection.
macro_rules! odata_filter {
    (
        $(#[$field_doc:meta])* $field:ident { $($(#[$variant_doc:meta])* $variant:ident => $name:literal,)+ }
        $(#[$filter_doc:meta])* $filter:ident
    ) => {
        $(#[$field_doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $field {
            $($(#[$variant_doc])* $variant,)+
        }

        impl $field {
            /// The property's name on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($field::$variant => $name,)+
                }
            }
        }

        $(#[$filter_doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $filter(String);

        impl $filter {
            /// `field eq 'value'`.
            pub fn eq(field: $field, value: &str) -> Self {
                Self(format!("{} eq {}", field.as_str(), quote(value)))
            }

            /// `field ne 'value'`.
            pub fn ne(field: $field, value: &str) -> Self {
                Self(format!("{} ne {}", field.as_str(), quote(value)))
            }

            /// Both filters hold.
            pub fn and(self, other: Self) -> Self {
                Self(format!("({}) and ({})", self.0, other.0))
            }

            /// Either filter holds.
            pub fn or(self, other: Self) -> Self {
                Self(format!("({}) or ({})", self.0, other.0))
            }

            /// Raw OData filter text, sent as is: **you** quote and escape its values. For filters
            /// the typed helpers cannot express.
            pub fn raw_odata(text: impl Into<String>) -> Self {
                Self(text.into())
            }

            /// The filter text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $filter {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

odata_filter! {
    /// A property of [`Software`](crate::types::Software) the service can filter on.
    SoftwareField {
        /// `id`, for example `microsoft-_-edge`.
        Id => "id",
        /// `name`, for example `edge`.
        Name => "name",
        /// `vendor`, for example `microsoft`.
        Vendor => "vendor",
    }
    /// A `$filter` for [`Client::software`](crate::Client::software).
    ///
    /// ```
    /// use defender_tvm::types::{SoftwareField, SoftwareFilter};
    ///
    /// let filter = SoftwareFilter::eq(SoftwareField::Vendor, "microsoft")
    ///     .and(SoftwareFilter::ne(SoftwareField::Name, "O'Reilly's tool"));
    /// assert_eq!(
    ///     filter.as_str(),
    ///     "(vendor eq 'microsoft') and (name ne 'O''Reilly''s tool')"
    /// );
    /// ```
    SoftwareFilter
}

odata_filter! {
    /// A property of a [`PublicAssetVulnerabilityDto`](crate::types::PublicAssetVulnerabilityDto)
    /// (a row of vulnerabilities by machine and software) the service can filter on.
    DeviceVulnerabilityField {
        /// `id`.
        Id => "id",
        /// `cveId`, for example `CVE-2025-21307`.
        CveId => "cveId",
        /// `machineId`.
        MachineId => "machineId",
        /// `fixingKbId`, the KB number without `KB`.
        FixingKbId => "fixingKbId",
        /// `productName`, for example `windows_11`.
        ProductName => "productName",
        /// `productVersion`.
        ProductVersion => "productVersion",
        /// `severity`.
        Severity => "severity",
        /// `productVendor`, for example `microsoft`.
        ProductVendor => "productVendor",
    }
    /// A `$filter` for [`Client::machines_vulnerabilities`](crate::Client::machines_vulnerabilities).
    ///
    /// ```
    /// use defender_tvm::types::{DeviceVulnerabilityField, DeviceVulnerabilityFilter};
    ///
    /// let filter = DeviceVulnerabilityFilter::eq(DeviceVulnerabilityField::FixingKbId, "5031356");
    /// assert_eq!(filter.as_str(), "fixingKbId eq '5031356'");
    /// ```
    DeviceVulnerabilityFilter
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
