//! The severity of a vulnerability, in place of the enum generated from the spec's
//! `VulnerabilitySeverity` (see `build.rs`): a severity the client does not know yet decodes as
//! [`Severity::Other`] instead of failing the whole page.

use super::open_enum::open_enum;

open_enum! {
    /// The severity of a vulnerability.
    ///
    /// ```
    /// use defender_tvm::types::Severity;
    ///
    /// assert_eq!("High".parse::<Severity>().unwrap(), Severity::High);
    /// assert_eq!("Severe".parse::<Severity>().unwrap(), Severity::Other("Severe".into()));
    /// assert!(Severity::Critical > Severity::Low);
    /// // A severity this version does not know ranks below every known one.
    /// assert!(Severity::Other("Severe".into()) < Severity::Low);
    /// ```
    pub enum Severity as "VulnerabilitySeverity" {
        /// Low.
        Low,
        /// Medium.
        Medium,
        /// High.
        High,
        /// Critical.
        Critical,
    }
}

#[cfg(test)]
mod tests {
    use super::Severity;

    #[test]
    fn unknown_severities_sort_below_low() {
        let mut all = vec![
            Severity::Critical,
            Severity::Other("Severe".into()),
            Severity::Low,
            Severity::High,
            Severity::Other("Extreme".into()),
            Severity::Medium,
        ];
        all.sort();
        assert_eq!(
            all,
            [
                Severity::Other("Extreme".into()),
                Severity::Other("Severe".into()),
                Severity::Low,
                Severity::Medium,
                Severity::High,
                Severity::Critical,
            ]
        );
    }
}
