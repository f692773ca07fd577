//! The data the timeline is drawn from, apart from the rules that use it: the Windows products
//! and their cumulative updates' titles, the third-party applications with their release
//! cadence and version numbers, the device groups, and the mixes of severities, exploitability
//! and patching speeds.

/// A Windows product: `(name, osPlatform, build, display name, the update title's product part)`.
pub(super) const WINDOWS: [(&str, &str, u32, &str, &str); 4] = [
    (
        "windows_10",
        "Windows10",
        19045,
        "Windows 10",
        "Windows 10 Version 22H2 for x64-based Systems",
    ),
    (
        "windows_11",
        "Windows11",
        26100,
        "Windows 11",
        "Windows 11 Version 24H2 for x64-based Systems",
    ),
    (
        "windows_server_2019",
        "WindowsServer2019",
        17763,
        "Windows Server 2019",
        "Windows Server 2019 for x64-based Systems",
    ),
    (
        "windows_server_2022",
        "WindowsServer2022",
        20348,
        "Windows Server 2022",
        "Microsoft server operating system version 21H2 for x64-based Systems",
    ),
];

/// A third-party application.
pub(super) struct App {
    /// For example `google`.
    pub(super) vendor: &'static str,
    /// For example `chrome`.
    pub(super) name: &'static str,
    /// For example `Google Chrome` (the recommended update's text).
    pub(super) display: &'static str,
    /// Days between releases (each release fixes a batch of CVEs).
    pub(super) cadence: i64,
    /// Install rate on workstations, and on servers.
    pub(super) rates: (f64, f64),
    /// How much longer than the severity's median devices take to upgrade it (auto-updating
    /// browsers are fast, Java is slow).
    pub(super) urgency: f64,
    /// The files it is found by.
    pub(super) files: &'static [&'static str],
    /// Its uninstall key (under `Uninstall`).
    pub(super) key: &'static str,
}

/// The third-party applications.
pub(super) const APPS: &[App] = &[
    App {
        vendor: "google",
        name: "chrome",
        display: "Google Chrome",
        cadence: 28,
        rates: (0.85, 0.2),
        urgency: 0.5,
        files: &[r"C:\Program Files\Google\Chrome\Application\chrome.exe"],
        key: "Google Chrome",
    },
    App {
        vendor: "mozilla",
        name: "firefox",
        display: "Mozilla Firefox",
        cadence: 28,
        rates: (0.3, 0.05),
        urgency: 0.6,
        files: &[r"C:\Program Files\Mozilla Firefox\firefox.exe"],
        key: "Mozilla Firefox (x64 en-US)",
    },
    App {
        vendor: "adobe",
        name: "acrobat_reader",
        display: "Adobe Acrobat Reader",
        cadence: 35,
        rates: (0.6, 0.1),
        urgency: 1.0,
        files: &[r"C:\Program Files\Adobe\Acrobat DC\Acrobat\Acrobat.exe"],
        key: "{AC76BA86-1033-1033-7760-BC15014EA700}",
    },
    App {
        vendor: "oracle",
        name: "jre",
        display: "Java 8",
        cadence: 91,
        rates: (0.25, 0.35),
        urgency: 1.5,
        files: &[r"C:\Program Files\Java\jre-1.8\bin\java.exe"],
        key: "{26A24AE4-039D-4CA4-87B4-2F64180421F0}",
    },
    App {
        vendor: "7-zip",
        name: "7-zip",
        display: "7-Zip",
        cadence: 75,
        rates: (0.45, 0.5),
        urgency: 1.3,
        files: &[
            r"C:\Program Files\7-Zip\7z.exe",
            r"C:\Program Files\7-Zip\7zFM.exe",
        ],
        key: "7-Zip",
    },
    App {
        vendor: "notepad_plus_plus",
        name: "notepad++",
        display: "Notepad++",
        cadence: 45,
        rates: (0.35, 0.4),
        urgency: 1.2,
        files: &[r"C:\Program Files\Notepad++\notepad++.exe"],
        key: "Notepad++",
    },
    App {
        vendor: "zoom",
        name: "zoom",
        display: "Zoom Workplace",
        cadence: 30,
        rates: (0.5, 0.0),
        urgency: 0.8,
        files: &[r"C:\Program Files\Zoom\bin\Zoom.exe"],
        key: "ZoomUMX",
    },
    App {
        vendor: "videolan",
        name: "vlc_media_player",
        display: "VLC media player",
        cadence: 60,
        rates: (0.25, 0.0),
        urgency: 1.2,
        files: &[r"C:\Program Files\VideoLAN\VLC\vlc.exe"],
        key: "VLC media player",
    },
    App {
        vendor: "python",
        name: "python",
        display: "Python 3",
        cadence: 60,
        rates: (0.15, 0.2),
        urgency: 1.0,
        files: &[r"C:\Program Files\Python313\python.exe"],
        key: "{5DA4F6A3-1D6B-4A0E-9C1B-4F0C3E2A9B71}",
    },
    App {
        vendor: "git-scm",
        name: "git",
        display: "Git",
        cadence: 40,
        rates: (0.15, 0.1),
        urgency: 1.0,
        files: &[r"C:\Program Files\Git\cmd\git.exe"],
        key: "Git_is1",
    },
    App {
        vendor: "simon_tatham",
        name: "putty",
        display: "PuTTY",
        cadence: 120,
        rates: (0.1, 0.4),
        urgency: 1.3,
        files: &[r"C:\Program Files\PuTTY\putty.exe"],
        key: "{B9A3B9D8-4F5D-4B5E-9C5A-27D3B0E3C1A2}",
    },
    App {
        vendor: "winscp",
        name: "winscp",
        display: "WinSCP",
        cadence: 70,
        rates: (0.05, 0.3),
        urgency: 1.2,
        files: &[r"C:\Program Files (x86)\WinSCP\WinSCP.exe"],
        key: "winscp3_is1",
    },
];

