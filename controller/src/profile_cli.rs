//! `corral profile …`: check, show, diff, plan and capture profile files from the command
//! line. This module does the file I/O; all profile logic is in `corral-profiles`.
//!
//! Parents named in `extends` are found among the files given and the `*.toml` files next
//! to them, so `corral profile check profiles/examples/butcher-shop.toml` finds `base`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};
use corral_profiles::{
    AllowList, Diagnostic, ObservedPhone, ProfileName, Region, Resolution, ResolvedProfile,
    SourceFile, Style, Users,
};

/// Profile subcommands.
#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Validate profile files; exit 0 when all are valid, 1 with diagnostics otherwise.
    Check {
        /// How to print diagnostics: rustc-style on stderr, JSON on stdout, or one line each.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Profile files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print a profile's version; with --resolved, its canonical TOML after inheritance.
    Show {
        /// Print the whole canonical profile (inheritance and defaults applied).
        #[arg(long)]
        resolved: bool,
        /// Show the settings this device is held to (its overrides applied).
        #[arg(long)]
        device: Option<String>,
        /// Print canonical JSON instead of TOML.
        #[arg(long)]
        json: bool,
        /// The profile file.
        file: PathBuf,
    },
    /// Compare two profiles; exit 0 when they are the same, 1 when they differ, 2 when
    /// either is invalid.
    Diff {
        /// Print the differences as JSON.
        #[arg(long)]
        json: bool,
        /// The old profile file.
        old: PathBuf,
        /// The new profile file.
        new: PathBuf,
    },
    /// Print the plan (actions, shell commands, drift) that would bring an observed phone
    /// to a profile. Contact groups are not resolved here: only inline contacts count.
    Plan {
        /// The profile file.
        file: PathBuf,
        /// Observed phone state as JSON (the agent's observation format).
        #[arg(long)]
        observed: PathBuf,
        /// Device serial, for per-device overrides.
        #[arg(long)]
        device: Option<String>,
        /// Print the plan as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write a draft profile from an observed phone's work profile (for cloning a phone).
    Capture {
        /// Observed phone state as JSON.
        observed: PathBuf,
        /// Name of the new profile.
        #[arg(long)]
        name: String,
        /// Country for reading national phone numbers (e.g. DE).
        #[arg(long)]
        region: Option<String>,
    },
}

/// How `check` prints diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// rustc-style, with source lines, on stderr.
    Human,
    /// One `file:line:col: severity[code]: message` line each, on stderr.
    Short,
    /// A JSON array on stdout.
    Json,
}

/// Runs one profile subcommand.
pub fn run(cmd: ProfileCommand) -> ExitCode {
    match cmd {
        ProfileCommand::Check { format, files } => check(&files, format),
        ProfileCommand::Show {
            resolved,
            device,
            json,
            file,
        } => show(&file, resolved, device.as_deref(), json),
        ProfileCommand::Diff { json, old, new } => diff(&old, &new, json),
        ProfileCommand::Plan {
            file,
            observed,
            device,
            json,
        } => plan(&file, &observed, device.as_deref(), json),
        ProfileCommand::Capture {
            observed,
            name,
            region,
        } => capture(&observed, &name, region.as_deref()),
    }
}

/// The files given, then the readable `*.toml` files next to them, and the read errors of
/// the given ones.
struct Loaded {
    files: Vec<SourceFile>,
    targets: Vec<usize>,
    errors: Vec<Diagnostic>,
}

