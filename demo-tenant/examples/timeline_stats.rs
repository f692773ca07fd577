use std::collections::BTreeMap;
use std::time::{Duration, Instant, UNIX_EPOCH};
use defender_tvm_demo::timeline::{percentile, Timeline, TimelineOptions, ChangeStatus};

fn main() {
    let mut args = std::env::args().skip(1);
    let devices: usize = args.next().map_or(300, |a| a.parse().unwrap());
    let days: usize = args.next().map_or(120, |a| a.parse().unwrap());
    let seed: u64 = args.next().map_or(1, |a| a.parse().unwrap());
    let end = UNIX_EPOCH + Duration::from_secs(1_792_000_000);
    let t0 = Instant::now();
    let tl = Timeline::generate(TimelineOptions::default().devices(devices).days(days).end(end).seed(seed));
    println!("generated {:?}", t0.elapsed());
    for s in [0, days / 2, days - 1] {
        let t = Instant::now();
        let rows: Vec<_> = tl.rows(s).collect();
        let cves = rows.iter().filter(|r| r.cve_id.is_some()).count();
        let devs: std::collections::BTreeSet<_> = rows.iter().map(|r| r.device_id).collect();
        println!("snapshot {s} {}: {} rows, {} with CVE, {} devices, {:.1} rows/device ({:?})", tl.generated_time(s), rows.len(), cves, devs.len(), rows.len() as f64 / devs.len() as f64, t.elapsed());
    }
    let t = Instant::now();
    let changes = tl.changes(days - 2, days - 1);
    let mut by: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &changes { *by.entry(c.status.as_str()).or_default() += 1; }
    println!("changes last day: {by:?} ({:?})", t.elapsed());
    let t = Instant::now();
    let truth = tl.truth();
    println!("truth: {} exposures, {} upgrades ({:?})", truth.exposures.len(), truth.upgrades.len(), t.elapsed());
    for sev in ["Critical", "High", "Medium", "Low"] {
        let d = truth.days_to_fix(Some(sev), 0, days - 1);
        println!("{sev}: {} fixes, median {:?}, p90 {:?}", d.len(), percentile(&d, 0.5), percentile(&d, 0.9));
    }
    println!("reopened {}", truth.reopened_between(0, days-1).len());
    println!("retired devices {}, onboarded {}, moved {}", truth.retired_devices_between(0, days-1).len(), truth.onboarded_devices_between(0, days-1).len(), truth.moved_devices_between(0, days-1).len());
    println!("kept {}", truth.upgrades.iter().filter(|u| u.kept_cve.is_some()).count());
    println!("superseding {}", truth.upgrades.iter().filter(|u| u.releases.len() > 1 && u.software_name.starts_with("windows")).count());
    println!("never patch {}", truth.devices.iter().filter(|d| !d.patches).count());
    for p in truth.trends().iter().step_by((days / 8).max(1)) { println!("{p:?}"); }
    let _ = ChangeStatus::New;
    let r = tl.rows(days-1).find(|r| r.cve_id.is_some() && r.software_name == "windows_11").unwrap();
    println!("{}", r.to_json());
    let r = tl.rows(days-1).find(|r| r.cve_id.is_some() && r.software_name == "chrome").unwrap();
    println!("{}", r.to_json_line(defender_tvm_demo::timeline::Case::Pascal));
    let r = tl.rows(days-1).find(|r| r.cve_id.is_none()).unwrap();
    println!("{}", r.to_json());
    println!("{}", changes[0].to_json());
}
