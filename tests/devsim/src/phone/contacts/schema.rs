//! The contacts provider's schema: its authority and URIs, the columns of the
//! `raw_contacts`, `data` and `contacts` views (a subset of the real ones, in their
//! order), the mimetypes that name a contact, and the provider's exception type.

use super::sql_where::SqlError;
use super::{Row, Value};

/// The contacts authority.
pub const AUTHORITY: &str = "com.android.contacts";

pub(super) const RAW_STORED: &[&str] = &[
    "_id",
    "contact_id",
    "account_name",
    "account_type",
    "data_set",
    "sourceid",
    "version",
    "dirty",
    "deleted",
    "aggregation_mode",
    "starred",
    "pinned",
    "custom_ringtone",
    "send_to_voicemail",
    "sync1",
    "sync2",
    "sync3",
    "sync4",
];
pub(super) const RAW_VIEW: &[&str] = &[
    "_id",
    "contact_id",
    "account_name",
    "account_type",
    "data_set",
    "sourceid",
    "version",
    "dirty",
    "deleted",
    "aggregation_mode",
    "starred",
    "pinned",
    "custom_ringtone",
    "send_to_voicemail",
    "display_name",
    "display_name_alt",
    "display_name_source",
    "sync1",
    "sync2",
    "sync3",
    "sync4",
];
pub(super) const DATA_STORED: &[&str] = &[
    "_id",
    "raw_contact_id",
    "mimetype",
    "is_primary",
    "is_super_primary",
    "data_version",
    "data1",
    "data2",
    "data3",
    "data4",
    "data5",
    "data6",
    "data7",
    "data8",
    "data9",
    "data10",
    "data11",
    "data12",
    "data13",
    "data14",
    "data15",
    "data_sync1",
    "data_sync2",
    "data_sync3",
    "data_sync4",
];
pub(super) const DATA_VIEW: &[&str] = &[
    "_id",
    "raw_contact_id",
    "contact_id",
    "mimetype",
    "is_primary",
    "is_super_primary",
    "data_version",
    "data1",
    "data2",
    "data3",
    "data4",
    "data5",
    "data6",
    "data7",
    "data8",
    "data9",
    "data10",
    "data11",
    "data12",
    "data13",
    "data14",
    "data15",
    "data_sync1",
    "data_sync2",
    "data_sync3",
    "data_sync4",
    "account_name",
    "account_type",
    "display_name",
];
pub(super) const CONTACTS_VIEW: &[&str] = &[
    "_id",
    "lookup",
    "display_name",
    "display_name_alt",
    "display_name_source",
    "name_raw_contact_id",
    "has_phone_number",
    "starred",
    "pinned",
    "in_visible_group",
];

pub(super) const MIME_NAME: &str = "vnd.android.cursor.item/name";
pub(super) const MIME_NICKNAME: &str = "vnd.android.cursor.item/nickname";
pub(super) const MIME_PHONE: &str = "vnd.android.cursor.item/phone_v2";
pub(super) const MIME_EMAIL: &str = "vnd.android.cursor.item/email_v2";

/// The three tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    RawContacts,
    Data,
    Contacts,
}

/// A parsed contacts URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactsUri {
    pub table: Table,
    pub id: Option<i64>,
    /// `data/phones` and `data/emails` restrict to one mimetype.
    pub mimetype: Option<&'static str>,
    pub sync_adapter: bool,
    /// The URI as given, for messages.
    pub text: String,
}

/// What the provider threw, as the Java exception line `e.toString()` prints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// Another authority: `getContentProviderExternal` finds no provider.
    #[error("java.lang.IllegalStateException: Could not find provider: {0}")]
    NoProvider(String),
    /// A thrown exception, its `toString()`.
    #[error("{0}")]
    Exception(String),
}

impl ProviderError {
    pub(super) fn illegal(msg: String) -> Self {
        ProviderError::Exception(format!("java.lang.IllegalArgumentException: {msg}"))
    }

    pub(super) fn sql(e: SqlError) -> Self {
        ProviderError::Exception(format!(
            "android.database.sqlite.SQLiteException: {e} (code 1 SQLITE_ERROR)"
        ))
    }
}

/// The authority of a `content://` URI.
pub fn authority(uri: &str) -> &str {
    let rest = uri.strip_prefix("content://").unwrap_or(uri);
    rest.split(['/', '?']).next().unwrap_or("")
}

/// Parses a contacts URI; other authorities are [`ProviderError::NoProvider`].
pub fn parse_uri(uri: &str) -> Result<ContactsUri, ProviderError> {
    let auth = authority(uri);
    if auth != AUTHORITY || !uri.starts_with("content://") {
        return Err(ProviderError::NoProvider(auth.to_string()));
    }
    let rest = &uri["content://".len() + auth.len()..];
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let sync_adapter = query.split('&').any(|kv| {
        kv.eq_ignore_ascii_case("caller_is_syncadapter=true") || kv == "caller_is_syncadapter=1"
    });
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let unknown = || ProviderError::illegal(format!("Unknown URL {uri}"));
    let (table, mimetype, id_part) = match parts.as_slice() {
        ["raw_contacts", rest @ ..] => (Table::RawContacts, None, rest),
        ["data", "phones", rest @ ..] => (Table::Data, Some(MIME_PHONE), rest),
        ["data", "emails", rest @ ..] => (Table::Data, Some(MIME_EMAIL), rest),
        ["data", rest @ ..] => (Table::Data, None, rest),
        ["contacts", rest @ ..] => (Table::Contacts, None, rest),
        _ => return Err(unknown()),
    };
    let id = match id_part {
        [] => None,
        [id] => Some(id.parse::<i64>().map_err(|_| unknown())?),
        _ => return Err(unknown()),
    };
    Ok(ContactsUri {
        table,
        id,
        mimetype,
        sync_adapter,
        text: uri.to_string(),
    })
}

pub(super) fn columns(table: Table) -> &'static [&'static str] {
    match table {
        Table::RawContacts => RAW_VIEW,
        Table::Data => DATA_VIEW,
        Table::Contacts => CONTACTS_VIEW,
    }
}

pub(super) fn get(row: &Row, col: &str) -> Value {
    row.get(col).cloned().unwrap_or(Value::Null)
}
