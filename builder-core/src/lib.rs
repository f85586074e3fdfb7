//! # kiln-core: the contracts and the orchestrator
//!
//! Everything a Kiln plugin depends on lives here, and nothing else does. Start reading at
//! [`plugin`] (the Builder, Provisioner and PostProcessor traits), then [`orchestrator`], which
//! turns a [`plan::BuildPlan`] into running builds.
//!
//! ```text
//!   kiln (cli) ──► kiln-template ──► kiln-core ◄── kiln-communicator
//!        │                              ▲  ▲  ▲
//!        ├──► kiln-builder-null ────────┘  │  │
//!        ├──► kiln-provisioners ───────────┘  │
//!        └──► kiln-post-processors ───────────┘
//! ```
//!
//! Beside them, depending on no plugin: kiln-catalog (the image catalog; cloud effects come through
//! [`lifecycle::ImageLifecycle`]), kiln-sbom (SBOMs and OSV matching, for the `sbom`
//! provisioner and `kiln scan`) and kiln-goss (goss specs run natively, for the `goss`
//! provisioner, the `test` post-processor and `kiln test`, which boot artifacts through
//! [`launch`]).
//!
//! Plugins never depend on each other; the orchestrator knows them only through the
//! [`registry::Registry`]. Library code never prints: it emits [`event::Event`]s that the CLI (or
//! an embedding program) renders.

pub mod artifact;
pub mod communicator;
pub mod config;
pub mod convert;
pub mod duration;
pub mod error;
pub mod event;
pub mod gotemplate;
pub mod journal;
pub mod launch;
pub mod lifecycle;
pub mod operator;
pub mod orchestrator;
pub mod plan;
pub mod plugin;
pub mod registry;
pub mod staged;
pub mod step;

pub use artifact::Artifact;
pub use communicator::{Communicator, ExitStatus, OutputStream};
pub use config::{Config, Diagnostic, Diagnostics, Location, Severity};
pub use error::BuildError;
pub use event::{Event, EventKind, Events, Ui};
pub use plugin::{
    BuildContext, BuildInfo, Builder, GeneratedData, Hook, PostProcessed, PostProcessor,
    Provisioner,
};
pub use registry::Registry;

/// The version of Kiln, reported as `packer.version` in templates.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
