//! `history`, run as a user runs it: the demo store replayed from the timeline, a real sync
//! over HTTP from a demo tenant, the refusals, and `kill -9` in the middle of a sync.

use defender_tvm_demo::DemoTenant;
use serde_json::Value;

use crate::{against, command, run, tempdir, text};

#[tokio::test]
async fn the_demo_history_report_says_it_replays_the_timeline_and_writes_one_page() {
    let dir = tempdir();
    let store = dir.join("demo.sqlite");
    let page = dir.join("history.html");
    let out = run(
        &mut command(),
        &[
            "--demo",
            "--store",
            store.to_str().unwrap(),
            "history",
            "report",
            "--format",
            "html",
            "-o",
            page.to_str().unwrap(),
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("by replaying the demo tenant's 120-day timeline"),
        "{stderr}"
    );
    assert!(stderr.contains("offline demo data"), "{stderr}");
    let html = std::fs::read_to_string(&page).unwrap();
    for part in [
        "<h1>Vulnerability history</h1>",
        "<svg",
        "SLA compliance",
        "Since the previous snapshot",
        "Oldest open critical exposures",
    ] {
        assert!(html.contains(part), "{part} missing");
    }
    assert!(!html.contains("<script"), "self-contained, no script");
    // A second command answers from the same store without replaying.
    let out = run(
        &mut command(),
        &[
            "--demo",
            "--store",
            store.to_str().unwrap(),
            "history",
            "trend",
            "--format",
            "json",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains("replaying"),
        "{}",
        text(&out.stderr)
    );
    let trend: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(trend["snapshots"].as_array().unwrap().len(), 120);
}

#[tokio::test]
async fn a_sync_reads_the_export_over_http_and_the_same_snapshot_is_stored_once() {
    let tenant = DemoTenant::builder()
        .devices(40)
        .software(30)
        .start()
        .await
        .unwrap();
    let dir = tempdir();
    let store = dir.join("history.sqlite");
    let store = store.to_str().unwrap();
    let out = run(
        &mut against(&tenant, tenant.client_secret()),
        &["--store", store, "history", "sync"],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("stored the snapshot of"),
        "{}",
        text(&out.stderr)
    );
    let again = run(
        &mut against(&tenant, tenant.client_secret()),
        &["--store", store, "history", "sync"],
    )
    .await;
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stderr).contains("is already stored"),
        "{}",
        text(&again.stderr)
    );
    let out = run(
        &mut command(),
        &["--store", store, "history", "snapshots", "--format", "json"],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let document: Value = serde_json::from_slice(&out.stdout).unwrap();
    let snapshots = document["snapshots"].as_array().unwrap();
    assert_eq!(snapshots.len(), 1);
    let truth = tenant.truth();
    assert_eq!(snapshots[0]["rows"], truth.vulnerability_row_count() as u64);
    assert_eq!(snapshots[0]["devices"], truth.devices.len() as u64);
    let exposures: usize = truth.installations.iter().map(|i| i.exposed.len()).sum();
    assert_eq!(snapshots[0]["open_exposures"], exposures as u64);
    assert_eq!(snapshots[0]["source"], "export");
}

#[tokio::test]
async fn answers_without_a_store_say_to_sync_first() {
    let dir = tempdir();
    let store = dir.join("none.sqlite");
    let out = run(
        &mut command(),
        &["--store", store.to_str().unwrap(), "history", "changes"],
    )
    .await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("run `defender-tvm history sync` first"),
        "{}",
        text(&out.stderr)
    );
    assert!(!store.exists());
}

