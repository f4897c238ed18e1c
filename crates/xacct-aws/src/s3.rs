//! [`S3Backend`]: state in one S3 object, locked the way Terraform ≥ 1.10 locks (`use_lockfile`).
//!
//! - state: `s3://<bucket>/<key>`, written with `If-Match` on the ETag this backend last saw (from
//!   its last load or write), or `If-None-Match: *` when it saw no object; a `412` means someone
//!   else wrote since, reported as [`StateError::StaleSerial`] (or a lineage mismatch) from a fresh
//!   read;
//! - lock: `s3://<bucket>/<key>.lock`, created with `If-None-Match: *` and holding the
//!   [`LockInfo`] as JSON; a `412` is [`StateError::Locked`] naming the holder read from it.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_runtime_api::client::result::SdkError;
use xacct_state::{check_no_credentials, check_persist, decode_from, encode, Backend, LockInfo, State, StateError};

use crate::config::{base_config, Counter, Counting};
use crate::errors::{chain, scrub};
use crate::settings::AwsSettings;

/// What this backend last saw of the state object.
#[derive(Clone, Debug)]
enum Seen {
    /// Not read yet: the next write reads first.
    Unknown,
    /// No object.
    Absent,
    /// An object with this ETag holding this state.
    Present { etag: String, state: Box<State> },
}

/// The state [`Backend`] on S3 with conditional writes.
pub struct S3Backend {
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    seen: Arc<Mutex<Seen>>,
    counter: Arc<Counter>,
}

impl std::fmt::Debug for S3Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Backend").field("bucket", &self.bucket).field("key", &self.key).finish_non_exhaustive()
    }
}

/// A failed S3 call, sorted for the backend's decisions.
enum S3Failure {
    /// 404 `NoSuchKey` (or a bare 404 from `HeadObject`).
    NoSuchKey,
    /// 412, or S3's 409 `ConditionalRequestConflict` for a racing conditional write.
    PreconditionFailed,
    NoSuchBucket,
    Other(String),
}

fn classify<E, R>(err: &SdkError<E, R>) -> S3Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + HasStatus + 'static,
{
    let status = err.raw_response().map(HasStatus::status_code);
    let code = err.as_service_error().and_then(|e| e.code()).unwrap_or("");
    match (code, status) {
        ("NoSuchBucket", _) => S3Failure::NoSuchBucket,
        ("NoSuchKey", _) | ("NotFound", _) | ("", Some(404)) => S3Failure::NoSuchKey,
        ("PreconditionFailed", _) | ("ConditionalRequestConflict", _) | (_, Some(412)) => S3Failure::PreconditionFailed,
        _ => {
            let message = match err.as_service_error() {
                Some(e) => format!("{code}: {}", e.message().unwrap_or("")),
                None => chain(err),
            };
            S3Failure::Other(scrub(&message))
        }
    }
}

/// The HTTP status of a raw response.
trait HasStatus {
    fn status_code(&self) -> u16;
}

impl HasStatus for aws_smithy_runtime_api::http::Response {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

impl S3Backend {
    /// A backend on `s3://bucket/key`, with the credentials, endpoint and retries of `settings`;
    /// `region` is the bucket's region (else the settings' region). Path-style addressing is used
    /// whenever an endpoint URL is set (emulators).
    pub async fn new(settings: &AwsSettings, bucket: &str, key: &str, region: Option<&str>) -> S3Backend {
        let base = base_config(settings, region).await;
        let counter = Arc::new(Counter::default());
        let path_style = settings.endpoint_url.is_some() || std::env::var_os("AWS_ENDPOINT_URL").is_some();
        let conf = aws_sdk_s3::config::Builder::from(&base)
            .force_path_style(path_style)
            .interceptor(Counting(counter.clone()))
            .build();
        S3Backend {
            client: aws_sdk_s3::Client::from_conf(conf),
            bucket: bucket.to_string(),
            key: key.to_string(),
            seen: Arc::new(Mutex::new(Seen::Unknown)),
            counter,
        }
    }

