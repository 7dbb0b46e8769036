//! Device groups as the console lists them. A group is not a table of its own: it exists
//! while a phone is in it (`devices.group_name`) or a profile is assigned to it
//! (`assignments.group_name`). Moving phones between groups is in `bulk` and `devices`.
//!
//! Must never: load the fleet to count it (one GROUP BY over the group index).

use super::rows::{int, opt_parsed, parsed};
use super::{Result, Store};
use crate::domain::{GroupName, ProfileName};

/// One group with its phone counts and its profile assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSummary {
    pub name: GroupName,
    /// Active phones in the group.
    pub active: u64,
    /// Revoked phones still recorded in the group.
    pub revoked: u64,
    /// The profile assigned to the group, if any.
    pub profile: Option<ProfileName>,
}

impl Store {
    /// Every group by name, with its phone counts and assigned profile.
    pub async fn groups(&self) -> Result<Vec<GroupSummary>> {
        let rows = sqlx::query(
            "SELECT g.name, \
             COALESCE(c.active, 0) AS active, COALESCE(c.revoked, 0) AS revoked, a.profile_name \
             FROM (SELECT group_name AS name FROM devices WHERE group_name IS NOT NULL \
                   UNION SELECT group_name FROM assignments WHERE group_name IS NOT NULL) g \
             LEFT JOIN (SELECT group_name, \
                          SUM(CASE WHEN status = 'active' THEN 1 ELSE 0 END) AS active, \
                          SUM(CASE WHEN status = 'active' THEN 0 ELSE 1 END) AS revoked \
                        FROM devices WHERE group_name IS NOT NULL GROUP BY group_name) c \
               ON c.group_name = g.name \
             LEFT JOIN assignments a ON a.group_name = g.name \
             ORDER BY g.name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let count = |column| int(row, column).map(|n| u64::try_from(n).unwrap_or(0));
                Ok(GroupSummary {
                    name: parsed(row, "name")?,
                    active: count("active")?,
                    revoked: count("revoked")?,
                    profile: opt_parsed(row, "profile_name")?,
                })
            })
            .collect()
    }
}
