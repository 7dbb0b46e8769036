//! `content query|insert|update|delete|gettype` against a user's contacts provider,
//! parsed and printed like `cmds/content/Content.java`.
//!
//! Parse errors print the usage and `[ERROR] …` on stdout; provider errors print
//! `Error while accessing provider:<authority>` and a stack trace on stderr; the exit
//! code is 0 in every case, because `Content.main` returns normally. A user that does
//! not exist or is not running has no provider ("Could not find provider").

use super::Ctx;
use crate::phone::contacts::schema::{self as provider, authority};
use crate::phone::contacts::{ProviderError, Value};

const USAGE: &str = "usage: adb shell content [subcommand] [options]

usage: adb shell content insert --uri <URI> [--user <USER_ID>] --bind <BINDING> [--bind <BINDING>...] [--extra <BINDING>...]
  <URI> a content provider URI.
  <BINDING> binds a typed value to a column and is formatted:
  <COLUMN_NAME>:<TYPE>:<COLUMN_VALUE> where:
  <TYPE> specifies data type such as:
  b - boolean, s - string, i - integer, l - long, f - float, d - double, n - null
  Note: Omit the value for passing an empty string, e.g column:s:
  Example:
  # Add \"new_setting\" secure setting with value \"new_value\".
  adb shell content insert --uri content://settings/secure --bind name:s:new_setting --bind value:s:new_value

usage: adb shell content update --uri <URI> [--user <USER_ID>] [--where <WHERE>] [--extra <BINDING>...]
  <WHERE> is a SQL style where clause in quotes (You have to escape single quotes - see example below).
  Example:
  # Change \"new_setting\" secure setting to \"newer_value\".
  adb shell content update --uri content://settings/secure --bind value:s:newer_value --where \"name='new_setting'\"

usage: adb shell content delete --uri <URI> [--user <USER_ID>] --bind <BINDING> [--bind <BINDING>...] [--where <WHERE>] [--extra <BINDING>...]
  Example:
  # Remove \"new_setting\" secure setting.
  adb shell content delete --uri content://settings/secure --where \"name='new_setting'\"

usage: adb shell content query --uri <URI> [--user <USER_ID>] [--projection <PROJECTION>] [--where <WHERE>] [--sort <SORT_ORDER>] [--extra <BINDING>...]
  <PROJECTION> is a list of colon separated column names and is formatted:
  <COLUMN_NAME>[:<COLUMN_NAME>...]
  <SORT_ORDER> is the order in which rows in the result should be sorted.
  Example:
  # Select \"name\" and \"value\" columns from secure settings where \"name\" is equal to \"new_setting\" and sort the result by name in ascending order.
  adb shell content query --uri content://settings/secure --projection name:value --where \"name='new_setting'\" --sort \"name ASC\"

usage: adb shell content call --uri <URI> --method <METHOD> [--arg <ARG>]
       [--extra <BINDING> ...]
  <METHOD> is the name of a provider-defined method
  <ARG> is an optional string argument
  <BINDING> is like --bind above, typed data of the form <KEY>:{b,s,i,l,f,d}:<VAL>

usage: adb shell content read --uri <URI> [--user <USER_ID>]
  Example:
  adb shell 'content read --uri content://settings/system/ringtone_cache' > host.ogg

usage: adb shell content write --uri <URI> [--user <USER_ID>]
  Example:
  adb shell 'content write --uri content://settings/system/ringtone_cache' < host.ogg

usage: adb shell content gettype --uri <URI> [--user <USER_ID>]
  Example:
  adb shell content gettype --uri content://media/internal/audio/media/

";

