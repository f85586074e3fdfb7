//! `kiln init TEMPLATE_OR_DIR`, as `packer init`: reads the template's `required_plugins`.
//! Kiln installs nothing (its plugins are compiled in), so it says, for each required plugin,
//! which of its components Kiln provides, and fails for a plugin it does not have, so that a
//! pipeline's `init` step stops where `packer init` would have installed something.

use clap::Args;
use kiln_template::plugins::{requirements, PluginRequirement};
use kiln_template::LoadOptions;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Accepted for compatibility: built-in plugins have no newer version to fetch.
    #[arg(long)]
    upgrade: bool,
    /// Accepted for compatibility: nothing is installed, so nothing is reinstalled.
    #[arg(long)]
    force: bool,
    /// The template file or directory.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

/// Plugin sources Kiln has built in, with the components of each it provides.
pub const BUILT_IN: &[(&str, &str)] = &[
    (
        "github.com/hashicorp/amazon",
        "the amazon-ebs builder and the amazon-ami data source",
    ),
    (
        "github.com/hashicorp/ansible",
        "the ansible and ansible-local provisioners",
    ),
    (
        "github.com/hashicorp/docker",
        "the docker builder and the docker-tag, docker-push, docker-save and docker-import post-processors",
    ),
    (
        "github.com/ethanmdavidson/git",
        "the git-repository, git-commit and git-tree data sources",
    ),
    ("github.com/yaleuniversity/goss", "the goss provisioner"),
    ("github.com/hashicorp/qemu", "the qemu builder"),
    ("github.com/hashicorp/vagrant", "the vagrant post-processor"),
];

/// What Kiln provides of the plugin at `source` (host and namespace compare without case, as
/// GitHub's do).
fn built_in(source: &str) -> Option<&'static str> {
    let source = source.trim_end_matches('/').to_ascii_lowercase();
    BUILT_IN
        .iter()
        .find(|(s, _)| *s == source)
        .map(|(_, what)| *what)
}

/// Runs `kiln init`: exit status 0 when every required plugin is built in.
pub fn run(a: &InitArgs) -> i32 {
    let _ = (a.upgrade, a.force);
    let opts = LoadOptions {
        paths: a.paths.clone(),
        cwd: std::env::current_dir().unwrap_or_default(),
        ..LoadOptions::default()
    };
    let reqs = match requirements(&opts) {
        Ok(r) => r,
        Err(d) => {
            crate::print_diags(&d);
            return 1;
        }
    };
    if reqs.is_empty() {
        println!(
            "No plugins requirement found, make sure you reference a Packer config\ncontaining a packer.required_plugins block. Kiln's plugins are built in:\nnothing needs installing."
        );
        return 0;
    }
    let mut missing: Vec<&PluginRequirement> = Vec::new();
    for r in &reqs {
        match built_in(&r.source) {
            Some(what) => println!(
                "Plugin {} ({}) is built into Kiln: {what}; nothing to install.",
                r.source, r.name
            ),
            None => missing.push(r),
        }
    }
    for r in &missing {
        let at = r
            .location
            .as_ref()
            .map_or_else(String::new, |l| format!(" ({}:{})", l.file, l.line));
        eprintln!(
            "Error: Kiln does not provide the plugin {} required as \"{}\"{at}, and it does not install plugins.\n\nIts built-in plugins are: {}.\n",
            r.source,
            r.name,
            BUILT_IN
                .iter()
                .map(|(s, _)| *s)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    i32::from(!missing.is_empty())
}

#[cfg(test)]
mod tests {
    use super::built_in;

    #[test]
    fn sources_match_without_case() {
        assert!(built_in("github.com/YaleUniversity/goss").is_some());
        assert!(built_in("github.com/hashicorp/qemu/").is_some());
        assert!(built_in("github.com/hashicorp/vsphere").is_none());
    }
}
