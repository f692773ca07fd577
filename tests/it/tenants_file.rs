//! What a tenants file must never do: echo a secret pasted where a variable's name belongs, or
//! a value of the wrong type; name a tenant so that its checkpoint lands outside its folder.
//! `TenantsFile::names` refuses what `Tenants::from_file` refuses of the file as a whole; an
//! unreadable file is `Error::File`, its cause kept.

use std::path::PathBuf;

use defender_tvm::{
    Error,
    tenants::{Tenants, TenantsFile},
};

/// A tenants file of `text` in a folder of its own, removed when dropped (even when the test
/// fails).
struct File {
    dir: PathBuf,
    path: PathBuf,
}

impl File {
    fn new(test: &str, text: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "defender-tvm-{test}-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tenants.toml");
        std::fs::write(&path, text).unwrap();
        Self { dir, path }
    }
}

impl Drop for File {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn refusal(text: &str) -> String {
    let file = File::new("refusal", text);
    let error = Tenants::from_file(&file.path, |_| Some("value".into())).unwrap_err();
    assert!(matches!(error, Error::InvalidInput(_)), "{error:?}");
    let shown = format!("{} {error:?}", crate::common::chain(&error));
    assert!(shown.contains(&file.path.display().to_string()), "{shown}");
    shown
}

const APP: &str = "tenant_id = \"00000000-0000-0000-0000-000000000001\"\n\
                   client_id = \"00000000-0000-0000-0000-0000000000aa\"\n";

#[test]
fn a_secret_pasted_where_a_variable_name_belongs_is_refused_unshown() {
    let secret = "Xy8Q~abc.DEF-ghi_jkl";
    for field in ["client_secret_env", "bearer_token_env"] {
        let text = format!("[[tenant]]\nname = \"north\"\n{APP}{field} = \"{secret}\"\n");
        let shown = refusal(&text);
        assert!(shown.contains("line 5"), "names the line: {shown}");
        assert!(shown.contains(field), "names the field: {shown}");
        assert!(!shown.contains(secret), "echoes the secret: {shown}");
        assert!(!shown.contains("Xy8Q"), "echoes part of it: {shown}");
    }
    // A variable's name is fine.
    let file = File::new(
        "variable",
        &format!("[[tenant]]\nname = \"north\"\n{APP}client_secret_env = \"NORTH_SECRET_2\"\n"),
    );
    assert!(Tenants::from_file(&file.path, |_| Some("s".into())).is_ok());
}

#[test]
fn a_value_of_the_wrong_type_is_not_quoted() {
    for (line, value) in [
        ("client_secret = 12345987", "12345987"),
        ("tenant_id = 998877", "998877"),
        ("allow_inline_secrets = \"s3cr3t-yes\"", "s3cr3t-yes"),
    ] {
        let text = if line.starts_with("allow") {
            format!("{line}\n[[tenant]]\nname = \"north\"\n{APP}")
        } else {
            format!("[[tenant]]\nname = \"north\"\n{line}\n")
        };
        let shown = refusal(&text);
        assert!(shown.contains("wrong type"), "{shown}");
        assert!(!shown.contains(value), "quotes the value: {shown}");
    }
}

#[test]
fn names_that_would_leave_the_checkpoints_folder_are_refused() {
    for name in [
        "../north",
        "a/b",
        "a\\\\b",
        "..",
        "x..y",
        ".hidden",
        "nul\\u0000",
        "line\\nbreak",
    ] {
        let text = format!("[[tenant]]\nname = \"{name}\"\n{APP}client_secret_env = \"S\"\n");
        let shown = refusal(&text);
        assert!(shown.contains("line 1"), "{name}: {shown}");
        assert!(shown.contains("file name"), "{name}: {shown}");
        let file = File::new("names", &text);
        let error = TenantsFile::names(&file.path).unwrap_err();
        assert!(
            error.to_string().contains("file name"),
            "names() refuses {name:?} too: {error}"
        );
    }
    // The same names are refused in code.
    let client = defender_tvm::Client::builder()
        .bearer_token("t")
        .build()
        .unwrap();
    for name in ["../x", "a/b", ".x", "a\0b"] {
        assert!(
            Tenants::new().with(name, client.clone()).is_err(),
            "{name:?}"
        );
    }
    assert!(Tenants::new().with("contoso-eu_1 (prod)", client).is_ok());
}

#[test]
fn names_refuses_an_empty_file_and_duplicates_with_the_line() {
    let file = File::new("empty", "");
    let error = TenantsFile::names(&file.path).unwrap_err();
    assert!(error.to_string().contains("no [[tenant]]"), "{error}");

    let text = "[[tenant]]\nname = \"north\"\n\n[[tenant]]\nname = \"south\"\n\n\
                [[tenant]]\nname = \"north\"\n";
    let file = File::new("duplicates", text);
    let error = TenantsFile::names(&file.path).unwrap_err();
    let shown = error.to_string();
    assert!(shown.contains(&file.path.display().to_string()), "{shown}");
    assert!(
        shown.contains("line 7") && shown.contains("already at line 1"),
        "{shown}"
    );
}

#[test]
fn an_unreadable_tenants_file_is_a_file_error_with_its_cause() {
    let missing = std::env::temp_dir().join("defender-tvm-no-such-dir/tenants.toml");
    for error in [
        Tenants::from_file(&missing, |_| None).unwrap_err(),
        TenantsFile::names(&missing).unwrap_err(),
    ] {
        let Error::File(file) = &error else {
            panic!("not a file error: {error:?}");
        };
        assert_eq!(file.path, missing);
        assert_eq!(
            error.to_string(),
            format!("cannot read the tenants file {}", missing.display())
        );
        let cause = std::error::Error::source(&error).expect("the I/O error");
        let io = cause
            .downcast_ref::<std::io::Error>()
            .expect("an io::Error");
        assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    }
}