const CLIENT_FRAMES: &[&str] = &[
    "com.android.commands.content.Content$Command.execute(Content.java:524)",
    "com.android.commands.content.Content.main(Content.java:746)",
    "com.android.internal.os.RuntimeInit.nativeFinishInit(Native Method)",
    "com.android.internal.os.RuntimeInit.main(RuntimeInit.java:399)",
];
/// The frames of an exception thrown inside the provider during `op`.
fn remote_frames(op: &str) -> Vec<String> {
    let class = match op {
        "insert" => "Insert",
        "update" => "Update",
        "delete" => "Delete",
        "gettype" => "GetType",
        "call" => "Call",
        "read" => "Read",
        "write" => "Write",
        _ => "Query",
    };
    let method = if op == "gettype" { "getType" } else { op };
    vec![
        "android.database.DatabaseUtils.readExceptionFromParcel(DatabaseUtils.java:172)".into(),
        "android.database.DatabaseUtils.readExceptionFromParcel(DatabaseUtils.java:142)".into(),
        format!("android.content.ContentProviderProxy.{method}(ContentProviderNative.java:483)"),
        format!("com.android.commands.content.Content${class}Command.onExecute(Content.java:660)"),
        "com.android.commands.content.Content$Command.execute(Content.java:522)".into(),
        "com.android.commands.content.Content.main(Content.java:746)".into(),
    ]
}

/// A parsed invocation.
#[derive(Debug, Default)]
struct Request {
    op: String,
    uri: Option<String>,
    user: i32,
    binds: Vec<(String, Value)>,
    projection: Option<Vec<String>>,
    selection: Option<String>,
    sort: Option<String>,
    method: Option<String>,
}

/// `Content.Parser`: the same acceptance rules and messages.
fn parse(argv: &[String]) -> Result<Request, String> {
    let op = argv.get(1).cloned().unwrap_or_else(|| "null".into());
    let allowed: &[&str] = match op.as_str() {
        "insert" => &["--uri", "--user", "--bind", "--extra"],
        "delete" => &["--uri", "--user", "--where", "--extra"],
        "update" => &["--uri", "--user", "--where", "--bind", "--extra"],
        "query" => &[
            "--uri",
            "--user",
            "--where",
            "--sort",
            "--projection",
            "--extra",
        ],
        "call" => &["--uri", "--user", "--method", "--arg", "--extra"],
        "read" | "write" | "gettype" => &["--uri", "--user"],
        other => return Err(format!("Unsupported operation: {other}")),
    };
    let mut req = Request {
        op: op.clone(),
        ..Request::default()
    };
    let mut it = argv.iter().skip(2);
    while let Some(arg) = it.next() {
        if !allowed.contains(&arg.as_str()) {
            return Err(format!("Unsupported argument: {arg}"));
        }
        if arg == "--bind" || arg == "--extra" {
            let binding = it.next().cloned().unwrap_or_default();
            let parsed = parse_binding(&binding)?;
            if arg == "--bind" {
                req.binds.push(parsed);
            }
            continue;
        }
        let value = match it.next() {
            Some(v) if !v.is_empty() && !v.starts_with("--") => v.clone(),
            _ => return Err(format!("No value for argument: {arg}")),
        };
        match arg.as_str() {
            "--uri" => req.uri = Some(value),
            "--user" => {
                req.user = value
                    .parse()
                    .map_err(|_| format!("For input string: \"{value}\""))?
            }
            "--where" => req.selection = Some(value),
            "--sort" => req.sort = Some(value),
            "--projection" => {
                req.projection = Some(value.split(':').map(|c| c.trim().to_string()).collect())
            }
            "--method" => req.method = Some(value),
            _ => {}
        }
    }
    if req.uri.is_none() {
        return Err("Content provider URI not specified. Did you specify --uri argument?".into());
    }
    if (op == "insert" || op == "update") && req.binds.is_empty() {
        return Err("Bindings not specified. Did you specify --bind argument(s)?".into());
    }
    if op == "call" && req.method.is_none() {
        return Err("Content provider method not specified.".into());
    }
    Ok(req)
}

/// `Content.parseBindValue`: the column before the first `:`, the type before the
/// second, the value is everything after it, taken literally (no escapes: a value may
/// contain `:` as it is, and `\:` stays two characters).
fn parse_binding(arg: &str) -> Result<(String, Value), String> {
    let malformed = || {
        format!(
            "Binding not well formed: {}",
            if arg.is_empty() { "null" } else { arg }
        )
    };
    let (column, rest) = arg.split_once(':').ok_or_else(malformed)?;
    let (kind, value) = rest.split_once(':').ok_or_else(malformed)?;
    let (column, kind, value) = (column.to_string(), kind.to_string(), value.to_string());
    let number = |v: &str| format!("For input string: \"{v}\"");
    let value = match kind.as_str() {
        "s" => Value::Text(value),
        "b" | "B" => Value::Int(i64::from(value.eq_ignore_ascii_case("true"))),
        "i" | "I" => Value::Int(
            value
                .trim()
                .parse::<i32>()
                .map_err(|_| number(&value))?
                .into(),
        ),
        "l" | "L" => Value::Int(value.trim().parse::<i64>().map_err(|_| number(&value))?),
        "f" | "F" | "d" | "D" => {
            Value::Real(value.trim().parse::<f64>().map_err(|_| number(&value))?)
        }
        "n" | "N" => Value::Null,
        other => return Err(format!("Unsupported type: {other}")),
    };
    Ok((column, value))
}

