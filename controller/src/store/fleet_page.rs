//! The fleet as the console lists it: one page of phones with their effective profile,
//! filtered, sorted and paged inside the database, plus the total that matched.
//!
//! Owns: [`FleetQuery`] → SQL. Every filter is a bound parameter; the only text spliced
//! into the statement comes from `&'static str` fragments chosen by enums, so a query
//! string from the browser can never become SQL.
//! Must never: load the whole fleet to filter it in memory (10,000 phones must stay fast).

use sqlx::any::AnyRow;

use super::rows::{ms, opt_json, opt_parsed, opt_text, opt_time, parsed, text, time};
use super::{Result, Store, StoreError};
use crate::domain::{
    DeviceId, DeviceName, DeviceStatus, GroupName, ProfileName, Timestamp, VersionHash,
};

/// Whether the gateway heard from a phone recently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Seen within the online window.
    Online,
    /// Not seen within the online window (or never).
    Offline,
}

/// A column the fleet can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FleetSort {
    #[default]
    Name,
    LastSeen,
    Enrolled,
    Android,
    Profile,
}

impl FleetSort {
    fn column(self) -> &'static str {
        match self {
            FleetSort::Name => "d.name",
            FleetSort::LastSeen => "d.last_seen_at",
            FleetSort::Enrolled => "d.enrolled_at",
            FleetSort::Android => "d.android_release",
            FleetSort::Profile => "COALESCE(ad.profile_name, ag.profile_name)",
        }
    }
}

/// Which phones, in which order, which page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetQuery {
    /// Case-insensitive substring of the name, id, serial or group.
    pub search: Option<String>,
    pub status: Option<DeviceStatus>,
    pub connection: Option<Presence>,
    /// Only phones whose last report showed drift.
    pub drifting: bool,
    /// Only phones whose effective profile is this one.
    pub profile: Option<ProfileName>,
    /// Only phones in this group.
    pub group: Option<GroupName>,
    pub sort: FleetSort,
    pub descending: bool,
    pub offset: u32,
    pub limit: u32,
}

impl Default for FleetQuery {
    fn default() -> Self {
        FleetQuery {
            search: None,
            status: None,
            connection: None,
            drifting: false,
            profile: None,
            group: None,
            sort: FleetSort::Name,
            descending: false,
            offset: 0,
            limit: 50,
        }
    }
}

/// One phone as the fleet page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetRow {
    pub id: DeviceId,
    pub name: DeviceName,
    pub serial: Option<String>,
    pub group: Option<GroupName>,
    pub status: DeviceStatus,
    pub enrolled_at: Timestamp,
    pub last_seen_at: Option<Timestamp>,
    pub model: Option<String>,
    pub android_release: Option<String>,
    /// The effective profile: the phone's own assignment, else its group's.
    pub profile: Option<ProfileName>,
    /// The version of that profile the phone should run (a staged rollout's for its group).
    pub desired_version: Option<VersionHash>,
    pub applied_version: Option<VersionHash>,
    pub drift: Option<serde_json::Value>,
}

impl FleetRow {
    /// Whether the last report showed differences from the profile.
    pub fn drifting(&self) -> bool {
        is_drift(self.drift.as_ref())
    }
}

/// Drift is a JSON value; `null`, `[]` and `{}` mean none.
pub fn is_drift(drift: Option<&serde_json::Value>) -> bool {
    match drift {
        None | Some(serde_json::Value::Null) => false,
        // A drift report (`{"items": [...], "repaired": …}`) with nothing in it.
        Some(serde_json::Value::Object(o))
            if o.get("items")
                .and_then(serde_json::Value::as_array)
                .is_some_and(Vec::is_empty) =>
        {
            false
        }
        Some(serde_json::Value::Array(a)) => !a.is_empty(),
        Some(serde_json::Value::Object(o)) => !o.is_empty(),
        Some(_) => true,
    }
}

/// One page of the fleet and how many phones matched in all.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetPage {
    pub rows: Vec<FleetRow>,
    pub total: u64,
}

/// The desired version is [`super::rollouts::version_for_device`]: a staged rollout's
/// version for its group, the profile's current version for everyone else.
const SELECT: &str = concat!(
    "SELECT d.id, d.name, d.serial, d.group_name, d.status, d.enrolled_at, \
     d.last_seen_at, d.model, d.android_release, d.applied_version, d.drift, \
     COALESCE(ad.profile_name, ag.profile_name) AS profile_name, ",
    super::rollouts::version_for_device!(),
    " AS current_version"
);

