//! Templates and static files, embedded in the binary (so `corral serve` and
//! `corral demo` work from a release binary anywhere): tera templates from
//! `web/templates/`, autoescaped because their names end in `.html`, and the stylesheet
//! from `web/static/`.
//!
//! Must never: turn off autoescaping, or serve anything but the embedded files.

use std::sync::LazyLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::session::Session;

/// Every template, by name: (name, source).
const TEMPLATES: &[(&str, &str)] = &[
    (
        "base.html",
        include_str!("../../../web/templates/base.html"),
    ),
    (
        "login.html",
        include_str!("../../../web/templates/login.html"),
    ),
    (
        "error.html",
        include_str!("../../../web/templates/error.html"),
    ),
    (
        "fleet.html",
        include_str!("../../../web/templates/fleet.html"),
    ),
    (
        "phone.html",
        include_str!("../../../web/templates/phone.html"),
    ),
    (
        "command.html",
        include_str!("../../../web/templates/command.html"),
    ),
    (
        "confirm.html",
        include_str!("../../../web/templates/confirm.html"),
    ),
    (
        "profiles.html",
        include_str!("../../../web/templates/profiles.html"),
    ),
    (
        "profile.html",
        include_str!("../../../web/templates/profile.html"),
    ),
    (
        "version.html",
        include_str!("../../../web/templates/version.html"),
    ),
    (
        "diff.html",
        include_str!("../../../web/templates/diff.html"),
    ),
    (
        "audit.html",
        include_str!("../../../web/templates/audit.html"),
    ),
    (
        "source_listing.html",
        include_str!("../../../web/templates/source_listing.html"),
    ),
    (
        "profile_edit.html",
        include_str!("../../../web/templates/profile_edit.html"),
    ),
    (
        "published.html",
        include_str!("../../../web/templates/published.html"),
    ),
    (
        "assign.html",
        include_str!("../../../web/templates/assign.html"),
    ),
    (
        "assign_confirm.html",
        include_str!("../../../web/templates/assign_confirm.html"),
    ),
    (
        "clone.html",
        include_str!("../../../web/templates/clone.html"),
    ),
    (
        "contacts.html",
        include_str!("../../../web/templates/contacts.html"),
    ),
    (
        "contact.html",
        include_str!("../../../web/templates/contact.html"),
    ),
    (
        "contact_import.html",
        include_str!("../../../web/templates/contact_import.html"),
    ),
    (
        "contact_import_preview.html",
        include_str!("../../../web/templates/contact_import_preview.html"),
    ),
    (
        "person.html",
        include_str!("../../../web/templates/person.html"),
    ),
    (
        "records.html",
        include_str!("../../../web/templates/records.html"),
    ),
    (
        "records_edit.html",
        include_str!("../../../web/templates/records_edit.html"),
    ),
    (
        "erase.html",
        include_str!("../../../web/templates/erase.html"),
    ),
    (
        "erasure.html",
        include_str!("../../../web/templates/erasure.html"),
    ),
    (
        "users.html",
        include_str!("../../../web/templates/users.html"),
    ),
    (
        "account.html",
        include_str!("../../../web/templates/account.html"),
    ),
    (
        "enrollment.html",
        include_str!("../../../web/templates/enrollment.html"),
    ),
    (
        "provisioning.html",
        include_str!("../../../web/templates/provisioning.html"),
    ),
    (
        "public.html",
        include_str!("../../../web/templates/public.html"),
    ),
    (
        "consent_page.html",
        include_str!("../../../web/templates/consent_page.html"),
    ),
    (
        "consent_message.html",
        include_str!("../../../web/templates/consent_message.html"),
    ),
    (
        "privacy_notice.html",
        include_str!("../../../web/templates/privacy_notice.html"),
    ),
    (
        "consent_wording.html",
        include_str!("../../../web/templates/consent_wording.html"),
    ),
    (
        "consent_link.html",
        include_str!("../../../web/templates/consent_link.html"),
    ),
    (
        "consent_links.html",
        include_str!("../../../web/templates/consent_links.html"),
    ),
    (
        "erasures.html",
        include_str!("../../../web/templates/erasures.html"),
    ),
    (
        "bulk_confirm.html",
        include_str!("../../../web/templates/bulk_confirm.html"),
    ),
    (
        "groups.html",
        include_str!("../../../web/templates/groups.html"),
    ),
];

/// The stylesheet, served at [`STYLESHEET_PATH`].
pub const STYLESHEET: &str = include_str!("../../../web/static/console.css");
pub const STYLESHEET_PATH: &str = "/static/console.css";

static ENGINE: LazyLock<Result<tera::Tera, String>> = LazyLock::new(|| {
    let mut tera = tera::Tera::default();
    tera.add_raw_templates(TEMPLATES.iter().copied())
        .map_err(|e| format!("{e:?}"))?;
    Ok(tera)
});

/// Parses every template; `Err` names the broken one. Tests call this.
pub fn check_templates() -> Result<(), String> {
    ENGINE.as_ref().map(|_| ()).map_err(Clone::clone)
}

/// Renders `template`; on failure logs why and answers a bare 500 page.
pub fn html(template: &str, context: &tera::Context) -> Response {
    let rendered = ENGINE
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|t| t.render(template, context).map_err(|e| format!("{e:?}")));
    match rendered {
        Ok(body) => Html(body).into_response(),
        Err(e) => {
            tracing::error!(template, error = %e, "Console template failed.");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("<!doctype html><title>Error</title><p>The page could not be shown; the controller's log has the details.</p>"),
            )
                .into_response()
        }
    }
}

/// A page for a logged-in user: the layout's user name, role, navigation and the CSRF
/// token its forms (logout included) send back.
pub fn page(session: &Session, nav: &str, template: &str, mut context: tera::Context) -> Response {
    context.insert("user", session.user.name.as_str());
    context.insert("role", session.user.role.as_str());
    context.insert("csrf", &session.csrf());
    context.insert("nav", nav);
    html(template, &context)
}

/// `GET /static/console.css`.
pub async fn stylesheet() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        STYLESHEET,
    )
        .into_response()
}
