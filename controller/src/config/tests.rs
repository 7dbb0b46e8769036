//! Behaviour of configuration loading: defaults, layering, errors naming the key,
//! redaction.

use super::*;

fn load(
    file: Option<&str>,
    env: &[(&str, &str)],
    overrides: Overrides,
) -> Result<Config, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    if let Some(text) = file {
        std::fs::write(dir.path().join("corral.toml"), text).unwrap();
    }
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let lookup = move |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    Config::load(
        Path::new("/srv/corral"),
        &Overrides {
            config_file: file.map(|_| dir.path().join("corral.toml")),
            ..overrides
        },
        &lookup,
    )
}

#[test]
fn defaults_need_no_file() {
    let c = load(None, &[], Overrides::default()).unwrap();
    expect_test::expect![[r#"
        # data directory: /srv/corral
        [console]
        listen = "127.0.0.1:8080"
        tls = "off"

        [gateway]
        listen = "0.0.0.0:8443"

        [enrollment]
        listen = "0.0.0.0:8444"
        token_ttl = "1d"

        [database]
        url = "sqlite:///srv/corral/corral.db"

        [certificates]
        device_lifetime = "30d"
        server_names = ["localhost", "127.0.0.1"]

        [retention]
        ended_contacts = "30d"
        events = "365d"
        audit_detail = "90d"
        every = "1h"
    "#]]
    .assert_eq(&c.to_string());
}

#[test]
fn file_then_environment_then_command_line() {
    let file = "[console]\nlisten = \"127.0.0.1:1\"\n[gateway]\nlisten = \"127.0.0.1:2\"\n";
    let env = [
        ("CORRAL_CONSOLE_LISTEN", "127.0.0.1:3"),
        ("CORRAL_CERTIFICATES_SERVER_NAMES", "ctl.example, 10.0.0.1"),
    ];
    let c = load(Some(file), &env, Overrides::default()).unwrap();
    assert_eq!(c.console_listen.port(), 3);
    assert_eq!(c.gateway_listen.port(), 2);
    assert_eq!(c.server_names, ["ctl.example", "10.0.0.1"]);
    let cli = Overrides {
        console_listen: Some("127.0.0.1:4".into()),
        ..Overrides::default()
    };
    assert_eq!(
        load(Some(file), &env, cli).unwrap().console_listen.port(),
        4
    );
}

#[test]
fn errors_name_the_key_and_where_it_came_from() {
    let err = |file, env: &[(&str, &str)]| {
        load(file, env, Overrides::default())
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err(Some("[gateway]\nlisten = \"everywhere\""), &[]),
        "invalid gateway.listen: \"everywhere\" is not an address like 127.0.0.1:8080"
    );
    assert_eq!(
        err(None, &[("CORRAL_ENROLLMENT_TOKEN_TTL", "soon")]),
        "invalid enrollment.token_ttl (from CORRAL_ENROLLMENT_TOKEN_TTL): \"soon\" is not a duration like 90s, 15m, 24h or 30d"
    );
    assert!(err(Some("[gateway]\nlisten_on = \"x\""), &[]).contains("unknown field `listen_on`"));
    let cli = Overrides {
        database_url: Some("mysql://x".into()),
        ..Overrides::default()
    };
    assert_eq!(
        load(None, &[], cli).unwrap_err().to_string(),
        "invalid database.url (command line): expected postgres://… or sqlite://PATH"
    );
}

#[test]
fn database_passwords_are_redacted_when_shown() {
    let url =
        DatabaseUrl::parse("postgres://corral:s3cret@db:5432/corral?sslmode=disable").unwrap();
    assert_eq!(
        url.to_string(),
        "postgres://corral:***@db:5432/corral?sslmode=disable"
    );
    assert!(!format!("{url:?}").contains("s3cret"));
    assert!(url.connection_url().contains("s3cret"));
    assert_eq!(
        DatabaseUrl::parse("postgres://db/corral")
            .unwrap()
            .to_string(),
        "postgres://db/corral"
    );
}

#[test]
fn durations_read_and_print_alike() {
    for (text, secs) in [
        ("90s", 90),
        ("15m", 900),
        ("24h", 86_400),
        ("30d", 2_592_000),
    ] {
        assert_eq!(parse_duration(text), Ok(Duration::from_secs(secs)));
    }
    assert_eq!(format_duration(Duration::from_secs(90)), "90s");
    assert!(parse_duration("0h").is_err());
    assert!(parse_duration("12").is_err());
}

#[test]
fn the_console_serves_https_from_the_ca_or_supplied_files_when_asked() {
    let tls = |file: Option<&str>, env: &[(&str, &str)]| {
        load(file, env, Overrides::default()).map(|c| c.console_tls)
    };
    assert_eq!(tls(None, &[]).unwrap(), ConsoleTls::Off);
    assert_eq!(
        tls(None, &[("CORRAL_CONSOLE_TLS", "ca")]).unwrap(),
        ConsoleTls::Ca
    );
    let files = "[console]\ntls = \"files\"\ntls_cert = \"/etc/corral/cert.pem\"\ntls_key = \"/etc/corral/key.pem\"\n";
    assert_eq!(
        tls(Some(files), &[]).unwrap(),
        ConsoleTls::Files {
            cert: "/etc/corral/cert.pem".into(),
            key: "/etc/corral/key.pem".into()
        }
    );
    let shown = load(Some(files), &[], Overrides::default())
        .unwrap()
        .to_string();
    assert!(
        shown.contains("tls = \"files\"\ntls_cert = \"/etc/corral/cert.pem\""),
        "{shown}"
    );
    assert_eq!(
        tls(Some("[console]\ntls = \"files\"\n"), &[])
            .unwrap_err()
            .to_string(),
        "invalid console.tls: \"files\" needs console.tls_cert and console.tls_key"
    );
    assert!(
        tls(None, &[("CORRAL_CONSOLE_TLS", "yes")])
            .unwrap_err()
            .to_string()
            .starts_with("invalid console.tls (from CORRAL_CONSOLE_TLS)")
    );
}

#[test]
fn retention_windows_are_durations_and_the_detail_never_outlives_its_entry() {
    let file = "[retention]\nended_contacts = \"7d\"\nevents = \"30d\"\naudit_detail = \"14d\"\nevery = \"15m\"\n";
    let r = load(Some(file), &[], Overrides::default())
        .unwrap()
        .retention;
    assert_eq!(
        (r.ended_contacts, r.events, r.audit_detail, r.every),
        (
            Duration::from_secs(7 * 86_400),
            Duration::from_secs(30 * 86_400),
            Duration::from_secs(14 * 86_400),
            Duration::from_secs(900)
        )
    );
    let err = |file: &str, env: &[(&str, &str)]| {
        load(Some(file), env, Overrides::default())
            .unwrap_err()
            .to_string()
    };
    expect_test::expect![[r#"invalid retention.audit_detail: 400d is longer than retention.events (365d): the detail goes with its entry"#]]
        .assert_eq(&err("[retention]\naudit_detail = \"400d\"\n", &[]));
    expect_test::expect![[r#"invalid retention.events (from CORRAL_RETENTION_EVENTS): "a year" is not a duration like 90s, 15m, 24h or 30d"#]]
        .assert_eq(&err("", &[("CORRAL_RETENTION_EVENTS", "a year")]));
    expect_test::expect!["invalid retention.every: must be at most 1d, or data outlives its window by more than a day"]
        .assert_eq(&err("[retention]\nevery = \"2d\"\n", &[]));
    assert!(err("[retention]\nevent = \"1d\"\n", &[]).contains("unknown field `event`"));
}