    /// Another key in the same bucket, sharing this backend's client (for tests and tools).
    pub fn with_key(&self, key: &str) -> S3Backend {
        S3Backend {
            client: self.client.clone(),
            bucket: self.bucket.clone(),
            key: key.to_string(),
            seen: Arc::new(Mutex::new(Seen::Unknown)),
            counter: self.counter.clone(),
        }
    }

    /// S3 calls made so far by this backend (and those sharing its client).
    pub fn call_count(&self) -> u64 {
        self.counter.calls.load(Ordering::Relaxed)
    }

    fn url(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }

    fn lock_key(&self) -> String {
        format!("{}.lock", self.key)
    }

    fn lock_url(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.lock_key())
    }

    fn error(&self, message: String) -> StateError {
        StateError::Backend { backend: self.url(), message, source: None }
    }

    fn failure(&self, action: &str, failure: S3Failure) -> StateError {
        match failure {
            S3Failure::NoSuchBucket => self.error(format!(
                "bucket `{}` does not exist (or is not visible to these credentials); create it or fix `backend.s3.bucket`",
                self.bucket
            )),
            S3Failure::NoSuchKey => self.error(format!("could not {action}: the object does not exist")),
            S3Failure::PreconditionFailed => {
                self.error(format!("could not {action}: the object changed concurrently; retry"))
            }
            S3Failure::Other(message) => self.error(format!("could not {action}: {message}")),
        }
    }

    fn remember(&self, seen: Seen) {
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = seen;
    }

    fn seen(&self) -> Seen {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Read an object: `None` when it does not exist, else its bytes and ETag.
    async fn get(&self, key: &str, action: &str) -> Result<Option<(Vec<u8>, String)>, StateError> {
        let out = match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => out,
            Err(e) => {
                return match classify(&e) {
                    S3Failure::NoSuchKey => Ok(None),
                    f => Err(self.failure(action, f)),
                }
            }
        };
        let etag = out.e_tag().unwrap_or_default().to_string();
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| self.error(format!("could not {action}: reading the body failed: {e}")))?
            .into_bytes()
            .to_vec();
        Ok(Some((bytes, etag)))
    }

    /// Read and decode the state object, remembering its ETag.
    async fn fetch(&self) -> Result<Seen, StateError> {
        let seen = match self.get(&self.key, "read the state").await? {
            None => Seen::Absent,
            Some((bytes, etag)) => Seen::Present { etag, state: Box::new(decode_from(&self.url(), &bytes)?) },
        };
        self.remember(seen.clone());
        Ok(seen)
    }

    /// Put the state object on condition of what was seen; on a lost race report it from a
    /// fresh read.
    async fn put_state(&self, state: &State, seen: &Seen, strict: bool) -> Result<(), StateError> {
        let mut put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .content_type("application/json")
            .body(ByteStream::from(encode(state)));
        put = match seen {
            Seen::Present { etag, .. } => put.if_match(etag),
            _ => put.if_none_match("*"),
        };
        match put.send().await {
            Ok(out) => {
                let etag = out.e_tag().unwrap_or_default().to_string();
                self.remember(Seen::Present { etag, state: Box::new(state.clone()) });
                Ok(())
            }
            Err(e) => match classify(&e) {
                S3Failure::PreconditionFailed => {
                    let now = self.fetch().await?;
                    let stored = match &now {
                        Seen::Present { state, .. } => Some(state.as_ref()),
                        _ => None,
                    };
                    if stored == Some(state) {
                        // Our own write, whose answer was lost and whose retry then failed its condition.
                        return Ok(());
                    }
                    if strict {
                        check_persist(stored, state)?;
                    }
                    Err(StateError::StaleSerial { stored: stored.map_or(0, |s| s.serial), incoming: state.serial })
                }
                f => Err(self.failure("write the state", f)),
            },
        }
    }

    async fn read_lock(&self) -> Result<Option<(LockInfo, String)>, StateError> {
        let Some((bytes, etag)) = self.get(&self.lock_key(), "read the lock").await? else {
            return Ok(None);
        };
        let info = serde_json::from_slice::<LockInfo>(&bytes)
            .map_err(|e| StateError::LockUnreadable { path: PathBuf::from(self.lock_url()), reason: e.to_string() })?;
        Ok(Some((info, etag)))
    }

    async fn release(&self, id: &str) -> Result<(), StateError> {
        let Some((holder, _)) = self.read_lock().await? else {
            return Err(StateError::NotLocked { given: id.to_string() });
        };
        if holder.id != id {
            return Err(StateError::LockIdMismatch { given: id.to_string(), holder });
        }
        match self.client.delete_object().bucket(&self.bucket).key(self.lock_key()).send().await {
            Ok(_) => Ok(()),
            Err(e) => Err(self.failure("release the lock", classify(&e))),
        }
    }
}