const FROM: &str = " FROM devices d \
     LEFT JOIN assignments ad ON ad.device_id = d.id \
     LEFT JOIN assignments ag ON d.group_name IS NOT NULL AND ag.group_name = d.group_name \
     LEFT JOIN profiles p ON p.name = COALESCE(ad.profile_name, ag.profile_name)";

/// Escapes `%`, `_` and `\\` for a `LIKE … ESCAPE '\\'` pattern.
pub(super) fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The separator between the searched fields: a line feed, as a string literal (both
/// engines take a raw line feed inside quotes; they share no function that makes one).
const SEP: &str = "'\n'";

fn like_pattern(needle: &str) -> String {
    let needle: String = needle.chars().filter(|c| !c.is_control()).collect();
    format!("%{}%", like_escape(&needle.to_lowercase()))
}

/// A bound value of the WHERE clause.
enum Bind {
    Text(String),
    Int(i64),
}

fn row(row: &AnyRow) -> Result<FleetRow> {
    Ok(FleetRow {
        id: parsed(row, "id")?,
        name: parsed(row, "name")?,
        serial: opt_text(row, "serial")?,
        group: opt_parsed(row, "group_name")?,
        status: DeviceStatus::parse(&text(row, "status")?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        enrolled_at: time(row, "enrolled_at")?,
        last_seen_at: opt_time(row, "last_seen_at")?,
        model: opt_text(row, "model")?,
        android_release: opt_text(row, "android_release")?,
        profile: opt_parsed(row, "profile_name")?,
        desired_version: opt_parsed(row, "current_version")?,
        applied_version: opt_parsed(row, "applied_version")?,
        drift: opt_json(row, "drift")?,
    })
}

/// The WHERE clause of a [`FleetQuery`] with its bound values, and whether it reads the
/// effective profile (and so needs the assignment joins).
struct Filter {
    sql: String,
    binds: Vec<Bind>,
    reads_profile: bool,
}

impl Filter {
    fn of(query: &FleetQuery, online_since: Timestamp) -> Filter {
        let mut conditions: Vec<String> = Vec::new();
        let mut filter = Filter {
            sql: String::new(),
            binds: Vec::new(),
            reads_profile: false,
        };
        if let Some(search) = query
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let p = filter.bind(Bind::Text(like_pattern(search)));
            // One LOWER and one LIKE per row over the four fields joined by a line feed,
            // which the pattern never holds (control characters are dropped from it), so a
            // match never spans two fields.
            conditions.push(format!(
                "LOWER(d.name || {SEP} || d.id || {SEP} || COALESCE(d.serial, '') || {SEP} \
                 || COALESCE(d.group_name, '')) LIKE {p} ESCAPE '\\'"
            ));
        }
        if let Some(status) = query.status {
            let p = filter.bind(Bind::Text(status.as_str().to_owned()));
            conditions.push(format!("d.status = {p}"));
        }
        match query.connection {
            Some(Presence::Online) => {
                let p = filter.bind(Bind::Int(ms(online_since)));
                conditions.push(format!("d.last_seen_at >= {p}"));
            }
            Some(Presence::Offline) => {
                let p = filter.bind(Bind::Int(ms(online_since)));
                conditions.push(format!("(d.last_seen_at IS NULL OR d.last_seen_at < {p})"));
            }
            None => {}
        }
        if query.drifting {
            conditions
                .push("(d.drift IS NOT NULL AND d.drift NOT IN ('null', '[]', '{}') AND d.drift NOT LIKE '{\"items\":[]%')".to_owned());
        }
        if let Some(profile) = &query.profile {
            let p = filter.bind(Bind::Text(profile.as_str().to_owned()));
            conditions.push(format!("COALESCE(ad.profile_name, ag.profile_name) = {p}"));
            filter.reads_profile = true;
        }
        if let Some(group) = &query.group {
            let p = filter.bind(Bind::Text(group.as_str().to_owned()));
            conditions.push(format!("d.group_name = {p}"));
        }
        if !conditions.is_empty() {
            filter.sql = format!(" WHERE {}", conditions.join(" AND "));
        }
        filter
    }

    /// Adds a bound value; returns its placeholder.
    fn bind(&mut self, bind: Bind) -> String {
        self.binds.push(bind);
        format!("${}", self.binds.len())
    }
}

/// ` ORDER BY …` for the query's sort: NULLs last in both directions and on both engines
/// (`NULLS LAST`, which SQLite answers from the column's index too), then the id as a
/// unique tie-breaker so pages never overlap.
fn order_by(query: &FleetQuery) -> String {
    let direction = if query.descending { "DESC" } else { "ASC" };
    format!(
        " ORDER BY {col} {direction} NULLS LAST, d.id {direction}",
        col = query.sort.column()
    )
}

impl FleetSort {
    /// Whether the sort reads the effective profile (and so needs the joins).
    fn reads_profile(self) -> bool {
        self == FleetSort::Profile
    }
}

fn bind_all<'q>(
    sql: String,
    binds: &[Bind],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for b in binds {
        q = match b {
            Bind::Text(t) => q.bind(t.clone()),
            Bind::Int(i) => q.bind(*i),
        };
    }
    q
}