#[tokio::test]
async fn a_wrong_time_or_sla_is_a_usage_error() {
    let dir = tempdir();
    let store = dir.join("demo.sqlite");
    let store = store.to_str().unwrap();
    let out = run(
        &mut command(),
        &[
            "--demo",
            "--store",
            store,
            "history",
            "changes",
            "--since",
            "last tuesday",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("is not a time"),
        "{}",
        text(&out.stderr)
    );
    let out = run(
        &mut command(),
        &[
            "--demo",
            "--store",
            store,
            "history",
            "remediation",
            "--sla",
            "urgent=3",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[tokio::test]
async fn a_delta_sync_without_a_baseline_is_refused_before_any_call() {
    let tenant = DemoTenant::builder()
        .devices(20)
        .software(20)
        .start()
        .await
        .unwrap();
    let dir = tempdir();
    let store = dir.join("history.sqlite");
    let out = run(
        &mut against(&tenant, tenant.client_secret()),
        &[
            "--store",
            store.to_str().unwrap(),
            "history",
            "sync",
            "--delta",
        ],
    )
    .await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("run a full sync first"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(tenant.total_calls(), 0);
}

#[tokio::test]
async fn kill_9_in_the_middle_of_a_sync_leaves_the_store_whole_and_the_sync_goes_on_after() {
    let dir = tempdir();
    let store = dir.join("killed.sqlite");
    let path = store.to_str().unwrap().to_string();
    let mut child = command()
        .args(["--demo", "--store", &path, "history", "sync"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Once a few snapshots are committed, the next one is being written: kill it there.
    let count = |path: &str| -> i64 {
        let Ok(conn) =
            rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        else {
            return 0;
        };
        conn.query_row("SELECT count(*) FROM snapshots", [], |row| row.get(0))
            .unwrap_or(0)
    };
    // (Generous: the demo timeline is generated first, on a machine the other tests share.)
    for _ in 0..6000 {
        if count(&path) >= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(count(&path) >= 3, "the sync never stored 3 snapshots");
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    // Every stored snapshot is whole: its open exposures are the spans open at it.
    let mut stmt = conn
        .prepare(
            "SELECT s.open_exposures, (SELECT count(*) FROM spans sp JOIN snapshots o ON o.id = sp.opened
                 LEFT JOIN snapshots c ON c.id = sp.closed
                 WHERE o.at <= s.at AND (c.at IS NULL OR c.at > s.at))
             FROM snapshots s",
        )
        .unwrap();
    let rows: Vec<(i64, i64)> = stmt
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(
        rows.len() >= 3 && rows.len() < 120,
        "{} snapshots",
        rows.len()
    );
    for (recorded, counted) in &rows {
        assert_eq!(recorded, counted);
    }
    drop(stmt);
    drop(conn);
    // The sync goes on where it stopped and ends with the timeline's every snapshot.
    let out = run(
        &mut command(),
        &["--demo", "--store", &path, "history", "sync"],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(count(&path), 120);
}

#[tokio::test]
async fn tenants_sync_into_one_store_and_answers_are_per_tenant_and_across() {
    let (a, b) = (
        DemoTenant::builder()
            .seed(1)
            .devices(30)
            .software(20)
            .start()
            .await
            .unwrap(),
        DemoTenant::builder()
            .seed(2)
            .devices(50)
            .software(20)
            .start()
            .await
            .unwrap(),
    );
    let tenants =
        crate::tenants::file(&[("alpha", &a, "ALPHA_SECRET"), ("beta", &b, "BETA_SECRET")]);
    let store = tempdir().join("history.sqlite");
    let store = store.to_str().unwrap();
    let mut sync = command();
    sync.env("ALPHA_SECRET", crate::tenants::secret(&a))
        .env("BETA_SECRET", crate::tenants::secret(&b));
    let out = run(
        &mut sync,
        &[
            "--tenants",
            tenants.to_str().unwrap(),
            "--store",
            store,
            "history",
            "sync",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("alpha: stored the snapshot")
            && stderr.contains("beta: stored the snapshot"),
        "{stderr}"
    );
    let exposures = |tenant: &DemoTenant| -> u64 {
        tenant
            .truth()
            .installations
            .iter()
            .map(|i| i.exposed.len() as u64)
            .sum()
    };
    let trend = |args: &[&str]| {
        let mut full = vec!["--store", store, "history", "trend", "--format", "json"];
        full.extend_from_slice(args);
        let full: Vec<String> = full.into_iter().map(str::to_string).collect();
        async move {
            let args: Vec<&str> = full.iter().map(String::as_str).collect();
            let out = run(&mut command(), &args).await;
            assert!(out.status.success(), "{}", text(&out.stderr));
            serde_json::from_slice::<Value>(&out.stdout).unwrap()
        }
    };
    let across = trend(&[]).await;
    let last = across["snapshots"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["open_exposures"], exposures(&a) + exposures(&b));
    let beta = trend(&["--tenant", "beta"]).await;
    assert_eq!(beta["snapshots"][0]["open_exposures"], exposures(&b));
}

#[tokio::test]
async fn a_delta_sync_asks_the_feed_from_the_last_snapshot_and_skips_what_the_store_has() {
    let tenant = DemoTenant::builder()
        .devices(30)
        .software(20)
        .start()
        .await
        .unwrap();
    let store = tempdir().join("history.sqlite");
    let store = store.to_str().unwrap();
    let out = run(
        &mut against(&tenant, tenant.client_secret()),
        &["--store", store, "history", "sync"],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The demo feed's changes all happened by its snapshot, which the store has.
    let out = run(
        &mut against(&tenant, tenant.client_secret()),
        &["--store", store, "history", "sync", "--delta"],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("no changes since"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        tenant.calls("list_software_vulnerability_changes_by_machine"),
        1
    );
    let out = run(
        &mut command(),
        &["--store", store, "history", "snapshots", "--format", "json"],
    )
    .await;
    let document: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(document["snapshots"].as_array().unwrap().len(), 1);
}

/// The names in `dir`, sorted.
fn names(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn history_export_writes_the_demo_store_as_parquet_and_a_second_export_replaces_it() {
    let dir = tempdir();
    let store = dir.join("demo.sqlite");
    let store = store.to_str().unwrap();
    let lake = dir.join("lake");
    let lake_arg = lake.to_str().unwrap();
    let export = [
        "--demo", "--store", store, "history", "export", "--output", lake_arg,
    ];
    let out = run(
        &mut command(),
        &[&export[..], &["--format", "parquet"]].concat(),
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("offline demo data"), "{stderr}");
    assert!(
        stderr.contains("exported 1 tenant (demo) into") && stderr.contains("Parquet files"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "the data is the folder");
    assert_eq!(
        names(&lake),
        ["_defender_tvm_export.json", "exposures", "snapshots"]
    );
    assert_eq!(names(&lake.join("exposures")), ["tenant=demo"]);
    let days = names(&lake.join("snapshots/tenant=demo"));
    assert_eq!(days.len(), 120, "one partition per snapshot day");
    assert!(days.iter().all(|d| d.starts_with("date=")), "{days:?}");
    assert_eq!(
        names(&lake.join("snapshots/tenant=demo").join(&days[0])),
        ["part-0.parquet"]
    );

    // Again, parquet being the default: the tenant's folders are replaced, nothing is left over.
    let out = run(&mut command(), &export).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        names(&lake),
        ["_defender_tvm_export.json", "exposures", "snapshots"]
    );
    assert_eq!(names(&lake.join("snapshots/tenant=demo")), days);

    // A tenant the store does not have, and a folder that is not an export: usage errors.
    let out = run(
        &mut command(),
        &[&export[..], &["--tenant", "nobody"]].concat(),
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("demo"), "{}", text(&out.stderr));
    let mine = dir.join("mine");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(mine.join("notes.txt"), "keep").unwrap();
    let out = run(
        &mut command(),
        &[
            "--demo",
            "--store",
            store,
            "history",
            "export",
            "-o",
            mine.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("is not a folder to export into"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(names(&mine), ["notes.txt"]);
}

#[tokio::test]
async fn parquet_is_history_exports_alone_and_history_export_writes_nothing_else() {
    let dir = tempdir();
    let store = dir.join("demo.sqlite");
    let store = store.to_str().unwrap();
    let lake = dir.join("lake");
    let lake = lake.to_str().unwrap();
    let refused: [&[&str]; 5] = [
        &["--demo", "report", "--format", "parquet"],
        &["--demo", "export", "--format", "parquet", "-o", lake],
        &[
            "--demo", "--store", store, "history", "trend", "--format", "parquet",
        ],
        &[
            "--demo", "--store", store, "history", "export", "--format", "csv", "-o", lake,
        ],
        &["--demo", "--store", store, "history", "export"],
    ];
    for args in refused {
        let out = run(&mut command(), args).await;
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        let stderr = text(&out.stderr);
        assert!(stderr.contains("history export"), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("replaying"),
            "refused before the store: {stderr}"
        );
    }
    assert!(!std::path::Path::new(store).exists());
    assert!(!std::path::Path::new(lake).exists());
}
