//! Throwaway machines booted from an artifact, for post-image tests (the `test` post-processor
//! and `kiln test`). An artifact that can boot says so through [`crate::Artifact::launch`]: a
//! qemu disk starts in a snapshot-mode VM, an AMI as an instance. The caller reaches the machine
//! over SSH at [`Machine::ssh_address`] and must [`Machine::stop`] it, on error and cancellation
//! too; stopping removes everything the launch made. A launch that fails or is cancelled
//! (through its build context) part way removes what it had made before it returns.

use async_trait::async_trait;

/// How to launch a throwaway machine. Each kind of artifact reads the fields that concern it and
/// ignores the rest.
#[derive(Debug, Clone, Default)]
pub struct LaunchOptions {
    /// qemu: `kvm`, `tcg`, or `None` for KVM when it runs guest code here.
    pub accelerator: Option<String>,
    /// qemu: guest memory, MiB.
    pub memory_mib: Option<u32>,
    /// Cloud: the instance type (default: the builder's choice for a small test machine).
    pub instance_type: Option<String>,
    /// Cloud: the region to launch in when the image is in several (default: the first).
    pub region: Option<String>,
    /// Cloud: the subnet to launch into.
    pub subnet_id: Option<String>,
    /// Cloud: security groups; without them a temporary group that admits SSH is made.
    pub security_group_ids: Vec<String>,
    /// The address to connect to instead of the one the machine reports (as `ssh_host`).
    pub ssh_host: Option<String>,
    /// The SSH port (default 22, or the forwarded port of a local VM).
    pub ssh_port: Option<u16>,
    /// The login the machine is reached with, for launches that install a key for it.
    pub ssh_username: Option<String>,
}

/// A running throwaway machine.
#[async_trait]
pub trait Machine: Send + Sync {
    /// Where its SSH server listens: host and port.
    fn ssh_address(&self) -> (String, u16);
    /// A private key (OpenSSH or PEM text) the machine accepts, when the launch made one.
    fn ssh_private_key(&self) -> Option<String> {
        None
    }
    /// What it is, for messages: "a throwaway VM under tcg", "instance i-0abc in eu-west-1".
    fn describe(&self) -> String;
    /// What might say why SSH never answered (a VM's serial console), or empty.
    fn console(&self) -> String {
        String::new()
    }
    /// Resolves when the machine stops by itself, saying how; never resolves for one that
    /// cannot be watched.
    async fn exited(&mut self) -> String {
        std::future::pending().await
    }
    /// Stops it and removes what the launch made.
    ///
    /// # Errors
    /// Something could not be removed; the message names it so that it can be removed by hand.
    async fn stop(self: Box<Self>) -> Result<(), String>;
}