impl Store {
    /// One page of the fleet. `online_since`: a phone seen at or after it counts as
    /// online for [`FleetQuery::connection`].
    pub async fn fleet_page(
        &self,
        query: &FleetQuery,
        online_since: Timestamp,
    ) -> Result<FleetPage> {
        let mut filter = Filter::of(query, online_since);
        // The assignment joins never multiply rows (one assignment per device and per
        // group), so the count needs them only to filter by profile.
        let count_from = if filter.reads_profile {
            FROM
        } else {
            " FROM devices d"
        };
        let count_sql = format!("SELECT COUNT(*) AS n{count_from}{}", filter.sql);
        let total = bind_all(count_sql, &filter.binds)
            .fetch_one(&self.pool)
            .await?;
        let total = u64::try_from(super::rows::int(&total, "n")?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if total <= u64::from(query.offset) {
            return Ok(FleetPage {
                rows: Vec::new(),
                total,
            });
        }
        // Two steps: the page's ids from `devices` alone (an index walk for the sorts on
        // its columns, so a last page costs index entries, not joined rows), then those
        // rows with their effective profile.
        let ids_from = if filter.reads_profile || query.sort.reads_profile() {
            FROM
        } else {
            " FROM devices d"
        };
        let limit = filter.bind(Bind::Int(i64::from(query.limit)));
        let offset = filter.bind(Bind::Int(i64::from(query.offset)));
        let ids_sql = format!(
            "SELECT d.id{ids_from}{}{} LIMIT {limit} OFFSET {offset}",
            filter.sql,
            order_by(query)
        );
        let ids: Vec<DeviceId> = bind_all(ids_sql, &filter.binds)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| parsed(r, "id"))
            .collect::<Result<_>>()?;
        if ids.is_empty() {
            return Ok(FleetPage {
                rows: Vec::new(),
                total,
            });
        }
        let rows_sql = format!(
            "{SELECT}{FROM} WHERE d.id IN ({})",
            super::placeholders(1, ids.len())
        );
        let found = super::bind_all(sqlx::query(sqlx::AssertSqlSafe(rows_sql)), &ids)
            .fetch_all(&self.pool)
            .await?;
        let mut by_id: std::collections::HashMap<DeviceId, FleetRow> = found
            .iter()
            .map(|r| row(r).map(|row| (row.id.clone(), row)))
            .collect::<Result<_>>()?;
        // A phone deleted between the two statements is left out of the page.
        let rows = ids.iter().filter_map(|id| by_id.remove(id)).collect();
        Ok(FleetPage { rows, total })
    }

    /// The ids of every phone `query` matches (its offset and limit ignored), in its order,
    /// at most `cap`: what a bulk action on "all phones matching this filter" acts on.
    pub async fn fleet_ids(
        &self,
        query: &FleetQuery,
        online_since: Timestamp,
        cap: u32,
    ) -> Result<Vec<DeviceId>> {
        let mut filter = Filter::of(query, online_since);
        let limit = filter.bind(Bind::Int(i64::from(cap)));
        let sql = format!(
            "SELECT d.id{FROM}{}{} LIMIT {limit}",
            filter.sql,
            order_by(query)
        );
        let rows = bind_all(sql, &filter.binds).fetch_all(&self.pool).await?;
        rows.iter().map(|r| parsed(r, "id")).collect()
    }

    /// One phone as the fleet page shows it.
    pub async fn fleet_row(&self, id: &DeviceId) -> Result<FleetRow> {
        let found = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT}{FROM} WHERE d.id = $1"
        )))
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("device {id}")))?;
        row(&found)
    }

    /// Records the phone's model and Android release as reported at enrollment, for the
    /// console. Text is cut to 64 characters without control characters.
    pub async fn record_device_info(
        &self,
        id: &DeviceId,
        model: &str,
        android_release: &str,
    ) -> Result<()> {
        let clean = |s: &str| -> Option<String> {
            let s: String = s.chars().filter(|c| !c.is_control()).take(64).collect();
            (!s.trim().is_empty()).then_some(s)
        };
        sqlx::query("UPDATE devices SET model = $2, android_release = $3 WHERE id = $1")
            .bind(id.as_str())
            .bind(clean(model))
            .bind(clean(android_release))
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