#[async_trait]
impl Backend for S3Backend {
    fn describe(&self) -> String {
        self.url()
    }

    async fn load(&self) -> Result<Option<State>, StateError> {
        match self.fetch().await? {
            Seen::Present { state, .. } => Ok(Some(*state)),
            _ => Ok(None),
        }
    }

    async fn persist(&self, state: &State) -> Result<(), StateError> {
        let seen = match self.seen() {
            Seen::Unknown => self.fetch().await?,
            seen => seen,
        };
        let stored = match &seen {
            Seen::Present { state, .. } => Some(state.as_ref()),
            _ => None,
        };
        check_persist(stored, state)?;
        self.put_state(state, &seen, true).await
    }

    async fn replace(&self, state: &State) -> Result<(), StateError> {
        check_no_credentials(state)?;
        // A newer-format state is never overwritten (fetch refuses to decode it); a corrupt one may be.
        let seen = match self.fetch().await {
            Ok(seen) => seen,
            Err(e @ StateError::NewerFormat { .. }) => return Err(e),
            Err(_) => Seen::Unknown,
        };
        match seen {
            Seen::Unknown => {
                let out = self
                    .client
                    .put_object()
                    .bucket(&self.bucket)
                    .key(&self.key)
                    .content_type("application/json")
                    .body(ByteStream::from(encode(state)))
                    .send()
                    .await
                    .map_err(|e| self.failure("write the state", classify(&e)))?;
                let etag = out.e_tag().unwrap_or_default().to_string();
                self.remember(Seen::Present { etag, state: Box::new(state.clone()) });
                Ok(())
            }
            seen => self.put_state(state, &seen, false).await,
        }
    }

    async fn lock(&self, info: &LockInfo) -> Result<(), StateError> {
        let mut body = serde_json::to_vec_pretty(info).map_err(|e| self.error(format!("encode lock info: {e}")))?;
        body.push(b'\n');
        for _ in 0..3 {
            let put = self
                .client
                .put_object()
                .bucket(&self.bucket)
                .key(self.lock_key())
                .content_type("application/json")
                .if_none_match("*")
                .body(ByteStream::from(body.clone()))
                .send()
                .await;
            match put {
                Ok(_) => return Ok(()),
                Err(e) => match classify(&e) {
                    S3Failure::PreconditionFailed => match self.read_lock().await? {
                        Some((holder, _)) => return Err(StateError::Locked(holder)),
                        // Released between our attempt and the read: try again.
                        None => continue,
                    },
                    f => return Err(self.failure("take the lock", f)),
                },
            }
        }
        Err(StateError::LockUnreadable {
            path: PathBuf::from(self.lock_url()),
            reason: "it keeps appearing and vanishing".to_string(),
        })
    }

    async fn unlock(&self, id: &str) -> Result<(), StateError> {
        self.release(id).await
    }

    async fn force_unlock(&self, id: &str) -> Result<(), StateError> {
        self.release(id).await
    }

    async fn lock_info(&self) -> Result<Option<LockInfo>, StateError> {
        Ok(self.read_lock().await?.map(|(info, _)| info))
    }
}
