//! Users and roles (admins only): the list, creating a user (a generated password shown
//! once, or a typed one that passes `password_policy`), changing a role, disabling and
//! enabling. The store refuses to leave no active admin and ends a disabled user's
//! sessions and API tokens in the same transaction; every change is an audit event.
//!
//! Must never: show a password again after the creation page, or put one in a URL.

use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::ConsoleState;
use super::error::ConsoleError;
use super::password_policy;
use super::render;
use super::session::Admin;
use crate::domain::{Password, PasswordHash, Role, Timestamp, UserName};

fn user_name(text: &str) -> Result<UserName, ConsoleError> {
    UserName::parse(text.trim()).map_err(|e| ConsoleError::BadRequest(e.to_string()))
}

fn role(text: &str) -> Result<Role, ConsoleError> {
    Role::parse(text.trim()).map_err(|e| ConsoleError::BadRequest(e.to_string()))
}

async fn list_page(
    console: &ConsoleState,
    admin: &Admin,
    created: Option<(&str, &str, Option<&str>)>,
    error: Option<&str>,
) -> Result<Response, ConsoleError> {
    let users: Vec<serde_json::Value> = console
        .app
        .store
        .users()
        .await?
        .iter()
        .map(|u| {
            serde_json::json!({
                "name": u.name.as_str(),
                "role": u.role.as_str(),
                "created_at": u.created_at.to_string(),
                "disabled_at": u.disabled_at.map(|t| t.to_string()),
                "me": u.id == admin.0.user.id,
            })
        })
        .collect();
    let mut context = tera::Context::new();
    context.insert("users", &users);
    context.insert("roles", &["admin", "technician", "auditor"]);
    context.insert("error", &error);
    if let Some((name, role, password)) = created {
        context.insert(
            "created",
            &serde_json::json!({ "name": name, "role": role, "password": password }),
        );
    }
    let mut response = render::page(&admin.0, "users", "users.html", context);
    if error.is_some() {
        *response.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

/// `GET /users`.
pub async fn list(
    admin: Admin,
    State(console): State<ConsoleState>,
) -> Result<Response, ConsoleError> {
    list_page(&console, &admin, None, None).await
}

/// The create form (`csrf` is checked by the guard); an empty password means "generate".
#[derive(Debug, Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub password: String,
}

/// `POST /users`: creates the user and answers the list with the new user's password
/// shown this once (when generated).
pub async fn create(
    admin: Admin,
    State(console): State<ConsoleState>,
    Form(form): Form<CreateForm>,
) -> Result<Response, ConsoleError> {
    let name = user_name(&form.name)?;
    let role = role(&form.role)?;
    let (password, generated) = if form.password.is_empty() {
        (Password::generate(), true)
    } else {
        match password_policy::check(&form.password, name.as_str()) {
            Ok(p) => (p, false),
            Err(why) => return list_page(&console, &admin, None, Some(&why)).await,
        }
    };
    let shown = generated.then(|| password.reveal().to_owned());
    let hash = tokio::task::spawn_blocking(move || PasswordHash::create(&password))
        .await
        .map_err(ConsoleError::internal)?
        .map_err(ConsoleError::internal)?;
    console
        .app
        .store
        .create_user(&name, role, &hash, &admin.actor(), Timestamp::now())
        .await?;
    list_page(
        &console,
        &admin,
        Some((name.as_str(), role.as_str(), shown.as_deref())),
        None,
    )
    .await
}

/// The role form.
#[derive(Debug, Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    pub role: String,
}

/// `POST /users/{name}/role`.
pub async fn set_role(
    admin: Admin,
    State(console): State<ConsoleState>,
    Path(name): Path<String>,
    Form(form): Form<RoleForm>,
) -> Result<Response, ConsoleError> {
    let name = user_name(&name)?;
    let role = role(&form.role)?;
    console
        .app
        .store
        .set_user_role(&name, role, &admin.actor(), Timestamp::now())
        .await?;
    Ok(Redirect::to("/users").into_response())
}

/// `POST /users/{name}/disable`: the user's sessions and API tokens end at once.
pub async fn disable(
    admin: Admin,
    State(console): State<ConsoleState>,
    Path(name): Path<String>,
) -> Result<Response, ConsoleError> {
    let name = user_name(&name)?;
    console
        .app
        .store
        .set_user_disabled(&name, true, &admin.actor(), Timestamp::now())
        .await?;
    Ok(Redirect::to("/users").into_response())
}

/// `POST /users/{name}/enable`.
pub async fn enable(
    admin: Admin,
    State(console): State<ConsoleState>,
    Path(name): Path<String>,
) -> Result<Response, ConsoleError> {
    let name = user_name(&name)?;
    console
        .app
        .store
        .set_user_disabled(&name, false, &admin.actor(), Timestamp::now())
        .await?;
    Ok(Redirect::to("/users").into_response())
}
