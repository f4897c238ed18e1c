//! Lock records and waiting for a lock.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::{Backend, StateError};

/// Who holds a lock, and why. Stored as JSON in the lock file/object (Terraform's field names).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    #[serde(rename = "ID")]
    pub id: String,
    pub operation: String,
    pub who: String,
    pub host: String,
    pub pid: u32,
    pub version: String,
    /// RFC 3339, UTC (`2025-01-31T12:00:00Z`).
    pub created: String,
}

impl LockInfo {
    /// A lock record for this process: `who` from `$USER` (or `$LOGNAME`), this host, this pid,
    /// now, and a fresh random ID.
    pub fn new(operation: &str, xacct_version: &str) -> Self {
        let who = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "unknown".to_string());
        LockInfo {
            id: crate::model::new_uuid(),
            operation: operation.to_string(),
            who,
            host: hostname(),
            pid: std::process::id(),
            version: xacct_version.to_string(),
            created: rfc3339_utc(SystemTime::now()),
        }
    }
}

/// Take the lock, retrying with jittered exponential backoff while someone else holds it.
///
/// Gives up after `timeout` with [`StateError::LockTimeout`] naming the holder. A zero timeout
/// tries once and returns [`StateError::Locked`] like [`Backend::lock`]. Errors other than
/// "locked" are returned at once.
pub async fn lock_with_timeout<B: Backend + ?Sized>(
    backend: &B,
    info: &LockInfo,
    timeout: Duration,
) -> Result<(), StateError> {
    lock_until(backend, info, timeout, &|| false).await
}

/// [`lock_with_timeout`] that also gives up, with [`StateError::LockWaitInterrupted`], once
/// `stop` returns true (checked between attempts, never during one: a lock request in flight
/// is always seen through, so a lock taken is never abandoned).
pub async fn lock_until<B: Backend + ?Sized>(
    backend: &B,
    info: &LockInfo,
    timeout: Duration,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<(), StateError> {
    let start = Instant::now();
    let mut delay = Duration::from_millis(50);
    loop {
        match backend.lock(info).await {
            Ok(()) => return Ok(()),
            Err(StateError::Locked(holder)) => {
                let waited = start.elapsed();
                if timeout.is_zero() {
                    return Err(StateError::Locked(holder));
                }
                if waited >= timeout {
                    return Err(StateError::LockTimeout { waited, holder });
                }
                let jitter = rand::random_range(0.5..1.0);
                let sleep = delay.mul_f64(jitter).min(timeout - waited);
                let wake = Instant::now() + sleep;
                while Instant::now() < wake {
                    if stop() {
                        return Err(StateError::LockWaitInterrupted { holder });
                    }
                    tokio::time::sleep((wake - Instant::now()).min(Duration::from_millis(50))).await;
                }
                delay = (delay * 2).min(Duration::from_secs(2));
            }
            Err(other) => return Err(other),
        }
    }
}

/// This machine's host name, or `unknown`.
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes; gethostname writes at most that and
    // we only read up to the first NUL (or the whole buffer when truncated without one).
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc == 0 {
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        let name = String::from_utf8_lossy(&buf[..end]).into_owned();
        if !name.is_empty() {
            return name;
        }
    }
    std::env::var("HOSTNAME").unwrap_or_else(|_| "unknown".to_string())
}

/// `t` as RFC 3339 in UTC with second precision.
pub(crate) fn rfc3339_utc(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_instants() {
        assert_eq!(rfc3339_utc(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400); // leap day 2000
        assert_eq!(rfc3339_utc(t), "2000-02-29T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_735_689_599);
        assert_eq!(rfc3339_utc(t), "2024-12-31T23:59:59Z");
    }

    #[test]
    fn new_lock_info_is_filled() {
        let info = LockInfo::new("apply", "0.1.0");
        assert_eq!(info.operation, "apply");
        assert_eq!(info.version, "0.1.0");
        assert_eq!(info.pid, std::process::id());
        assert_eq!(info.id.len(), 36);
        assert!(!info.host.is_empty() && !info.who.is_empty());
        assert!(info.created.ends_with('Z'));
        assert_ne!(info.id, LockInfo::new("apply", "0.1.0").id);
    }
}
