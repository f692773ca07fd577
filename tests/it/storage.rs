//! Storage as it behaves: a 404 names the file; a body that is not GZIP (an HTML error page) is
//! reported for what it is, once; a zero-byte blob is downloaded again and then is its own kind;
//! a blob still being copied (`200`, empty, `x-ms-copy-status: pending`) is waited for and
//! downloaded again, with a trace saying why. No error or trace shows the link.

use defender_tvm::{Error, StatusCode, error::ExportErrorKind, export::ExportRowsOptions};
use futures::TryStreamExt;

use crate::common::{events, span};
use crate::exports::{all_rows, file_lines, gzip, one_flaky_file};
use crate::flaky::Act;

fn export_error(error: &Error) -> &defender_tvm::error::ExportError {
    match error {
        Error::Export(export) => export,
        other => panic!("not an export error: {other:?}"),
    }
}

#[tokio::test]
async fn a_404_from_storage_names_the_file_and_keeps_the_status() {
    let (flaky, _api, client) = one_flaky_file(vec![Act::Answer(404, String::new())]).await;
    let error = all_rows(&client).await.unwrap_err();
    let export = export_error(&error);
    assert_eq!(export.kind, ExportErrorKind::NotFound);
    assert_eq!(export.file, "part-0.json.gz");
    assert_eq!(error.status(), Some(StatusCode::NOT_FOUND));
    let text = crate::common::chain(&error);
    assert!(text.starts_with("export file part-0.json.gz: "), "{text}");
    assert!(!text.contains("s3cr3t"), "{text}");
    assert_eq!(flaky.requests(), 1);
}

#[tokio::test]
async fn an_html_page_served_with_a_200_is_not_gzip_and_is_not_downloaded_again() {
    let page = "<!DOCTYPE html><html><body>Service unavailable: ?sig=s3cr3t</body></html>";
    let (flaky, _api, client) = one_flaky_file(vec![Act::Answer(200, page.to_owned())]).await;
    let error = all_rows(&client).await.unwrap_err();
    let export = export_error(&error);
    assert_eq!(export.kind, ExportErrorKind::NotGzip, "{error}");
    assert!(error.to_string().contains("HTML"), "{error}");
    assert!(
        !crate::common::chain(&error).contains("s3cr3t"),
        "the page is not echoed: {error}"
    );
    assert_eq!(flaky.requests(), 1);
}

#[tokio::test]
async fn a_zero_byte_blob_is_downloaded_again_then_is_empty_not_cut_short() {
    let (flaky, _api, client) = one_flaky_file(vec![Act::Answer(200, String::new())]).await;
    let error = client
        .software_vulnerabilities_export_rows(ExportRowsOptions::new().downloads(3))
        .await
        .unwrap()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    let export = export_error(&error);
    assert_eq!(export.kind, ExportErrorKind::Empty, "{error}");
    assert_eq!(export.attempts, 3);
    assert_eq!(flaky.requests(), 3);
    assert!(
        !matches!(error, Error::InvalidInput(_)),
        "a usage error to the CLI"
    );
}

#[tokio::test]
async fn a_blob_still_being_copied_is_waited_for_and_downloaded_again() {
    const TEST: &str = "a_blob_still_being_copied";
    let pending = vec![("x-ms-copy-status".to_owned(), "pending".to_owned())];
    let (flaky, _api, client) = one_flaky_file(vec![
        Act::AnswerWith(200, pending.clone(), String::new()),
        Act::AnswerWith(200, pending, String::new()),
        Act::Bytes(200, gzip(&file_lines(0, 25))),
    ])
    .await;
    let read = async {
        let mut rows = client
            .software_vulnerabilities_export_rows(ExportRowsOptions::new())
            .await
            .unwrap();
        let mut all = Vec::new();
        while let Some(row) = rows.try_next().await.unwrap() {
            all.push(row);
        }
        (all, rows.progress())
    };
    let (rows, progress) = tracing::Instrument::instrument(read, span(TEST)).await;
    assert_eq!(rows.len(), 25);
    assert_eq!(progress.downloads_repeated, 2);
    assert_eq!(flaky.requests(), 3);
    let again = events(TEST, "downloading an export file again");
    assert_eq!(again.len(), 2, "{again:?}");
    for event in &again {
        assert!(event.contains("x-ms-copy-status: pending"), "{event}");
        assert!(event.contains("wait_ms="), "{event}");
        assert!(!event.contains("s3cr3t"), "{event}");
    }
}
