//! The catalogue the estate is generated from: real-looking products with their versions and
//! install rates, device groups, the vendors and products of generated software, the months
//! updates come out in, and the titles Microsoft gives its updates. Data only; the rules that
//! use it are in `generate.rs`.

/// The catalog: real-looking products. `(vendor, product, versions, Microsoft, install rate)`;
/// the OS products come first and are installed by platform, not by rate.
pub(super) const CATALOG: &[(&str, &str, &[&str], bool, f64)] = &[
    (
        "microsoft",
        "windows_10",
        &["10.0.19045.4780", "10.0.19045.5011"],
        true,
        0.0,
    ),
    (
        "microsoft",
        "windows_11",
        &["10.0.22631.4169", "10.0.26100.2033"],
        true,
        0.0,
    ),
    (
        "microsoft",
        "windows_server_2019",
        &["10.0.17763.6293", "10.0.17763.6414"],
        true,
        0.0,
    ),
    (
        "microsoft",
        "windows_server_2022",
        &["10.0.20348.2700", "10.0.20348.2762"],
        true,
        0.0,
    ),
    (
        "microsoft",
        "office",
        &["16.0.17928.20156", "16.0.18025.20104"],
        true,
        0.7,
    ),
    (
        "microsoft",
        ".net_framework",
        &["4.8.9256", "4.8.9261"],
        true,
        0.9,
    ),
    (
        "microsoft",
        "edge_chromium-based",
        &["129.0.2792.89", "130.0.2849.56"],
        true,
        0.95,
    ),
    (
        "microsoft",
        "sql_server_2019",
        &["15.0.4385.2", "15.0.4390.2"],
        true,
        0.08,
    ),
    (
        "microsoft",
        "teams",
        &["24243.1309.3132.617", "24257.205.3165.2029"],
        true,
        0.6,
    ),
    (
        "microsoft",
        "visual_studio_2022",
        &["17.10.5", "17.11.5"],
        true,
        0.12,
    ),
    (
        "google",
        "chrome",
        &["129.0.6668.101", "130.0.6723.70"],
        false,
        0.6,
    ),
    ("mozilla", "firefox", &["130.0.1", "131.0.3"], false, 0.3),
    (
        "adobe",
        "acrobat_reader",
        &["24.002.21005", "24.003.20112"],
        false,
        0.5,
    ),
    ("oracle", "jre", &["8.0.411", "8.0.421"], false, 0.3),
    ("7-zip", "7-zip", &["23.01", "24.08"], false, 0.4),
    (
        "notepad_plus_plus",
        "notepad++",
        &["8.6.7", "8.6.9"],
        false,
        0.35,
    ),
    ("zoom", "zoom", &["6.1.11", "6.2.5"], false, 0.4),
    (
        "videolan",
        "vlc_media_player",
        &["3.0.20", "3.0.21"],
        false,
        0.2,
    ),
    ("simon_tatham", "putty", &["0.80", "0.81"], false, 0.1),
    ("python", "python", &["3.11.9", "3.12.4"], false, 0.15),
    ("git-scm", "git", &["2.45.2", "2.46.0"], false, 0.15),
    ("wireshark", "wireshark", &["4.2.5", "4.2.6"], false, 0.05),
    (
        "citrix",
        "workspace",
        &["2405.0.0.41", "2409.0.0.49"],
        false,
        0.2,
    ),
    ("vmware", "tools", &["12.3.5", "12.4.5"], false, 0.1),
    ("winscp", "winscp", &["6.3.3", "6.3.5"], false, 0.08),
    (
        "filezilla-project",
        "filezilla",
        &["3.67.0", "3.67.1"],
        false,
        0.06,
    ),
    ("keepass", "keepass", &["2.56", "2.57"], false, 0.1),
    ("greenshot", "greenshot", &["1.2.10.6"], false, 0.1),
    ("slack", "slack", &["4.39.95", "4.40.126"], false, 0.25),
    (
        "dropbox",
        "dropbox",
        &["205.4.6059", "207.4.5821"],
        false,
        0.08,
    ),
];

/// Device groups: (name, DNS prefix, share of devices, servers).
pub(super) const GROUPS: &[(&str, &str, f64, bool)] = &[
    ("Finance", "ws-fin", 0.15, false),
    ("Engineering", "ws-eng", 0.3, false),
    ("Sales", "ws-sal", 0.2, false),
    ("HR", "ws-hr", 0.07, false),
    ("Branch Offices", "ws-br", 0.13, false),
    ("Datacenter", "srv-dc", 0.15, true),
];

