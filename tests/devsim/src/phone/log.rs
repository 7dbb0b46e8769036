//! The phone's log buffer (what `logcat` reads): a bounded ring of entries in memory,
//! written by the phone's own events (boot, reboot requests, users created or removed),
//! printed in logcat's default `threadtime` format.
//! Must never: grow without bound, or survive a reboot (logd's buffers are in RAM).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// How many entries the ring keeps (logd keeps a size, not a count; this is the model).
pub const CAPACITY: usize = 2000;

/// One entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Milliseconds since the Unix epoch.
    pub at_ms: u64,
    pub pid: u32,
    pub tid: u32,
    /// `V`, `D`, `I`, `W`, `E` or `F`.
    pub priority: char,
    pub tag: String,
    pub message: String,
}

impl Entry {
    /// `MM-DD HH:MM:SS.mmm  PID  TID P TAG: message`, as `logcat -v threadtime` prints
    /// it (logcat's `"%s %5d %5d %c %-8s: "` prefix, time in UTC here).
    pub fn threadtime(&self) -> String {
        let secs = self.at_ms / 1000;
        let (_, month, day) = civil_from_days(secs / 86_400);
        let rem = secs % 86_400;
        format!(
            "{month:02}-{day:02} {:02}:{:02}:{:02}.{:03} {:5} {:5} {} {:<8}: {}",
            rem / 3600,
            rem / 60 % 60,
            rem % 60,
            self.at_ms % 1000,
            self.pid,
            self.tid,
            self.priority,
            self.tag,
            self.message
        )
    }
}

/// The ring.
#[derive(Debug, Default)]
pub struct LogBuffer {
    entries: Mutex<VecDeque<Entry>>,
}

impl LogBuffer {
    /// Appends an entry stamped now, dropping the oldest beyond [`CAPACITY`].
    pub fn write(&self, pid: u32, priority: char, tag: &str, message: &str) {
        let at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() == CAPACITY {
            entries.pop_front();
        }
        entries.push_back(Entry {
            at_ms,
            pid,
            tid: pid,
            priority,
            tag: tag.to_owned(),
            message: message.to_owned(),
        });
    }

    /// The newest `n` entries (all when `None`), oldest first.
    pub fn newest(&self, n: Option<usize>) -> Vec<Entry> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let skip = n.map_or(0, |n| entries.len().saturating_sub(n));
        entries.iter().skip(skip).cloned().collect()
    }

    /// Empties the ring (a reboot, or `logcat -c`).
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

/// (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: u64) -> (i64, u32, u32) {
    let z = i64::try_from(days).unwrap_or(0) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_print_as_threadtime() {
        let e = Entry {
            at_ms: 1_700_000_000_123,
            pid: 1234,
            tid: 1250,
            priority: 'I',
            tag: "ActivityManager".into(),
            message: "Start proc".into(),
        };
        assert_eq!(
            e.threadtime(),
            "11-14 22:13:20.123  1234  1250 I ActivityManager: Start proc"
        );
        let short = Entry {
            tag: "adbd".into(),
            ..e
        };
        assert_eq!(
            short.threadtime(),
            "11-14 22:13:20.123  1234  1250 I adbd    : Start proc"
        );
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }

    #[test]
    fn the_ring_keeps_the_newest() {
        let log = LogBuffer::default();
        for i in 0..CAPACITY + 5 {
            log.write(1, 'I', "t", &i.to_string());
        }
        let all = log.newest(None);
        assert_eq!(all.len(), CAPACITY);
        assert_eq!(all[0].message, "5");
        let last: Vec<String> = log.newest(Some(2)).into_iter().map(|e| e.message).collect();
        assert_eq!(last, ["2003", "2004"]);
    }
}
