//! The console's route table: every page and form once, with the access it needs. The
//! router is built from it, and `controller/tests/console_access.rs` requests every row as
//! every role (and without a session) against a matrix written out in the test, so a route
//! added here without a matching row there fails.
//!
//! Must never: hold logic; handlers live in the page modules.

use axum::routing::{MethodRouter, get, post};

use super::{
    ConsoleState, account, assign, audit, bulk, clone, consent, consent_page, contact_import,
    contacts, enrollment, fleet, groups, login, person, phone, phone_detail, profile_download,
    profile_edit, profiles, provisioning, records, render, rollout, users,
};
use crate::api::auth::Access;

/// The HTTP methods the console uses: GET shows, POST changes (never the other way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
}

impl Verb {
    /// Upper case, as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
        }
    }
}

/// One console route.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub verb: Verb,
    /// With `{name}` placeholders (axum's syntax).
    pub path: &'static str,
    /// [`Access::Public`]: no session needed; otherwise the roles of the capability the
    /// handler takes.
    pub access: Access,
    pub summary: &'static str,
    pub handler: fn() -> MethodRouter<ConsoleState>,
}

macro_rules! route {
    ($verb:ident $path:literal, $access:ident, $summary:literal, $handler:path) => {
        Route {
            verb: Verb::$verb,
            path: $path,
            access: Access::$access,
            summary: $summary,
            handler: || (route!(@method $verb))($handler),
        }
    };
    (@method Get) => { get };
    (@method Post) => { post };
}