/// Generated vendors and products for the software beyond the catalog.
pub(super) const VENDORS: &[&str] = &[
    "contoso",
    "fabrikam",
    "northwind",
    "tailspin",
    "woodgrove",
    "litware",
];
pub(super) const PRODUCTS: &[&str] = &[
    "agent", "sync", "viewer", "toolkit", "client", "monitor", "updater",
];

/// The months updates come out in, oldest first.
pub(super) const MONTHS: [&str; 5] = ["2025-06", "2025-07", "2025-08", "2025-09", "2025-10"];

/// The title Microsoft gives a security update of `product` (a catalog product id such as
/// `windows_11`), released in `month` (`2025-10`), the `nth` month of [`MONTHS`].
/// Titles read as the Microsoft Update Catalog writes them; product ids never appear in them.
pub(super) fn kb_title(product: &str, month: &str, nth: usize, id: &str) -> String {
    match product {
        "windows_10" => format!(
            "{month} Cumulative Update for Windows 10 Version 22H2 for x64-based Systems (KB{id})"
        ),
        "windows_11" => format!(
            "{month} Cumulative Update for Windows 11 Version 24H2 for x64-based Systems (KB{id})"
        ),
        "windows_server_2019" => format!(
            "{month} Cumulative Update for Windows Server 2019 for x64-based Systems (KB{id})"
        ),
        "windows_server_2022" => format!(
            "{month} Cumulative Update for Microsoft server operating system version 21H2 for x64-based Systems (KB{id})"
        ),
        "office" => format!("{month} Security Update for Microsoft 365 Apps (KB{id})"),
        ".net_framework" => {
            format!("{month} Cumulative Update for .NET Framework 3.5 and 4.8.1 (KB{id})")
        }
        "edge_chromium-based" => format!("{month} Security Update for Microsoft Edge (KB{id})"),
        "sql_server_2019" => format!(
            "Security Update for SQL Server 2019 CU{} (KB{id})",
            25 + nth
        ),
        "visual_studio_2022" => format!(
            "{month} Security Update for Microsoft Visual Studio 2022 version 17.{} (KB{id})",
            8 + nth
        ),
        // A product added to the catalog without a title of its own: its words, capitalised,
        // never the raw id.
        other => format!(
            "{month} Security Update for Microsoft {} (KB{id})",
            title_words(other)
        ),
    }
}

