//! Test fixtures: several profile files written in one string, each starting with a
//! `//- name.toml` line (a single unnamed file is `profile.toml`), plus the example files.

use corral_profiles::SourceFile;

pub fn files(input: &str) -> Vec<SourceFile> {
    let mut files = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in input.split_inclusive('\n') {
        if let Some(name) = line.trim_end().strip_prefix("//- ") {
            files.extend(current.take().map(|(n, t)| SourceFile::new(n, t)));
            current = Some((name.to_owned(), String::new()));
        } else {
            current
                .get_or_insert_with(|| ("profile.toml".to_owned(), String::new()))
                .1
                .push_str(line);
        }
    }
    files.extend(current.map(|(n, t)| SourceFile::new(n, t)));
    files
}

pub fn examples() -> Vec<SourceFile> {
    ["base.toml", "butcher-shop.toml"]
        .iter()
        .map(|n| {
            let path = format!("{}/examples/{n}", env!("CARGO_MANIFEST_DIR"));
            SourceFile::new(
                format!("examples/{n}"),
                std::fs::read_to_string(path).unwrap(),
            )
        })
        .collect()
}

/// A minimal valid profile body to build broken cases on.
pub const MINIMAL: &str = r#"name = "shop"
[messenger]
packages = ["com.whatsapp.w4b"]
grant = ["android.permission.READ_CONTACTS"]
"#;
