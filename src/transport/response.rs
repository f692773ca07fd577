//! From a final response to a value or an [`Error`]: the one place where an error status becomes
//! [`Error::Api`] and a body becomes the contract's type.

use serde::de::DeserializeOwned;

use super::{Fetched, Operation};
use crate::error::ApiError;
use crate::error::Error;
use crate::types::ODataError;
use crate::wire::body::{excerpt, retry_after};

/// An error status as [`Error::Api`]: the status, `Retry-After`, how many attempts were made and
/// why retrying stopped, and the MDE `code`/`message`/`target` when the body is an MDE error
/// (else a short excerpt of what came instead).
pub(crate) fn api_error(fetched: &Fetched, operation: &Operation) -> Error {
    let (code, message, target, body_excerpt) =
        match serde_json::from_slice::<ODataError>(&fetched.body) {
            Ok(e) => (
                Some(e.error.code),
                Some(e.error.message),
                e.error.target,
                None,
            ),
            // Blob storage (export files) answers in XML: `<Error><Code>…</Code>…`.
            Err(_) => (
                xml_element(&fetched.body, "Code"),
                None,
                None,
                Some(excerpt(&fetched.body)),
            ),
        };
    Error::Api(Box::new(ApiError {
        status: fetched.status,
        code,
        message,
        target,
        retry_after: retry_after(&fetched.headers),
        body_excerpt,
        operation: operation.id,
        attempts: fetched.attempts.max(1),
        gave_up: fetched.gave_up.clone(),
        permission: operation.permission,
    }))
}

/// The text of the first `<name>…</name>` element of an XML body, if there is one.
fn xml_element(body: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let open = format!("<{name}>");
    let start = text.find(&open)? + open.len();
    let end = start + text[start..].find(&format!("</{name}>"))?;
    Some(text[start..end].trim().to_owned()).filter(|code| !code.is_empty())
}

/// The body of a 2xx response as the contract's type `T`. A body that does not decode is
/// [`Error::Decode`] naming where: the field path (for example `value[3].cveSupportability`), the
/// item's position in the page and its `id`, so what the service changed can be reported.
pub(crate) fn decode<T: DeserializeOwned>(
    fetched: &Fetched,
    operation: &Operation,
) -> Result<T, Error> {
    serde_json::from_slice(&fetched.body).map_err(|_| locate::<T>(fetched, operation))
}

/// Decodes again, slowly, to say where the first decode failed.
fn locate<T: DeserializeOwned>(fetched: &Fetched, operation: &Operation) -> Error {
    let body = &fetched.body;
    let mut json = serde_json::Deserializer::from_slice(body);
    let (path, source) = match serde_path_to_error::deserialize::<_, T>(&mut json) {
        Ok(_) => (None, None),
        Err(e) => {
            let path = e.path().to_string();
            (Some(path).filter(|p| p != "."), Some(e.into_inner()))
        }
    };
    // The two decodes agree; should they not, the plain decoder's error is the one to show.
    let source = match source {
        Some(source) => source,
        None => match serde_json::from_slice::<T>(body) {
            Err(source) => source,
            Ok(_) => {
                serde_json::Error::io(std::io::Error::other("the body decoded on a second try"))
            }
        },
    };
    let item = path.as_deref().and_then(item_index);
    let item_id = item.and_then(|index| item_id(body, index));
    Error::decode(operation.id, Some(fetched.status), excerpt(body), source).at(path, item, item_id)
}

/// The position in `value` that a path like `value[3].cveSupportability` names.
fn item_index(path: &str) -> Option<usize> {
    let rest = path.strip_prefix("value[")?;
    rest[..rest.find(']')?].parse().ok()
}

/// The `id` of item `index` of the page, when the body is JSON and the item has a string id.
fn item_id(body: &[u8], index: usize) -> Option<String> {
    let page: serde_json::Value = serde_json::from_slice(body).ok()?;
    let id = page.get("value")?.get(index)?.get("id")?;
    Some(match id {
        serde_json::Value::String(id) => id.clone(),
        other => other.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_positions_are_read_from_paths() {
        assert_eq!(item_index("value[3].cveSupportability"), Some(3));
        assert_eq!(item_index("value[12]"), Some(12));
        assert_eq!(item_index("@odata.count"), None);
        assert_eq!(item_index("value"), None);
    }

    #[test]
    fn item_ids_are_read_from_the_page() {
        let body = br#"{"value":[{"id":"a"},{"id":7},{}]}"#;
        assert_eq!(item_id(body, 0).as_deref(), Some("a"));
        assert_eq!(item_id(body, 1).as_deref(), Some("7"));
        assert_eq!(item_id(body, 2), None);
        assert_eq!(item_id(b"not json", 0), None);
    }
}
