//! `communicator = "none"`: nothing to connect to; every operation says so.

use async_trait::async_trait;
use kiln_core::communicator::{CommError, OutputSink};
use kiln_core::{Communicator, ExitStatus};
use std::path::Path;
use tokio::io::{AsyncRead, AsyncWrite};

/// A communicator that cannot do anything; provisioners that need one fail clearly.
#[derive(Debug, Default)]
pub struct NoneCommunicator;

#[async_trait]
impl Communicator for NoneCommunicator {
    async fn exec(&self, _: &str, _: OutputSink<'_>) -> Result<ExitStatus, CommError> {
        Err(CommError::Unsupported("running commands"))
    }
    async fn upload(
        &self,
        _: &str,
        _: &mut (dyn AsyncRead + Send + Unpin),
        _: Option<u64>,
        _: Option<u32>,
    ) -> Result<(), CommError> {
        Err(CommError::Unsupported("uploads"))
    }
    async fn upload_dir(&self, _: &str, _: &Path) -> Result<(), CommError> {
        Err(CommError::Unsupported("uploads"))
    }
    async fn download(
        &self,
        _: &str,
        _: &mut (dyn AsyncWrite + Send + Unpin),
    ) -> Result<(), CommError> {
        Err(CommError::Unsupported("downloads"))
    }
    async fn download_dir(&self, _: &str, _: &Path) -> Result<(), CommError> {
        Err(CommError::Unsupported("downloads"))
    }
    async fn is_dir(&self, _: &str) -> Result<bool, CommError> {
        Err(CommError::Unsupported("downloads"))
    }
}
