//! The `shell-local` provisioner: run commands on the machine running Kiln.

use crate::local::{self, LocalConfig};
use async_trait::async_trait;
use kiln_core::{
    BuildContext, BuildError, BuildInfo, Communicator, Config, Diagnostics, GeneratedData,
    Provisioner,
};
use std::sync::Arc;

/// `provisioner "shell-local"`.
#[derive(Debug, Default)]
pub struct ShellLocal {
    cfg: LocalConfig,
}

#[async_trait]
impl Provisioner for ShellLocal {
    fn prepare(&mut self, config: &Config, _info: &BuildInfo) -> Result<Vec<String>, Diagnostics> {
        self.cfg = config.decode()?;
        self.cfg
            .validate()
            .map_err(|(k, m)| config.error_at(k, "Invalid shell-local configuration", m))?;
        Ok(Vec::new())
    }

    async fn provision(
        &self,
        ctx: &BuildContext,
        _comm: Arc<dyn Communicator>,
        data: &GeneratedData,
    ) -> Result<(), BuildError> {
        let mut extra = std::collections::BTreeMap::new();
        if let Some(a) = data.get("PackerHTTPAddr") {
            extra.insert("PACKER_HTTP_ADDR".to_string(), a.clone());
        }
        local::run(ctx, &self.cfg, &extra).await
    }
}
