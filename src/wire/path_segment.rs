//! Ids that travel in a URL path must stay exactly one path segment.
//!
//! The generated client percent-encodes path parameters (`/`, `?`, `#`, `%`, space, controls and
//! non-ASCII included), so almost any id arrives intact. Three kinds of value cannot be sent as one
//! segment whatever the encoding, and are refused here before anything is sent:
//! - the empty string (the path would lose a segment);
//! - `.` and `..` (URL parsers resolve them as dot segments and the request would reach another
//!   path);
//! - text containing `\`, which URL parsers treat as `/` for `http` and `https` URLs.

use crate::error::Error;

/// Checks that `value` (named `what` in the error) can be sent as one path segment.
pub(crate) fn check(what: &str, value: &str) -> Result<(), Error> {
    let problem = if value.is_empty() {
        "is empty"
    } else if value == "." || value == ".." {
        "is a dot segment (`.` or `..`), which would address another path"
    } else if value.contains('\\') {
        "contains `\\`, which URL parsers read as a path separator"
    } else {
        return Ok(());
    };
    Err(Error::invalid_input(format!(
        "the {what} {problem}; it cannot be sent as one path segment (got {value:?})"
    )))
}
