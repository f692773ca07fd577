//! The deploy plan: what to deploy, in which order, to which devices.
//!
//! From the report's KBs: the cumulative updates of one series (see `cumulative.rs`) count once,
//! as their newest, with the union of the devices and CVEs of the ones it covers (the older ones
//! are marked `covered_by` in [`Report::kbs`], and the rows stay as the service returned them);
//! every other KB is a step of its own. Steps come in the report's priority order, computed on
//! those union figures. With devices known, each device gets the steps it needs, and the devices
//! that need the most come first.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use super::cumulative;
use super::model::{DeployPlan, DeployStep, DeviceDeploy, KbRollup, Report, rank};

/// Marks covered KBs in `report.kbs` and builds its deploy plan.
pub(crate) fn plan(
    report: &mut Report,
    collapse: bool,
    priority: &dyn Fn(&KbRollup, &KbRollup) -> Ordering,
) {
    for kb in &mut report.kbs {
        kb.covered_by = None;
    }
    // Series → its KBs (indexes into report.kbs).
    let mut series: BTreeMap<(String, Vec<String>), Vec<usize>> = BTreeMap::new();
    if collapse {
        for (i, kb) in report.kbs.iter().enumerate() {
            if let Some((name, _)) = kb.name.as_deref().and_then(cumulative::series) {
                series
                    .entry((name.to_owned(), kb.products.clone()))
                    .or_default()
                    .push(i);
            }
        }
    }
    // Each KB's newest of its series (itself when none).
    let mut newest: Vec<usize> = (0..report.kbs.len()).collect();
    for members in series.values() {
        let order = |&i: &usize| {
            let kb = &report.kbs[i];
            let month = kb
                .name
                .as_deref()
                .and_then(cumulative::series)
                .and_then(|(_, month)| month)
                .map(str::to_owned);
            (month, kb.id.parse::<u64>().unwrap_or(0), kb.id.clone())
        };
        if let Some(&top) = members.iter().max_by_key(|i| order(i)) {
            for &i in members {
                newest[i] = top;
            }
        }
    }
    for (i, &top) in newest.iter().enumerate() {
        if top != i {
            report.kbs[i].covered_by = Some(report.kbs[top].id.clone());
        }
    }

    let mut steps: Vec<DeployStep> = Vec::new();
    for (top, kb) in report.kbs.iter().enumerate() {
        if newest[top] != top {
            continue;
        }
        let members: Vec<&KbRollup> = (0..report.kbs.len())
            .filter(|&i| newest[i] == top)
            .map(|i| &report.kbs[i])
            .collect();
        let mut step = kb.clone();
        let mut covers: Vec<&KbRollup> =
            members.iter().copied().filter(|m| m.id != kb.id).collect();
        covers.sort_by(|a, b| {
            let number = |k: &KbRollup| k.id.parse::<u64>().unwrap_or(0);
            number(a).cmp(&number(b)).then_with(|| a.id.cmp(&b.id))
        });
        if !covers.is_empty() {
            union(&mut step, &members);
        }
        steps.push(DeployStep {
            kb: step,
            covers: covers.iter().map(|k| k.id.clone()).collect(),
        });
    }
    rank(&mut steps, priority);
    for step in &mut steps {
        step.kb.covered_by = None;
    }

    // Devices: which steps each needs, and how many KBs it misses in all.
    let names = &report.device_names;
    let mut needs: BTreeMap<&str, (Vec<String>, usize)> = BTreeMap::new();
    // Only when every step's devices are known (a series with a member whose listing failed has
    // none): a device would otherwise be listed without the step it needs.
    let known = steps.iter().all(|step| step.kb.device_ids.is_some());
    for step in steps.iter().filter(|_| known) {
        for device in step.kb.device_ids.iter().flatten() {
            needs.entry(device).or_default().0.push(step.kb.id.clone());
        }
    }
    for kb in report.kbs.iter().filter(|_| known) {
        for device in kb.device_ids.iter().flatten() {
            needs.entry(device).or_default().1 += 1;
        }
    }
    let mut devices: Vec<DeviceDeploy> = needs
        .into_iter()
        .map(|(id, (kbs, missing))| DeviceDeploy {
            device_id: id.to_owned(),
            device_name: names.get(id).cloned(),
            kbs,
            missing,
        })
        .collect();
    devices.sort_by(|a, b| {
        b.kbs
            .len()
            .cmp(&a.kbs.len())
            .then_with(|| a.device_id.cmp(&b.device_id))
    });
    report.deploy = DeployPlan {
        steps,
        devices,
        collapsed: collapse,
    };
}

