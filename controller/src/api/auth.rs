//! Access control for the REST API: who the caller is (`Authorization: Bearer api-…`) and
//! what their role lets them do, checked on the server for every request.
//!
//! Owns: the role matrix ([`Access::roles`]) and the capabilities handlers receive —
//! [`Reader`], [`Operator`], [`FleetAdmin`]. A handler that changes something takes the
//! capability as an argument, so a route without the check does not type-check, and
//! the actor named in the audit event comes from it.
//! Must never: say why a token was refused beyond "unknown, revoked or expired".
//!
//! | role | read | operate (assign, commands, enrollment tokens) | administer (upload profiles, revoke devices) |
//! |---|---|---|---|
//! | admin | yes | yes | yes |
//! | technician | yes | yes | no |
//! | auditor | yes | no | no |

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::error::ApiError;
use crate::domain::{AdminUser, ApiToken, Role, Timestamp};
use crate::serve::AppState;

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No credentials (the OpenAPI document).
    Public,
    /// Any role: reading the fleet, profiles and the event log.
    Read,
    /// Day-to-day work: assign profiles, send commands, enrollment tokens.
    Operate,
    /// Changes to what the fleet is held to: upload profiles, revoke devices.
    Administer,
}

impl Access {
    /// The roles allowed; empty for [`Access::Public`] (no credentials needed).
    pub fn roles(self) -> &'static [Role] {
        match self {
            Access::Public => &[],
            Access::Read => &[Role::Admin, Role::Technician, Role::Auditor],
            Access::Operate => &[Role::Admin, Role::Technician],
            Access::Administer => &[Role::Admin],
        }
    }

    /// Whether `role` may do this.
    pub fn allows(self, role: Role) -> bool {
        self == Access::Public || self.roles().contains(&role)
    }

    pub(super) fn verb(self) -> &'static str {
        match self {
            Access::Public | Access::Read => "read this",
            Access::Operate => "operate devices and enrollment tokens",
            Access::Administer => "upload profiles or revoke devices",
        }
    }

    pub(super) fn who(self) -> &'static str {
        match self {
            Access::Public => "no credentials",
            Access::Read => "any role",
            Access::Operate => "the admin or technician role",
            Access::Administer => "the admin role",
        }
    }
}

/// An authenticated API user.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: AdminUser,
}

impl Caller {
    /// How the event log names this caller: `user:<name>`.
    pub fn actor(&self) -> String {
        format!("user:{}", self.user.name)
    }
}

/// Reads the bearer token, finds its user and checks `access`.
async fn authorize(parts: &Parts, state: &AppState, access: Access) -> Result<Caller, ApiError> {
    const HOW: &str = "send `Authorization: Bearer <api token>`; `corral admin token` prints one";
    let header = parts
        .headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthorized(format!("no Authorization header; {HOW}")))?;
    let value = header.to_str().map_err(|_| {
        ApiError::Unauthorized(format!("the Authorization header is not text; {HOW}"))
    })?;
    let token = value.strip_prefix("Bearer ").ok_or_else(|| {
        ApiError::Unauthorized(format!(
            "the Authorization header is not a bearer token; {HOW}"
        ))
    })?;
    let token = ApiToken::parse(token.trim()).map_err(|e| {
        ApiError::Unauthorized(format!("the bearer token is not an API token ({e}); {HOW}"))
    })?;
    let user = state
        .store
        .authenticate_api_token(&token, Timestamp::now())
        .await?;
    if !access.allows(user.role) {
        return Err(ApiError::Forbidden {
            role: user.role,
            needs: access,
        });
    }
    Ok(Caller { user })
}

macro_rules! capability {
    ($(#[$meta:meta])* $name:ident, $access:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        pub struct $name(pub Caller);

        impl $name {
            /// What this capability needs.
            pub const ACCESS: Access = $access;

            /// How the event log names the caller.
            pub fn actor(&self) -> String {
                self.0.actor()
            }
        }

        impl FromRequestParts<AppState> for $name {
            type Rejection = ApiError;

            async fn from_request_parts(
                parts: &mut Parts,
                state: &AppState,
            ) -> Result<Self, Self::Rejection> {
                authorize(parts, state, Self::ACCESS).await.map($name)
            }
        }
    };
}

capability!(
    /// Any authenticated user: may read.
    Reader,
    Access::Read
);
capability!(
    /// Admin or technician: may assign profiles, send commands, manage enrollment tokens.
    Operator,
    Access::Operate
);
capability!(
    /// Admin: may upload profiles and revoke devices.
    FleetAdmin,
    Access::Administer
);