fn load(paths: &[PathBuf]) -> Loaded {
    let mut loaded = Loaded {
        files: Vec::new(),
        targets: Vec::new(),
        errors: Vec::new(),
    };
    let mut seen: Vec<PathBuf> = Vec::new();
    for p in paths {
        let name = p.display().to_string();
        match std::fs::read_to_string(p) {
            Ok(text) => {
                loaded.targets.push(loaded.files.len());
                loaded.files.push(SourceFile::new(name, text));
                seen.push(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()));
            }
            Err(e) => loaded
                .errors
                .push(Diagnostic::unreadable(&name, &e.to_string())),
        }
    }
    let mut dirs: Vec<PathBuf> = paths
        .iter()
        .map(|p| p.parent().map(Path::to_path_buf).unwrap_or_default())
        .collect();
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        let listing = if dir.as_os_str().is_empty() {
            std::fs::read_dir(".")
        } else {
            std::fs::read_dir(&dir)
        };
        let Ok(entries) = listing else { continue };
        let mut siblings: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        siblings.sort();
        for s in siblings {
            let canonical = std::fs::canonicalize(&s).unwrap_or_else(|_| s.clone());
            if seen.contains(&canonical) {
                continue;
            }
            seen.push(canonical);
            let shown = if dir.as_os_str().is_empty() {
                s.strip_prefix(".").unwrap_or(&s).to_path_buf()
            } else {
                s.clone()
            };
            if let Ok(text) = std::fs::read_to_string(&s) {
                loaded
                    .files
                    .push(SourceFile::new(shown.display().to_string(), text));
            }
        }
    }
    loaded
}

fn resolve(paths: &[PathBuf]) -> (Loaded, Resolution) {
    let loaded = load(paths);
    let mut resolution = corral_profiles::resolve_targets(&loaded.files, &loaded.targets, None);
    let mut all = loaded.errors.clone();
    all.append(&mut resolution.diagnostics);
    resolution.diagnostics = all;
    (loaded, resolution)
}

fn style() -> Style {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    if color { Style::Color } else { Style::Plain }
}

fn print_diagnostics(diagnostics: &[Diagnostic], files: &[SourceFile], format: Format) {
    match format {
        Format::Human => eprint!("{}", corral_profiles::render(diagnostics, files, style())),
        Format::Short => eprint!("{}", corral_profiles::render_short(diagnostics)),
        Format::Json => println!("{}", corral_profiles::to_json(diagnostics)),
    }
    if format != Format::Json {
        let errors = diagnostics.iter().filter(|d| d.is_error()).count();
        let others = diagnostics.len() - errors;
        let plural = |n: usize, word: &str| {
            if n == 1 {
                format!("1 {word}")
            } else {
                format!("{n} {word}s")
            }
        };
        if errors > 0 {
            eprintln!(
                "error: not valid: {}, {}",
                plural(errors, "error"),
                plural(others, "other diagnostic")
            );
        }
    }
}

fn check(paths: &[PathBuf], format: Format) -> ExitCode {
    let (loaded, resolution) = resolve(paths);
    print_diagnostics(&resolution.diagnostics, &loaded.files, format);
    if resolution.has_errors() {
        return ExitCode::from(1);
    }
    if format != Format::Json {
        for &t in &loaded.targets {
            let file = &loaded.files[t].name;
            if let Some(p) = resolution.profile_of_file(file) {
                println!("{file}: `{}` is valid, version {}", p.name, p.version());
            }
        }
    }
    ExitCode::SUCCESS
}

/// The profile declared by `path`, or the diagnostics (printed) and exit code 1.
fn one_profile(path: &Path) -> Result<ResolvedProfile, ExitCode> {
    let (loaded, resolution) = resolve(&[path.to_path_buf()]);
    if resolution.has_errors() {
        print_diagnostics(&resolution.diagnostics, &loaded.files, Format::Human);
        return Err(ExitCode::from(1));
    }
    match loaded
        .targets
        .first()
        .and_then(|&t| resolution.profile_of_file(&loaded.files[t].name))
    {
        Some(p) => Ok(p.clone()),
        None => {
            eprintln!("error: {} declares no profile", path.display());
            Err(ExitCode::from(1))
        }
    }
}