/// The union of a series' figures, into `step` (its newest).
fn union(step: &mut KbRollup, members: &[&KbRollup]) {
    let exact = members.iter().all(|m| m.device_ids.is_some());
    if exact {
        let ids: BTreeSet<&String> = members
            .iter()
            .flat_map(|m| m.device_ids.iter().flatten())
            .collect();
        step.device_ids = Some(ids.into_iter().cloned().collect());
        step.devices = step.device_ids.as_ref().map_or(0, |d| d.len() as i64);
        step.devices_exact = true;
    } else {
        step.devices = members.iter().map(|m| m.devices).max().unwrap_or(0);
        step.devices_exact = false;
        step.device_ids = None;
    }
    let cves: BTreeSet<&String> = members.iter().flat_map(|m| &m.cve_ids).collect();
    if members
        .iter()
        .all(|m| !m.cve_ids.is_empty() || m.cves_addressed == 0)
        && !cves.is_empty()
    {
        step.cve_ids = cves.into_iter().cloned().collect();
        step.cves_addressed = step.cve_ids.len() as i64;
    } else {
        // Not every member's CVEs are known: the ids cannot be told apart, only counted.
        step.cve_ids.clear();
        step.cves_addressed = members.iter().map(|m| m.cves_addressed).sum();
    }
    step.public_exploit = members.iter().any(|m| m.public_exploit);
    step.severity = members.iter().filter_map(|m| m.severity.clone()).max();
    step.cvss = members.iter().filter_map(|m| m.cvss).max_by(f64::total_cmp);
    step.exploitability = members
        .iter()
        .filter_map(|m| m.exploitability.clone())
        .max();
    step.first_seen = members.iter().filter_map(|m| m.first_seen).min();
    let mut software: BTreeSet<String> = BTreeSet::new();
    for m in members {
        software.extend(m.software_ids.iter().cloned());
    }
    step.software_ids = software.into_iter().collect();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::default_priority;

    fn kb(id: &str, name: &str, product: &str, devices: &[&str], cves: &[&str]) -> KbRollup {
        let mut kb = KbRollup::new(id.into(), Some(format!("{name} (KB{id})")), None);
        kb.products = vec![product.into()];
        kb.software_ids = vec![format!("microsoft-_-{product}")];
        kb.cves_addressed = cves.len() as i64;
        kb.devices = devices.len() as i64;
        kb.devices_exact = true;
        kb.device_ids = Some(devices.iter().map(|d| (*d).to_owned()).collect());
        kb.cve_ids = cves.iter().map(|c| (*c).to_owned()).collect();
        kb
    }

    /// An RFC 3339 time.
    fn at(text: &str) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::parse_from_rfc3339(text).unwrap().into()
    }

    const W11_24H2: &str = "Cumulative Update for Windows 11 Version 24H2 for x64-based Systems";
    const W11_23H2: &str = "Cumulative Update for Windows 11 Version 23H2 for x64-based Systems";

    /// Two versions of Windows 11, a Windows Server update alongside, two Office updates (not
    /// cumulative).
    fn estate() -> Report {
        let kbs = vec![
            kb(
                "5001",
                &format!("2025-08 {W11_24H2}"),
                "windows_11",
                &["a", "b"],
                &["C1", "C2"],
            ),
            kb(
                "5003",
                &format!("2025-10 {W11_24H2}"),
                "windows_11",
                &["a", "b", "c", "d"],
                &["C5"],
            ),
            kb(
                "5002",
                &format!("2025-09 {W11_24H2}"),
                "windows_11",
                &["a", "b", "c"],
                &["C3", "C4"],
            ),
            kb(
                "5012",
                &format!("2025-09 {W11_23H2}"),
                "windows_11",
                &["e"],
                &["C6"],
            ),
            kb(
                // The month decides, not the KB number.
                "5011",
                &format!("2025-10 {W11_23H2}"),
                "windows_11",
                &["e", "f"],
                &["C7"],
            ),
            kb(
                "5021",
                "2025-10 Cumulative Update for Windows Server 2019 for x64-based Systems",
                "windows_server_2019",
                &["s1"],
                &["C8"],
            ),
            kb(
                "5031",
                "2025-09 Security Update for Microsoft 365 Apps",
                "office",
                &["a"],
                &["C9"],
            ),
            kb(
                "5032",
                "2025-10 Security Update for Microsoft 365 Apps",
                "office",
                &["a", "f"],
                &["C10"],
            ),
        ];
        Report {
            generated_at: chrono::DateTime::UNIX_EPOCH,
            partial: false,
            software_count: 3,
            rows: Vec::new(),
            kbs,
            failures: Vec::new(),
            source: crate::report::Source::Export,
            data_as_of: None,
            device_names: Default::default(),
            deploy: DeployPlan::default(),
        }
    }

    fn step<'a>(report: &'a Report, id: &str) -> &'a DeployStep {
        report
            .deploy
            .steps
            .iter()
            .find(|s| s.kb.id == id)
            .unwrap_or_else(|| panic!("no step {id}: {:?}", report.deploy.steps))
    }

    #[test]
    fn the_newest_cumulative_update_of_each_windows_version_stands_for_the_older_ones() {
        let mut report = estate();
        plan(&mut report, true, &default_priority);

        let covered: BTreeMap<&str, Option<&str>> = report
            .kbs
            .iter()
            .map(|k| (k.id.as_str(), k.covered_by.as_deref()))
            .collect();
        let expected: BTreeMap<&str, Option<&str>> = [
            ("5001", Some("5003")),
            ("5002", Some("5003")),
            ("5003", None),
            ("5011", None),
            ("5012", Some("5011")),
            ("5021", None),
            ("5031", None),
            ("5032", None),
        ]
        .into_iter()
        .collect();
        assert_eq!(covered, expected);

        let mut ids: Vec<&str> = report
            .deploy
            .steps
            .iter()
            .map(|s| s.kb.id.as_str())
            .collect();
        ids.sort();
        assert_eq!(ids, ["5003", "5011", "5021", "5031", "5032"]);
        let w11 = step(&report, "5003");
        assert_eq!(w11.covers, ["5001", "5002"]);
        assert_eq!(
            w11.kb.device_ids.as_deref(),
            Some(&["a", "b", "c", "d"].map(String::from)[..])
        );
        assert_eq!(w11.kb.devices, 4);
        assert_eq!(w11.kb.cve_ids, ["C1", "C2", "C3", "C4", "C5"]);
        assert_eq!(w11.kb.cves_addressed, 5);
        let w11_23h2 = step(&report, "5011");
        assert_eq!(w11_23h2.covers, ["5012"]);
        assert_eq!(w11_23h2.kb.cves_addressed, 2);
        assert!(step(&report, "5021").covers.is_empty());
        assert!(
            step(&report, "5031").covers.is_empty(),
            "Office updates are not cumulative"
        );
        // Ranks from 1, in the priority order on the union figures: 5 CVEs × 4 devices first.
        let ranks: Vec<usize> = report.deploy.steps.iter().map(|s| s.kb.rank).collect();
        assert_eq!(ranks, [1, 2, 3, 4, 5]);
        assert_eq!(report.deploy.steps[0].kb.id, "5003");
        assert!(report.deploy.collapsed);
        // The report's own KBs keep their figures.
        let oldest = report.kbs.iter().find(|k| k.id == "5001").unwrap();
        assert_eq!(oldest.devices, 2);
    }

    #[test]
    fn each_device_gets_the_steps_it_needs_those_needing_most_first() {
        let mut report = estate();
        plan(&mut report, true, &default_priority);

        let devices: Vec<(&str, Vec<&str>, usize)> = report
            .deploy
            .devices
            .iter()
            .map(|d| {
                (
                    d.device_id.as_str(),
                    d.kbs.iter().map(String::as_str).collect(),
                    d.missing,
                )
            })
            .collect();
        let order = |id: &str| report.deploy.steps.iter().position(|s| s.kb.id == id);
        // "a": Windows 11 24H2 (3 KBs missing, one step) and both Office updates.
        let a = &devices[0];
        assert_eq!(a.0, "a");
        let mut a_steps = a.1.clone();
        a_steps.sort_by_key(|id| order(id));
        assert_eq!(a.1, a_steps, "in the plan's order");
        a_steps.sort();
        assert_eq!(a_steps, ["5003", "5031", "5032"]);
        assert_eq!(a.2, 5);
        let f = devices.iter().find(|d| d.0 == "f").unwrap();
        let mut f_steps = f.1.clone();
        f_steps.sort();
        assert_eq!(f_steps, ["5011", "5032"]);
        let counts: Vec<usize> = devices.iter().map(|d| d.1.len()).collect();
        let mut sorted = counts.clone();
        sorted.sort_by(|x, y| y.cmp(x));
        assert_eq!(counts, sorted, "most steps first");
        assert_eq!(devices.len(), 7, "a b c d e f s1");
    }

    #[test]
    fn a_series_whose_cves_are_not_all_known_counts_the_sum() {
        let mut report = estate();
        // One member known by its count only (as from calls): its CVEs cannot be told apart.
        for kb in report.kbs.iter_mut().filter(|k| k.id == "5002") {
            kb.cve_ids.clear();
        }
        plan(&mut report, true, &default_priority);
        let w11 = step(&report, "5003");
        assert_eq!(w11.kb.cves_addressed, 5, "2 + 2 + 1");
        assert!(
            w11.kb.cve_ids.is_empty(),
            "{:?}: not all known",
            w11.kb.cve_ids
        );
        // None known and none counted: no CVE.
        let mut report = estate();
        for kb in report.kbs.iter_mut() {
            kb.cve_ids.clear();
            kb.cves_addressed = 0;
        }
        plan(&mut report, true, &default_priority);
        assert_eq!(step(&report, "5003").kb.cves_addressed, 0);
    }

    #[test]
    fn without_collapsing_every_kb_is_a_step() {
        let mut report = estate();
        plan(&mut report, false, &default_priority);
        assert_eq!(report.deploy.steps.len(), 8);
        assert!(report.kbs.iter().all(|k| k.covered_by.is_none()));
        assert!(report.deploy.steps.iter().all(|s| s.covers.is_empty()));
        assert!(!report.deploy.collapsed);
        let a = report
            .deploy
            .devices
            .iter()
            .find(|d| d.device_id == "a")
            .unwrap();
        assert_eq!(a.kbs.len(), 5);
    }

    /// A report of only `kbs`.
    fn report_of(kbs: Vec<KbRollup>) -> Report {
        Report { kbs, ..estate() }
    }

    #[test]
    fn a_series_step_has_the_worst_severity_cvss_and_exploitability_the_earliest_first_seen_and_all_software()
     {
        use crate::export::ExploitabilityLevel;
        use crate::types::Severity;
        let title = |month: &str| format!("{month} {W11_24H2}");
        // The newest (5003) has the mildest figures of its series: each merged one is another
        // member's.
        let mut august = kb("5001", &title("2025-08"), "windows_11", &["a"], &["C1"]);
        august.severity = Some(Severity::Medium);
        august.cvss = Some(9.8);
        august.exploitability = Some(ExploitabilityLevel::NoExploit);
        // 23:00 UTC on the 14th: the earliest, though its text sorts after the next one's.
        august.first_seen = Some(at("2025-08-15T01:00:00+02:00"));
        august.software_ids = vec!["microsoft-_-windows_11".into()];
        let mut september = kb("5002", &title("2025-09"), "windows_11", &["b"], &["C2"]);
        september.severity = Some(Severity::Critical);
        september.cvss = Some(5.0);
        september.exploitability = Some(ExploitabilityLevel::ExploitIsInKit);
        september.public_exploit = true;
        september.first_seen = Some(at("2025-08-14T23:30:00Z"));
        september.software_ids = vec![
            "microsoft-_-windows_11".into(),
            "microsoft-_-windows_11_enterprise".into(),
        ];
        let mut october = kb("5003", &title("2025-10"), "windows_11", &["c"], &["C3"]);
        october.severity = Some(Severity::Low);
        october.cvss = Some(7.1);
        october.exploitability = Some(ExploitabilityLevel::ExploitIsPublic);
        october.first_seen = Some(at("2025-10-02T08:00:00Z"));
        october.software_ids = vec!["microsoft-_-windows_11_pro".into()];
        let mut report = report_of(vec![august, september, october]);

        plan(&mut report, true, &default_priority);

        assert_eq!(report.deploy.steps.len(), 1);
        let step = step(&report, "5003");
        assert_eq!(step.covers, ["5001", "5002"]);
        assert_eq!(step.kb.severity, Some(Severity::Critical), "September's");
        assert_eq!(step.kb.cvss, Some(9.8), "August's");
        assert_eq!(
            step.kb.exploitability,
            Some(ExploitabilityLevel::ExploitIsInKit),
            "September's"
        );
        assert!(step.kb.public_exploit, "September's");
        assert_eq!(
            step.kb.first_seen,
            Some(at("2025-08-14T23:00:00Z")),
            "August's"
        );
        assert_eq!(
            step.kb.software_ids,
            [
                "microsoft-_-windows_11",
                "microsoft-_-windows_11_enterprise",
                "microsoft-_-windows_11_pro",
            ]
        );
        // The report's own KBs keep their figures.
        let october = report.kbs.iter().find(|k| k.id == "5003").unwrap();
        assert_eq!(october.severity, Some(Severity::Low));
        assert_eq!(october.cvss, Some(7.1));
        assert_eq!(october.software_ids, ["microsoft-_-windows_11_pro"]);
        assert_eq!(october.covered_by, None);
    }

    #[test]
    fn a_series_step_without_any_of_a_figure_has_none_and_a_member_without_one_does_not_count() {
        let title = |month: &str| format!("{month} {W11_24H2}");
        let mut august = kb("5001", &title("2025-08"), "windows_11", &["a"], &["C1"]);
        august.first_seen = Some(at("2025-08-20T00:00:00Z"));
        august.cvss = Some(4.0);
        let october = kb("5003", &title("2025-10"), "windows_11", &["b"], &["C2"]);
        let mut report = report_of(vec![august, october]);

        plan(&mut report, true, &default_priority);

        let step = step(&report, "5003");
        assert_eq!(step.kb.first_seen, Some(at("2025-08-20T00:00:00Z")));
        assert_eq!(step.kb.cvss, Some(4.0));
        assert_eq!(step.kb.severity, None);
        assert_eq!(step.kb.exploitability, None);
        assert!(!step.kb.public_exploit);
    }

    #[test]
    fn a_series_whose_devices_are_known_for_some_members_only_counts_its_largest_count_inexactly() {
        let title = |month: &str| format!("{month} {W11_24H2}");
        let august = kb(
            "5001",
            &title("2025-08"),
            "windows_11",
            &["a", "b"],
            &["C1"],
        );
        // September's devices are not known (its listing failed): 7 devices, by count only.
        let mut september = kb("5002", &title("2025-09"), "windows_11", &[], &["C2"]);
        september.device_ids = None;
        september.devices = 7;
        september.devices_exact = false;
        let october = kb(
            "5003",
            &title("2025-10"),
            "windows_11",
            &["a", "b", "c"],
            &["C3"],
        );
        let mut report = report_of(vec![august, september, october]);

        plan(&mut report, true, &default_priority);

        let step = step(&report, "5003");
        assert_eq!(step.covers, ["5001", "5002"]);
        assert_eq!(step.kb.devices, 7, "September's 7, not the 3 known devices");
        assert!(!step.kb.devices_exact);
        assert_eq!(step.kb.device_ids, None, "the known ones are not all");
        assert_eq!(step.kb.cve_ids, ["C1", "C2", "C3"]);
        // The report's own KBs keep theirs.
        let october = report.kbs.iter().find(|k| k.id == "5003").unwrap();
        assert_eq!(october.devices, 3);
        assert!(october.devices_exact);
        // A step's devices unknown: no device is listed (it would be listed without its step).
        assert!(
            report.deploy.devices.is_empty(),
            "{:?}",
            report.deploy.devices
        );
    }

    #[test]
    fn of_two_updates_of_one_month_the_higher_kb_number_is_the_newest() {
        let title = format!("2025-10 {W11_24H2}");
        // In either order; compared as numbers, not text ("999999" sorts after "1000000" as
        // text).
        let report_with = |ids: [&str; 2]| {
            report_of(
                ids.iter()
                    .map(|id| kb(id, &title, "windows_11", &[id], &[id]))
                    .collect(),
            )
        };
        for (ids, newest, older) in [
            (["5066836", "5066835"], "5066836", "5066835"),
            (["1000000", "999999"], "1000000", "999999"),
            (["999999", "1000000"], "1000000", "999999"),
        ] {
            let mut report = report_with(ids);
            plan(&mut report, true, &default_priority);
            let steps: Vec<&str> = report
                .deploy
                .steps
                .iter()
                .map(|s| s.kb.id.as_str())
                .collect();
            assert_eq!(steps, [newest], "{ids:?}");
            assert_eq!(step(&report, newest).covers, [older], "{ids:?}");
            let covered = report.kbs.iter().find(|k| k.id == older).unwrap();
            assert_eq!(covered.covered_by.as_deref(), Some(newest), "{ids:?}");
            assert_eq!(step(&report, newest).kb.devices, 2, "{ids:?}");
        }
    }

    #[test]
    fn without_devices_a_series_counts_its_largest_device_count_and_the_sum_of_cves() {
        let mut report = estate();
        for kb in &mut report.kbs {
            kb.device_ids = None;
            kb.devices_exact = false;
            kb.cve_ids.clear();
        }
        plan(&mut report, true, &default_priority);
        let w11 = step(&report, "5003");
        assert_eq!(w11.kb.devices, 4);
        assert!(!w11.kb.devices_exact);
        assert_eq!(w11.kb.device_ids, None);
        assert_eq!(w11.kb.cves_addressed, 5, "2 + 2 + 1");
        assert!(report.deploy.devices.is_empty());
    }
}