/// Every console route.
pub static ROUTES: &[Route] = &[
    route!(Get "/", Read, "Start page: the fleet", fleet::home),
    route!(Get "/login", Public, "The login form", login::form),
    route!(Post "/login", Public, "Log in", login::submit),
    route!(Post "/logout", Read, "Log out", login::logout),
    route!(Get "/fleet", Read, "The fleet: search, filter, sort, pages", fleet::list),
    route!(Get "/phones/{id}", Read, "One phone", phone::show),
    route!(Get "/phones/{id}/commands/{command}", Read, "One command of a phone with its output", phone_detail::command_output),
    route!(Get "/phones/{id}/resync", Operate, "Confirm a re-sync", phone::confirm_resync),
    route!(Post "/phones/{id}/resync", Operate, "Re-sync a phone", phone::resync),
    route!(Get "/phones/{id}/reboot", Operate, "Confirm a reboot", phone::confirm_reboot),
    route!(Post "/phones/{id}/reboot", Operate, "Reboot a phone", phone::reboot),
    route!(Get "/phones/{id}/collect-logs", Operate, "Confirm a log collection", phone::confirm_collect_logs),
    route!(Post "/phones/{id}/collect-logs", Operate, "Collect a phone's agent log", phone::collect_logs),
    route!(Get "/phones/{id}/remove-work-profile", Administer, "Confirm removing the work profile", phone::confirm_remove_work_profile),
    route!(Post "/phones/{id}/remove-work-profile", Administer, "Remove a phone's work profile", phone::remove_work_profile),
    route!(Get "/phones/{id}/revoke", Administer, "Confirm a revocation", phone::confirm_revoke),
    route!(Post "/phones/{id}/revoke", Administer, "Revoke a phone", phone::revoke),
    route!(Get "/profiles", Read, "Profiles", profiles::list),
    route!(Get "/profiles/{name}", Read, "One profile and its versions", profiles::show),
    route!(Get "/profiles/{name}/versions/{version}", Read, "One version's canonical TOML", profiles::version),
    route!(Get "/profiles/{name}/diff", Read, "The diff between two versions", profiles::diff),
    route!(Get "/audit", Read, "The audit log, filterable", audit::list),
    route!(Get "/static/console.css", Public, "The stylesheet", render::stylesheet),
    route!(Get "/profiles/{name}/edit", Administer, "The profile's source in an editor", profile_edit::form),
    route!(Post "/profiles/{name}/edit", Administer, "Validate, then publish or stage an edit", profile_edit::submit),
    route!(Get "/profile-upload", Administer, "The upload form", profile_edit::upload_form),
    route!(Post "/profile-upload", Administer, "Validate and publish an uploaded file", profile_edit::upload),
    route!(Post "/profile-upload/file", Administer, "Upload a profile file (multipart file picker)", profile_edit::upload_file),
    route!(Get "/profiles/{name}/source.toml", Read, "Download the current source", profile_download::source),
    route!(Get "/profiles/{name}/versions/{version}/toml", Read, "Download a version's canonical TOML", profile_download::version),
    route!(Get "/profiles/{name}/assign", Operate, "Choose a group or phones for a profile", assign::form),
    route!(Post "/profiles/{name}/assign", Operate, "Confirm, then assign a profile", assign::submit),
    route!(Post "/profiles/{name}/rollout/promote", Administer, "Promote a staged version to every phone", rollout::promote),
    route!(Post "/profiles/{name}/rollout/abort", Administer, "Abort a staged rollout", rollout::abort),
    route!(Get "/phones/{id}/clone", Operate, "A phone captured as a profile, for review", clone::show),
    route!(Post "/phones/{id}/clone", Operate, "Save a phone's capture as a new profile", clone::save),
    route!(Get "/contacts", Read, "The contact book: search, groups", contacts::list),
    route!(Get "/contacts/new", Operate, "The new-contact form", contacts::new_form),
    route!(Post "/contacts/new", Operate, "Add a contact", contacts::create),
    route!(Get "/contacts/{id}", Read, "One contact with its lawful basis", contacts::show),
    route!(Post "/contacts/{id}", Operate, "Change a contact", contacts::update),
    route!(Get "/contacts/{id}/erase", Operate, "Confirm an erasure", contacts::confirm_erase),
    route!(Post "/contacts/{id}/erase", Operate, "Erase a contact from every phone", contacts::erase),
    route!(Get "/erasures/{id}", Read, "An erasure's per-phone proof", contacts::erasure),
    route!(Post "/contact-groups", Operate, "Create a contact group", contacts::create_group),
    route!(Get "/audit/export.csv", Read, "The filtered audit log as CSV", audit::export_csv),
    route!(Get "/audit/export.json", Read, "The filtered audit log as JSON", audit::export_json),
    route!(Get "/users", Administer, "Users and roles", users::list),
    route!(Post "/users", Administer, "Create a user", users::create),
    route!(Post "/users/{name}/role", Administer, "Change a user's role", users::set_role),
    route!(Post "/users/{name}/disable", Administer, "Disable a user, ending their sessions and tokens", users::disable),
    route!(Post "/users/{name}/enable", Administer, "Enable a user again", users::enable),
    route!(Get "/account", Read, "Account settings: password and sessions", account::show),
    route!(Post "/account/password", Read, "Change one's own password", account::change_password),
    route!(Post "/account/sessions/{prefix}/end", Read, "End one of one's own sessions", account::end_session),
    route!(Get "/enrollment", Operate, "Enrollment tokens", enrollment::show),
    route!(Post "/enrollment/tokens", Operate, "Create an enrollment token, shown once", enrollment::create),
    route!(Post "/enrollment/tokens/{prefix}/revoke", Operate, "Revoke an enrollment token", enrollment::revoke),
    route!(Get "/provisioning", Read, "Live view of phones being provisioned", provisioning::live),
    route!(Get "/consent-wording", Read, "The consent wording and its versions", consent::wording),
    route!(Post "/consent-wording", Administer, "Save a new version of the consent wording", consent::set_wording),
    route!(Get "/contacts/{id}/consent", Read, "A contact's consent links", consent::links),
    route!(Post "/contacts/{id}/consent-link", Operate, "Create a consent link, shown once", consent::create_link),
    route!(Get "/consent/{token}", Public, "A contact's consent page: wording, confirm or withdraw", consent_page::show),
    route!(Post "/consent/{token}", Public, "The contact confirms their consent", consent_page::confirm),
    route!(Post "/consent/{token}/withdraw", Public, "The contact withdraws their consent", consent_page::withdraw),
    route!(Get "/privacy-notice", Public, "The built-in privacy notice", consent_page::privacy_notice),
    route!(Get "/erasures", Read, "Every erasure and withdrawal with its confirmations", consent::erasures),
    route!(Get "/contacts/import", Operate, "The contact import file picker", contact_import::form),
    route!(Post "/contacts/import", Operate, "Preview an uploaded CSV or vCard file", contact_import::upload),
    route!(Post "/contacts/import/confirm", Operate, "Import a previewed file's valid rows", contact_import::confirm),
    route!(Get "/contacts/export.csv", Operate, "The contact book as CSV", contact_import::export_csv),
    route!(Get "/contacts/export.vcf", Operate, "The contact book as vCard", contact_import::export_vcard),
    route!(Get "/contacts/{id}/record", Operate, "Everything held about a person", person::show),
    route!(Get "/contacts/{id}/record.json", Operate, "Everything held about a person, as JSON", person::download),
    route!(Get "/privacy/records", Read, "The records of processing (Art. 30)", records::show),
    route!(Get "/privacy/records.md", Read, "The records of processing as Markdown", records::markdown),
    route!(Get "/privacy/records/edit", Administer, "Edit what only a person can know", records::edit_form),
    route!(Post "/privacy/records", Administer, "Save the records' editable fields", records::save),
    route!(Post "/privacy/retention/run", Administer, "Run the retention job now", records::run_retention),
    route!(Post "/fleet/bulk", Operate, "Confirm, then run a bulk action on chosen phones", bulk::submit),
    route!(Get "/groups", Read, "Groups with their phone counts", groups::list),
];
