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

    /// This error with every secret in `secrets` replaced by `<sensitive>`, keeping its kind
    /// (a communicator error becomes a step error with its scrubbed message).
    #[must_use]
    pub fn scrubbed(self, secrets: &crate::event::Secrets) -> Self {
        match self {
            BuildError::Cancelled => BuildError::Cancelled,
            BuildError::Config(d) => BuildError::Config(d.scrubbed(secrets)),
            BuildError::Communicator(e) => BuildError::Step(secrets.scrub(&e.to_string())),
            BuildError::Step(m) => BuildError::Step(secrets.scrub(&m)),
            BuildError::Provisioner { kind, message } => BuildError::Provisioner {
                kind,
                message: secrets.scrub(&message),
            },
            BuildError::PostProcessor { kind, message } => BuildError::PostProcessor {
                kind,
                message: secrets.scrub(&message),
            },
            BuildError::Io { context, source } => BuildError::Io {
                context: secrets.scrub(&context),
                source: std::io::Error::new(source.kind(), secrets.scrub(&source.to_string())),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubbed_errors_keep_their_kind_and_lose_their_secrets() {
        let s = crate::event::Secrets::default();
        s.add("hunter2");
        let e = BuildError::Provisioner {
            kind: "shell".into(),
            message: "false hunter2 failed".into(),
        }
        .scrubbed(&s);
        assert!(matches!(&e, BuildError::Provisioner { kind, .. } if kind == "shell"));
        assert_eq!(e.to_string(), "false <sensitive> failed");
        let e =
            BuildError::io("writing /x/hunter2", std::io::Error::other("no hunter2")).scrubbed(&s);
        assert_eq!(e.to_string(), "writing /x/<sensitive>: no <sensitive>");
        assert!(matches!(
            BuildError::Cancelled.scrubbed(&s),
            BuildError::Cancelled
        ));
    }
}
