//! Console and API users, their roles and API token records.

use super::{ParseError, Timestamp, TokenPrefix, UserName};

/// A user's database id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserId(pub i64);

/// What a user may do. Checked by the access-control layer, not by the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything, including users and tokens.
    Admin,
    /// Devices, enrollment and profile assignment; no user management.
    Technician,
    /// Read-only, including the event log.
    Auditor,
}

impl Role {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Technician => "technician",
            Role::Auditor => "auditor",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        match s {
            "admin" => Ok(Role::Admin),
            "technician" => Ok(Role::Technician),
            "auditor" => Ok(Role::Auditor),
            other => Err(ParseError::new("role", format!("unknown role {other:?}"))),
        }
    }
}

/// A person who uses the console or the API.
#[derive(Debug, Clone, PartialEq)]
pub struct AdminUser {
    pub id: UserId,
    pub name: UserName,
    pub role: Role,
    pub created_at: Timestamp,
    pub disabled_at: Option<Timestamp>,
}

/// An API token as stored (only its prefix and a hash of its secret).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiTokenRecord {
    pub prefix: TokenPrefix,
    pub user: UserId,
    pub label: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}
