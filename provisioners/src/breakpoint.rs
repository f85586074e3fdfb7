//! The `breakpoint` provisioner: pause a build until the operator presses Enter.

use async_trait::async_trait;
use kiln_core::{
    BuildContext, BuildError, BuildInfo, Communicator, Config, Diagnostics, GeneratedData,
    Provisioner,
};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct BreakpointConfig {
    note: String,
    disable: bool,
}

/// `provisioner "breakpoint"`.
#[derive(Debug, Default)]
pub struct Breakpoint {
    cfg: BreakpointConfig,
}

#[async_trait]
impl Provisioner for Breakpoint {
    fn prepare(&mut self, config: &Config, _info: &BuildInfo) -> Result<Vec<String>, Diagnostics> {
        self.cfg = config.decode()?;
        Ok(Vec::new())
    }

    async fn provision(
        &self,
        ctx: &BuildContext,
        _comm: Arc<dyn Communicator>,
        _data: &GeneratedData,
    ) -> Result<(), BuildError> {
        if self.cfg.disable {
            ctx.ui.say("Breakpoint provisioner disabled");
            return Ok(());
        }
        let note = if self.cfg.note.is_empty() {
            String::new()
        } else {
            format!(" with note \"{}\"", self.cfg.note)
        };
        let message = format!("Pausing at breakpoint provisioner{note}. Press enter to continue.");
        // The operator (the `kiln` command: its standard input, as Packer) says when to go on;
        // unattended, it goes on at once.
        tokio::select! {
            () = ctx.operator.pause(&ctx.ui, &message) => Ok(()),
            () = ctx.cancel.cancelled() => Err(BuildError::Cancelled),
        }
    }
}
