//! The error a build ends with.

use crate::communicator::CommError;
use crate::config::Diagnostics;

/// Why a build failed. Messages are in Packer's words where users grep for them.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Ctrl-C or another cancellation.
    #[error("Build was cancelled.")]
    Cancelled,
    /// The configuration is invalid.
    #[error("{0}")]
    Config(Diagnostics),
    /// Talking to the machine failed.
    #[error(transparent)]
    Communicator(#[from] CommError),
    /// A step of the builder failed.
    #[error("{0}")]
    Step(String),
    /// A provisioner failed; `message` says how.
    #[error("{message}")]
    Provisioner {
        /// The provisioner type.
        kind: String,
        /// What failed.
        message: String,
    },
    /// A post-processor failed.
    #[error("Post-processor failed: {message}")]
    PostProcessor {
        /// Its type.
        kind: String,
        /// What failed.
        message: String,
    },
    /// A local I/O error with what was being done.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

impl BuildError {
    /// A step failure with a message.
    pub fn step(message: impl Into<String>) -> Self {
        BuildError::Step(message.into())
    }

    /// An I/O error with context.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        BuildError::Io {
            context: context.into(),
            source,
        }
    }
}