/// The version an application's `n`-th release (counted from the Unix epoch in its cadence)
/// carries: strictly increasing in `n`, in the application's own style. `h` varies the last
/// part.
pub(super) fn app_version(name: &str, n: i64, h: u64) -> String {
    let small = (h % 5) as i64;
    match name {
        "chrome" => {
            let major = n - 600;
            format!("{major}.0.{}.{}", 6000 + 60 * major, 50 + h % 150)
        }
        "firefox" => format!("{}.0.{small}", n - 600),
        "acrobat_reader" => format!("25.{:03}.{}", n - 560, 20_000 + h % 900),
        "jre" => format!("8.0.{}", 10 * n - 1800),
        "7-zip" => format!("{}.01", n - 250),
        "notepad++" => format!("8.{}", n - 450),
        "zoom" => format!("6.{}.{small}", n - 680),
        "vlc_media_player" => format!("3.0.{}", n - 320),
        "python" => format!("3.13.{}", n - 335),
        "git" => format!("2.{}.{small}", n - 470),
        "putty" => format!("0.{}", n - 90),
        "winscp" => format!("6.{}.{small}", n - 290),
        _ => format!("1.{n}.0"),
    }
}

/// Device groups: `(name, DNS prefix, share of devices, servers)`. Their ids are 4400 on.
pub(super) const GROUPS: [(&str, &str, f64, bool); 6] = [
    ("Finance", "ws-fin", 0.15, false),
    ("Engineering", "ws-eng", 0.3, false),
    ("Sales", "ws-sal", 0.2, false),
    ("HR", "ws-hr", 0.07, false),
    ("Branch Offices", "ws-br", 0.13, false),
    ("Datacenter", "srv-dc", 0.15, true),
];

/// The id of the first group; the others follow.
pub(super) const FIRST_GROUP_ID: i64 = 4400;

/// Severities, the worst first: `(name, CVSS from, CVSS to)`.
pub(super) const SEVERITIES: [(&str, f64, f64); 4] = [
    ("Critical", 9.0, 10.0),
    ("High", 7.0, 8.9),
    ("Medium", 4.0, 6.9),
    ("Low", 1.0, 3.9),
];

/// The share of each severity (in the order of [`SEVERITIES`]) among Windows CVEs (Patch
/// Tuesday's mix: few criticals, mostly "important"), and among third-party releases (each
/// release's worst severity).
pub(super) const WINDOWS_SEVERITY_MIX: [f64; 4] = [0.10, 0.55, 0.33, 0.02];
/// The share of each worst severity of a Patch Tuesday (in the order of [`SEVERITIES`]): a
/// month's CVEs are no worse than its worst (so some months' updates are less urgent).
pub(super) const WINDOWS_MONTH_MIX: [f64; 4] = [0.35, 0.35, 0.30, 0.0];
pub(super) const APP_SEVERITY_MIX: [f64; 4] = [0.15, 0.40, 0.33, 0.12];

/// Median days from first seen to upgrade, by the worst severity a device is exposed to through
/// the product (in the order of [`SEVERITIES`]), for a device of normal speed.
pub(super) const MEDIAN_DAYS_TO_PATCH: [f64; 4] = [10.0, 20.0, 40.0, 80.0];

/// Exploitability levels, the lowest first.
pub(super) const EXPLOITABILITY: [&str; 4] = [
    "NoExploit",
    "ExploitIsPublic",
    "ExploitIsVerified",
    "ExploitIsInKit",
];

/// The share of each exploitability level (in the order of [`EXPLOITABILITY`]) when a CVE is
/// published.
pub(super) const EXPLOITABILITY_MIX: [f64; 4] = [0.85, 0.08, 0.04, 0.03];

/// How fast devices patch: `(share of devices, factor on the median days)`; `None` stops
/// patching when the timeline begins.
pub(super) const PATCHING: [(f64, Option<f64>); 4] = [
    (0.25, Some(0.5)),
    (0.50, Some(1.0)),
    (0.22, Some(1.8)),
    (0.03, None),
];
