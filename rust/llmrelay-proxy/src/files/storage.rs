//! Where uploaded files' bytes live: a directory on local disk (the default, next to the
//! config) or an S3-compatible bucket (`files_storage.type: s3`, through the cache's SigV4 S3
//! client). The database row of a file names the backend and the location.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Map, Value};

use llmrelay_cache::backend::s3::{S3Settings, S3Store};
use llmrelay_core::{Error, ErrorKind};

/// The bytes of files.
#[derive(Clone)]
pub enum BlobStore {
    Local { directory: PathBuf },
    S3(Arc<S3Store>),
}

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Local { directory } => write!(f, "local:{}", directory.display()),
            Self::S3(store) => write!(f, "{}", store.location()),
        }
    }
}

fn storage_error(what: &str, error: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::InternalServer,
        format!("file storage: {what}: {error}"),
    )
}

impl BlobStore {
    /// From `general_settings.files_storage` (`type: local` with `path`, or `type: s3` with
    /// LiteLLM's `s3_*` cache parameter names); the default is `llmrelay_files/` next to the
    /// config.
    ///
    /// # Errors
    /// An unknown type or an S3 store without a bucket, with the field's path.
    pub fn from_settings(
        settings: Option<&Value>,
        config_directory: &std::path::Path,
    ) -> Result<Self, String> {
        let empty = Map::new();
        let settings = match settings {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(map)) => map,
            Some(_) => return Err("general_settings.files_storage: expected a mapping".to_owned()),
        };
        let kind = settings
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("local");
        match kind {
            "local" | "disk" => {
                let directory = settings
                    .get("path")
                    .and_then(Value::as_str)
                    .map_or_else(|| config_directory.join("llmrelay_files"), PathBuf::from);
                let directory = if directory.is_relative() {
                    config_directory.join(directory)
                } else {
                    directory
                };
                Ok(Self::Local { directory })
            }
            "s3" => {
                let settings = S3Settings::from_params(settings)
                    .map_err(|e| format!("general_settings.files_storage: {e}"))?;
                Ok(Self::S3(Arc::new(S3Store::new(&settings))))
            }
            other => Err(format!(
                "general_settings.files_storage.type: expected local or s3, got {other:?}"
            )),
        }
    }

    /// `local` or `s3` (the `storage_backend` column).
    #[must_use]
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Local { .. } => "local",
            Self::S3(_) => "s3",
        }
    }

    /// Stores `bytes` as `name`; the location to read it back from.
    ///
    /// # Errors
    /// The disk or the bucket refused.
    pub async fn put(&self, name: &str, bytes: Vec<u8>) -> Result<String, Error> {
        match self {
            Self::Local { directory } => {
                tokio::fs::create_dir_all(directory)
                    .await
                    .map_err(|e| storage_error("cannot create the directory", e))?;
                let path = directory.join(name);
                // Written aside and renamed: a crash never leaves a partial file under the name.
                let partial = directory.join(format!(".{name}.partial"));
                tokio::fs::write(&partial, &bytes)
                    .await
                    .map_err(|e| storage_error("cannot write", e))?;
                let file = tokio::fs::File::open(&partial)
                    .await
                    .map_err(|e| storage_error("cannot reopen", e))?;
                file.sync_all()
                    .await
                    .map_err(|e| storage_error("cannot sync", e))?;
                tokio::fs::rename(&partial, &path)
                    .await
                    .map_err(|e| storage_error("cannot rename", e))?;
                Ok(path.to_string_lossy().into_owned())
            }
            Self::S3(store) => {
                store
                    .put_object(name, bytes, "application/octet-stream")
                    .await
                    .map_err(|e| storage_error("PutObject", e))?;
                Ok(name.to_owned())
            }
        }
    }

    /// The bytes at `location` (written by [`Self::put`] of a store of `backend`).
    ///
    /// # Errors
    /// The bytes are gone or cannot be read.
    pub async fn get(&self, backend: &str, location: &str) -> Result<Vec<u8>, Error> {
        let missing = || {
            Error::new(
                ErrorKind::InternalServer,
                "file storage: the file's content is missing from storage",
            )
        };
        match (self, backend) {
            (_, "local") => match tokio::fs::read(location).await {
                Ok(bytes) => Ok(bytes),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => Err(missing()),
                Err(error) => Err(storage_error("cannot read", error)),
            },
            (Self::S3(store), "s3") => store
                .get_object(location)
                .await
                .map_err(|e| storage_error("GetObject", e))?
                .ok_or_else(missing),
            _ => Err(Error::new(
                ErrorKind::InternalServer,
                format!("file storage: the file is in {backend} storage, which is not configured"),
            )),
        }
    }

    /// Removes the bytes at `location`; absent is not an error.
    ///
    /// # Errors
    /// The disk or the bucket refused.
    pub async fn remove(&self, backend: &str, location: &str) -> Result<(), Error> {
        match (self, backend) {
            (_, "local") => match tokio::fs::remove_file(location).await {
                Ok(()) => Ok(()),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(error) => Err(storage_error("cannot remove", error)),
            },
            (Self::S3(store), "s3") => store
                .remove_object(location)
                .await
                .map_err(|e| storage_error("DeleteObject", e)),
            _ => Ok(()),
        }
    }
}