fn show(path: &Path, resolved: bool, device: Option<&str>, json: bool) -> ExitCode {
    let profile = match one_profile(path) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let (profile, version) = match device {
        Some(serial) => {
            let Ok(serial) = corral_profiles::DeviceSerial::parse(serial) else {
                eprintln!("error: `{serial}` is not a device serial");
                return ExitCode::from(2);
            };
            let target = profile.for_device(Some(&serial));
            let version = target.effective_version.clone();
            (
                ResolvedProfile {
                    settings: target.settings,
                    devices: Default::default(),
                    ..profile
                },
                version,
            )
        }
        None => {
            let version = profile.version();
            (profile, version)
        }
    };
    if !resolved {
        println!("{} {version}", profile.name);
    } else if json {
        println!(
            "{{\"version\":\"{version}\",\"profile\":{}}}",
            profile.canonical_json()
        );
    } else {
        println!("# profile `{}`, version {version}", profile.name);
        print!("{}", profile.canonical_toml());
    }
    ExitCode::SUCCESS
}

fn diff(old: &Path, new: &Path, json: bool) -> ExitCode {
    // Resolved separately: the two files are often two versions of one profile, each
    // with its own directory of parents.
    let (Ok(a), Ok(b)) = (one_profile(old), one_profile(new)) else {
        return ExitCode::from(2);
    };
    let d = corral_profiles::diff(&a, &b);
    if json {
        println!("{}", d.to_json());
    } else {
        print!("{}", d.to_text());
    }
    if d.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn read_observed(path: &Path) -> Result<ObservedPhone, ExitCode> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        eprintln!("error: cannot read {}: {e}", path.display());
        ExitCode::from(2)
    })?;
    serde_json::from_str(&text).map_err(|e| {
        eprintln!(
            "error: {} is not an observed phone state: {e}",
            path.display()
        );
        ExitCode::from(2)
    })
}

fn plan(path: &Path, observed: &Path, device: Option<&str>, json: bool) -> ExitCode {
    let (profile, phone) = match (one_profile(path), read_observed(observed)) {
        (Ok(p), Ok(o)) => (p, o),
        (Err(code), _) | (_, Err(code)) => return code,
    };
    let serial = device.and_then(|d| corral_profiles::DeviceSerial::parse(d).ok());
    let target = profile.for_device(serial.as_ref());
    let allow = AllowList::from_contacts(target.settings.contacts.entries.iter().map(|e| {
        corral_profiles::AllowedContact {
            id: corral_profiles::ContactId(format!("inline:{}", e.number)),
            name: e.name.clone(),
            number: e.number.clone(),
            basis: e.basis,
        }
    }));
    let plan = corral_profiles::plan(&target, &allow, &phone);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&plan).unwrap_or_default()
        );
        return ExitCode::SUCCESS;
    }
    let users = Users {
        personal: phone.personal_user,
        work: phone.work.as_ref().map(|w| w.user),
    };
    println!(
        "# {} action(s) in {} shell round trip(s), target version {}",
        plan.actions.len(),
        plan.round_trips(),
        target.effective_version
    );
    for batch in plan.batches() {
        let mut lines = Vec::new();
        for a in batch {
            match a.commands(users) {
                Ok(c) => lines.extend(c),
                Err(_) => lines.push(format!("# (after the work profile exists) {a:?}")),
            }
        }
        println!("{}", lines.join(" && \\\n  "));
    }
    for d in &plan.drift {
        println!("# drift: {}", serde_json::to_string(d).unwrap_or_default());
    }
    ExitCode::SUCCESS
}

fn capture(observed: &Path, name: &str, region: Option<&str>) -> ExitCode {
    let phone = match read_observed(observed) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let Ok(name) = ProfileName::parse(name) else {
        eprintln!("error: `{name}` is not a profile name (lowercase letters, digits and `-`)");
        return ExitCode::from(2);
    };
    let region = match region.map(|r| Region::parse(r).ok_or(r)).transpose() {
        Ok(r) => r,
        Err(r) => {
            eprintln!("error: `{r}` is not a two-letter country code");
            return ExitCode::from(2);
        }
    };
    match corral_profiles::capture(&phone, &name, region) {
        Ok(c) => {
            print!("{}", c.toml);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
