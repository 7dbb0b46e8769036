//! Reading typed values out of `Any` rows: every column read goes through here, so a
//! stored value that no longer parses becomes [`StoreError::Corrupt`] naming the column.

use std::str::FromStr;

use sqlx::Row;
use sqlx::any::AnyRow;

use super::StoreError;
use crate::domain::{ParseError, Timestamp};

fn corrupt(col: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("column {col}: {e}"))
}

/// A non-null text column.
pub(super) fn text(row: &AnyRow, col: &str) -> Result<String, StoreError> {
    row.try_get::<String, _>(col).map_err(|e| corrupt(col, e))
}

/// A nullable text column.
pub(super) fn opt_text(row: &AnyRow, col: &str) -> Result<Option<String>, StoreError> {
    row.try_get::<Option<String>, _>(col)
        .map_err(|e| corrupt(col, e))
}

/// A non-null integer column.
pub(super) fn int(row: &AnyRow, col: &str) -> Result<i64, StoreError> {
    row.try_get::<i64, _>(col).map_err(|e| corrupt(col, e))
}

/// A non-null, non-negative integer column.
pub(super) fn uint(row: &AnyRow, col: &str) -> Result<u64, StoreError> {
    u64::try_from(int(row, col)?).map_err(|e| corrupt(col, e))
}

/// A nullable integer column.
pub(super) fn opt_int(row: &AnyRow, col: &str) -> Result<Option<i64>, StoreError> {
    row.try_get::<Option<i64>, _>(col)
        .map_err(|e| corrupt(col, e))
}

/// A non-null timestamp column.
pub(super) fn time(row: &AnyRow, col: &str) -> Result<Timestamp, StoreError> {
    int(row, col).map(Timestamp::from_unix_millis)
}

/// A nullable timestamp column.
pub(super) fn opt_time(row: &AnyRow, col: &str) -> Result<Option<Timestamp>, StoreError> {
    Ok(opt_int(row, col)?.map(Timestamp::from_unix_millis))
}

/// A non-null column holding a domain value.
pub(super) fn parsed<T: FromStr<Err = ParseError>>(
    row: &AnyRow,
    col: &str,
) -> Result<T, StoreError> {
    text(row, col)?.parse().map_err(|e| corrupt(col, e))
}

/// A nullable column holding a domain value.
pub(super) fn opt_parsed<T: FromStr<Err = ParseError>>(
    row: &AnyRow,
    col: &str,
) -> Result<Option<T>, StoreError> {
    opt_text(row, col)?
        .map(|s| s.parse().map_err(|e| corrupt(col, e)))
        .transpose()
}

/// A nullable JSON column.
pub(super) fn opt_json(row: &AnyRow, col: &str) -> Result<Option<serde_json::Value>, StoreError> {
    opt_text(row, col)?
        .map(|s| serde_json::from_str(&s).map_err(|e| corrupt(col, e)))
        .transpose()
}

/// A non-null JSON column.
pub(super) fn json(row: &AnyRow, col: &str) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(&text(row, col)?).map_err(|e| corrupt(col, e))
}

/// Whether an `UPDATE`/`DELETE` touched exactly one row.
pub(super) fn one(result: &sqlx::any::AnyQueryResult) -> bool {
    result.rows_affected() == 1
}

/// A timestamp as bound to a query.
pub(super) fn ms(t: Timestamp) -> i64 {
    t.unix_millis()
}

/// Converts a count or sequence number for binding.
pub(super) fn seq(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Invalid(format!("sequence number {n} is too large")))
}