/// How the catalog's products show on a device, for the export rows:
/// `(product, display name, files, uninstall registry key)`. A key starting with `HKEY_` is a
/// whole path; any other is a key under the (32-bit or 64-bit) `Uninstall` key.
pub(super) const PRESENCE: &[(&str, &str, &[&str], &str)] = &[
    (
        "windows_10",
        "Windows 10",
        &[
            r"C:\Windows\System32\ntoskrnl.exe",
            r"C:\Windows\System32\win32k.sys",
        ],
        r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion",
    ),
    (
        "windows_11",
        "Windows 11",
        &[
            r"C:\Windows\System32\ntoskrnl.exe",
            r"C:\Windows\System32\win32k.sys",
        ],
        r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion",
    ),
    (
        "windows_server_2019",
        "Windows Server 2019",
        &[
            r"C:\Windows\System32\ntoskrnl.exe",
            r"C:\Windows\System32\win32k.sys",
        ],
        r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion",
    ),
    (
        "windows_server_2022",
        "Windows Server 2022",
        &[
            r"C:\Windows\System32\ntoskrnl.exe",
            r"C:\Windows\System32\win32k.sys",
        ],
        r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion",
    ),
    (
        "office",
        "Microsoft 365 Apps for enterprise",
        &[
            r"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE",
            r"C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE",
        ],
        "O365ProPlusRetail - en-us",
    ),
    (
        ".net_framework",
        "Microsoft .NET Framework 4.8",
        &[r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\clr.dll"],
        r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full",
    ),
    (
        "edge_chromium-based",
        "Microsoft Edge",
        &[r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe"],
        "Microsoft Edge",
    ),
    (
        "sql_server_2019",
        "Microsoft SQL Server 2019",
        &[r"C:\Program Files\Microsoft SQL Server\MSSQL15.MSSQLSERVER\MSSQL\Binn\sqlservr.exe"],
        "Microsoft SQL Server 2019",
    ),
    (
        "teams",
        "Microsoft Teams",
        &[r"C:\Program Files (x86)\Microsoft\Teams\current\Teams.exe"],
        "Teams Machine-Wide Installer",
    ),
    (
        "visual_studio_2022",
        "Visual Studio Enterprise 2022",
        &[r"C:\Program Files\Microsoft Visual Studio\2022\Enterprise\Common7\IDE\devenv.exe"],
        "a5c4ba3c",
    ),
    (
        "chrome",
        "Google Chrome",
        &[r"C:\Program Files\Google\Chrome\Application\chrome.exe"],
        "Google Chrome",
    ),
    (
        "firefox",
        "Mozilla Firefox",
        &[r"C:\Program Files\Mozilla Firefox\firefox.exe"],
        "Mozilla Firefox (x64 en-US)",
    ),
    (
        "acrobat_reader",
        "Adobe Acrobat Reader",
        &[r"C:\Program Files\Adobe\Acrobat DC\Acrobat\Acrobat.exe"],
        "{AC76BA86-1033-1033-7760-BC15014EA700}",
    ),
    (
        "jre",
        "Java 8",
        &[r"C:\Program Files\Java\jre-1.8\bin\java.exe"],
        "{26A24AE4-039D-4CA4-87B4-2F64180421F0}",
    ),
    (
        "7-zip",
        "7-Zip",
        &[
            r"C:\Program Files\7-Zip\7z.exe",
            r"C:\Program Files\7-Zip\7zFM.exe",
        ],
        "7-Zip",
    ),
    (
        "notepad++",
        "Notepad++",
        &[r"C:\Program Files\Notepad++\notepad++.exe"],
        "Notepad++",
    ),
    (
        "zoom",
        "Zoom Workplace",
        &[r"C:\Program Files\Zoom\bin\Zoom.exe"],
        "ZoomUMX",
    ),
    (
        "vlc_media_player",
        "VLC media player",
        &[r"C:\Program Files\VideoLAN\VLC\vlc.exe"],
        "VLC media player",
    ),
    (
        "putty",
        "PuTTY",
        &[r"C:\Program Files\PuTTY\putty.exe"],
        "{B9A3B9D8-4F5D-4B5E-9C5A-27D3B0E3C1A2}",
    ),
    (
        "python",
        "Python 3",
        &[r"C:\Program Files\Python312\python.exe"],
        "{5DA4F6A3-1D6B-4A0E-9C1B-4F0C3E2A9B71}",
    ),
    (
        "git",
        "Git",
        &[
            r"C:\Program Files\Git\cmd\git.exe",
            r"C:\Program Files\Git\usr\bin\ssh.exe",
        ],
        "Git_is1",
    ),
    (
        "wireshark",
        "Wireshark",
        &[r"C:\Program Files\Wireshark\Wireshark.exe"],
        "Wireshark",
    ),
    (
        "workspace",
        "Citrix Workspace",
        &[r"C:\Program Files (x86)\Citrix\ICA Client\wfica32.exe"],
        "CitrixOnlinePluginPackWeb",
    ),
    (
        "tools",
        "VMware Tools",
        &[r"C:\Program Files\VMware\VMware Tools\vmtoolsd.exe"],
        "{E7E1A5B2-5B63-4B8C-9B2B-1A5C4E4F3D21}",
    ),
    (
        "winscp",
        "WinSCP",
        &[r"C:\Program Files (x86)\WinSCP\WinSCP.exe"],
        "winscp3_is1",
    ),
    (
        "filezilla",
        "FileZilla",
        &[r"C:\Program Files\FileZilla FTP Client\filezilla.exe"],
        "FileZilla Client",
    ),
    (
        "keepass",
        "KeePass Password Safe 2",
        &[r"C:\Program Files\KeePass Password Safe 2\KeePass.exe"],
        "KeePassPasswordSafe2_is1",
    ),
    (
        "greenshot",
        "Greenshot",
        &[r"C:\Program Files\Greenshot\Greenshot.exe"],
        "Greenshot_is1",
    ),
    (
        "slack",
        "Slack",
        &[r"C:\Program Files\Slack\slack.exe"],
        "slack",
    ),
    (
        "dropbox",
        "Dropbox",
        &[r"C:\Program Files (x86)\Dropbox\Client\Dropbox.exe"],
        "Dropbox",
    ),
];

/// Words of an id (`acrobat_reader`, `litware`), each capitalised: `Acrobat Reader`.
pub(super) fn title_words(id: &str) -> String {
    id.split(['_', '-'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        })
        .collect::<Vec<String>>()
        .join(" ")
}