/// `content …`.
pub fn content(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let req = match parse(argv) {
        Ok(r) => r,
        Err(msg) => {
            ctx.out.out(USAGE);
            ctx.outln("");
            ctx.outln(format!("[ERROR] {msg}"));
            return 0;
        }
    };
    let uri_text = req.uri.clone().unwrap_or_default();
    let auth = authority(&uri_text).to_string();
    let running = u32::try_from(req.user).ok().is_some_and(|u| {
        ctx.phone
            .read(|s| s.users.get(&u).is_some_and(|u| u.running))
    });
    let result = if !running {
        Err(ProviderError::NoProvider(auth.clone()))
    } else {
        execute(ctx, &req, &uri_text)
    };
    if let Err(e) = result {
        ctx.errln(format!("Error while accessing provider:{auth}"));
        let remote = remote_frames(&req.op);
        let frames: Vec<&str> = if matches!(e, ProviderError::NoProvider(_)) {
            CLIENT_FRAMES.to_vec()
        } else {
            remote.iter().map(String::as_str).collect()
        };
        ctx.stack_trace(&e.to_string(), &frames);
    }
    0
}

fn execute(ctx: &mut Ctx<'_>, req: &Request, uri_text: &str) -> Result<(), ProviderError> {
    let uri = provider::parse_uri(uri_text)?;
    let user = req.user as u32;
    match req.op.as_str() {
        "query" => {
            let (columns, rows) = ctx.phone.read(|s| {
                let db = s
                    .user_data
                    .get(&user)
                    .map(|d| d.contacts.clone())
                    .unwrap_or_default();
                db.query(
                    &uri,
                    req.projection.as_deref(),
                    req.selection.as_deref(),
                    req.sort.as_deref(),
                )
            })?;
            if rows.is_empty() {
                ctx.outln("No result found.");
            }
            for (i, row) in rows.iter().enumerate() {
                let cells: Vec<String> = columns
                    .iter()
                    .zip(row)
                    .map(|(c, v)| format!("{c}={}", v.render()))
                    .collect();
                ctx.outln(format!("Row: {i} {}", cells.join(", ")));
            }
            Ok(())
        }
        "insert" => ctx
            .phone
            .update(|s| s.data_mut(user).contacts.insert(&uri, &req.binds))
            .map(|_| ()),
        "update" => ctx
            .phone
            .update(|s| {
                s.data_mut(user)
                    .contacts
                    .update(&uri, &req.binds, req.selection.as_deref())
            })
            .map(|_| ()),
        "delete" => ctx
            .phone
            .update(|s| {
                s.data_mut(user)
                    .contacts
                    .delete(&uri, req.selection.as_deref())
            })
            .map(|_| ()),
        "gettype" => {
            let kind = match (uri.table, uri.id.is_some()) {
                (provider::Table::RawContacts, false) => "vnd.android.cursor.dir/raw_contact",
                (provider::Table::RawContacts, true) => "vnd.android.cursor.item/raw_contact",
                (provider::Table::Data, false) => "vnd.android.cursor.dir/data",
                (provider::Table::Data, true) => "vnd.android.cursor.item/data",
                (provider::Table::Contacts, false) => "vnd.android.cursor.dir/contact",
                (provider::Table::Contacts, true) => "vnd.android.cursor.item/contact",
            };
            ctx.outln(format!("Result: {kind}"));
            Ok(())
        }
        "call" => {
            ctx.outln("Result: null");
            Ok(())
        }
        _ => Err(ProviderError::Exception(format!(
            "java.io.FileNotFoundException: No files supported by provider at {uri_text}"
        ))),
    }
}
