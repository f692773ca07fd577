//! Measures the export at scale: generates a tenant of `DEVICES` devices (default 25,000, about
//! a million vulnerability rows), downloads every vulnerability export file (streaming: each
//! chunk is decompressed as it arrives and counted, never kept) and every JSON page at the most
//! rows a page may hold, and prints sizes and times. Run it in release under `/usr/bin/time -v`
//! to see the process's peak memory (tenant and client together):
//!
//! ```text
//! cargo build --release -p defender-tvm-demo --example export_scale
//! /usr/bin/time -v target/release/examples/export_scale 25000
//! /usr/bin/time -v target/release/examples/export_scale 25000 estate   # the estate alone
//! ```

use std::io::Write;
use std::time::Instant;

use defender_tvm_demo::{CHANGE_HISTORY, ChangeStatus, DemoTenant};

/// Counts what a decoder writes: bytes and lines.
#[derive(Default)]
struct Count {
    bytes: u64,
    lines: u64,
}

impl Write for Count {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.bytes += data.len() as u64;
        self.lines += data.iter().filter(|&&b| b == b'\n').count() as u64;
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let devices: usize = args.next().map_or(Ok(25_000), |a| a.parse())?;
    let estate_only = args.next().as_deref() == Some("estate");

    let started = Instant::now();
    let tenant = DemoTenant::builder()
        .devices(devices)
        .unlimited()
        .start()
        .await?;
    let truth = tenant.truth();
    println!(
        "estate: {devices} devices, {} installations, {} vulnerability rows, generated and served in {:.2?}",
        truth.installations.len(),
        truth.vulnerability_row_count(),
        started.elapsed()
    );
    if estate_only {
        return Ok(());
    }
    let started = Instant::now();
    let (mut new, mut fixed, mut updated) = (0, 0, 0);
    for change in truth.changes(truth.snapshot_time() - CHANGE_HISTORY) {
        match change.status {
            ChangeStatus::New => new += 1,
            ChangeStatus::Fixed => fixed += 1,
            ChangeStatus::Updated => updated += 1,
        }
    }
    println!(
        "changes over 14 days: {new} New, {fixed} Fixed, {updated} Updated ({:.2?})",
        started.elapsed()
    );

    let http = reqwest::Client::new();
    let token = tenant.issue_token();
    let export: serde_json::Value = http
        .get(format!(
            "{}/api/machines/SoftwareVulnerabilitiesExport",
            tenant.base_url()
        ))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    let files = export["exportFiles"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let started = Instant::now();
    let (mut compressed, mut count) = (0u64, Count::default());
    for file in &files {
        let mut response = http.get(file.as_str().unwrap_or_default()).send().await?;
        let mut decoder = flate2::write::GzDecoder::new(&mut count);
        while let Some(chunk) = response.chunk().await? {
            compressed += chunk.len() as u64;
            decoder.write_all(&chunk)?;
        }
        decoder.finish()?;
    }
    let elapsed = started.elapsed();
    println!(
        "files: {} files, {} rows, {:.1} MB compressed, {:.1} MB of NDJSON ({} bytes a row), in {elapsed:.2?} ({:.0} MB/s of NDJSON)",
        files.len(),
        count.lines,
        compressed as f64 / 1e6,
        count.bytes as f64 / 1e6,
        count.bytes / count.lines.max(1),
        count.bytes as f64 / 1e6 / elapsed.as_secs_f64()
    );

    let started = Instant::now();
    let (mut pages, mut bytes) = (0, 0u64);
    let mut link = format!(
        "{}/api/machines/SoftwareVulnerabilitiesByMachine?pageSize=200000",
        tenant.base_url()
    );
    loop {
        let mut response = http.get(&link).bearer_auth(&token).send().await?;
        // Only the page's end is read for its next link: the rest is counted and dropped.
        let mut tail: Vec<u8> = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            bytes += chunk.len() as u64;
            tail.extend_from_slice(&chunk);
            let keep = tail.len().saturating_sub(1024);
            tail.drain(..keep);
        }
        pages += 1;
        let tail = String::from_utf8_lossy(&tail).into_owned();
        match tail.split("\"@odata.nextLink\":\"").nth(1) {
            Some(rest) => link = rest.trim_end_matches("\"}").to_owned(),
            None => break,
        }
    }
    let elapsed = started.elapsed();
    println!(
        "JSON pages: {pages} pages of up to 200,000 rows, {:.1} MB, in {elapsed:.2?}",
        bytes as f64 / 1e6
    );
    Ok(())
}
