//! `corral devices`: the fleet from `GET /devices`, as a table for people or as stable
//! JSON for scripts. The JSON is an array, one object per device in the controller's
//! order (oldest enrollment first), always with exactly the fields of [`FIELDS`]
//! (keys in alphabetical order).
//!
//! Must never: change the JSON's field names or meaning (scripts depend on them); add
//! fields at the end of [`FIELDS`] only.

use serde_json::{Map, Value};

use super::http::{Client, RestError};

/// The fields of one device in `--json`, in order.
pub const FIELDS: [&str; 10] = [
    "id",
    "name",
    "serial",
    "status",
    "online",
    "profile",
    "desired_version",
    "applied_version",
    "in_sync",
    "last_seen_at",
];

/// The stable form of one device as the API shows it.
pub fn stable(device: &Value) -> Value {
    let mut out = Map::new();
    for field in FIELDS {
        let source = if field == "profile" {
            "assigned_profile"
        } else {
            field
        };
        out.insert(
            field.to_owned(),
            device.get(source).cloned().unwrap_or(Value::Null),
        );
    }
    Value::Object(out)
}

/// The fleet in stable form.
pub async fn fleet(client: &Client) -> Result<Vec<Value>, RestError> {
    let listed = client.get("/devices").await?;
    let devices = listed.as_array().ok_or_else(|| RestError::BadAnswer {
        url: client.url().to_owned(),
        reason: "GET /devices is not a list".into(),
    })?;
    Ok(devices.iter().map(stable).collect())
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The fleet as a table: device, serial, status, profile and version, last seen.
pub fn table(devices: &[Value]) -> String {
    let header = [
        "DEVICE",
        "SERIAL",
        "STATUS",
        "PROFILE",
        "VERSION",
        "IN SYNC",
        "LAST SEEN",
    ];
    let rows: Vec<[String; 7]> = devices
        .iter()
        .map(|d| {
            let status = match (d["status"].as_str(), d["online"].as_bool()) {
                (Some(s), Some(true)) => format!("{s}, online"),
                (Some(s), _) => format!("{s}, offline"),
                (None, _) => "-".into(),
            };
            let version = cell(&d["applied_version"]);
            [
                cell(&d["id"]),
                cell(&d["serial"]),
                status,
                cell(&d["profile"]),
                version,
                match d["in_sync"].as_bool() {
                    Some(true) => "yes".into(),
                    Some(false) => "no".into(),
                    None => "-".into(),
                },
                cell(&d["last_seen_at"]),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |row: Vec<&str>| {
        row.iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    let mut out = line(header.to_vec());
    out.push('\n');
    for row in &rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
        out.push('\n');
    }
    out.push_str(&format!("{} device(s)\n", devices.len()));
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_stable_form_keeps_exactly_its_fields() {
        let api = json!({
            "id": "0123456789abcdef0123456789abcdef",
            "name": null,
            "serial": "127.0.0.1:5555",
            "group": null,
            "status": "active",
            "online": true,
            "enrolled_at": "2026-11-22T00:00:00Z",
            "last_seen_at": "2026-11-22T00:01:00Z",
            "assigned_profile": "butcher-shop",
            "assigned_via": "device",
            "desired_version": "sha256:0011223344556677",
            "applied_version": "sha256:0011223344556677",
            "in_sync": true,
        });
        let device = stable(&api);
        expect_test::expect![[r#"
            {"applied_version":"sha256:0011223344556677","desired_version":"sha256:0011223344556677","id":"0123456789abcdef0123456789abcdef","in_sync":true,"last_seen_at":"2026-11-22T00:01:00Z","name":null,"online":true,"profile":"butcher-shop","serial":"127.0.0.1:5555","status":"active"}
        "#]]
        .assert_eq(&format!("{}\n", serde_json::to_string(&device).unwrap()));
        expect_test::expect![[r#"
            DEVICE                            SERIAL          STATUS          PROFILE       VERSION                  IN SYNC  LAST SEEN
            0123456789abcdef0123456789abcdef  127.0.0.1:5555  active, online  butcher-shop  sha256:0011223344556677  yes      2026-11-22T00:01:00Z
            1 device(s)
        "#]]
        .assert_eq(&table(&[device]));
    }
}
