//! `kiln init TEMPLATE_OR_DIR` and `kiln plugins`, as Packer's: they read the template's
//! `required_plugins`. Kiln installs nothing (its plugins are compiled in), so they say, for
//! each required plugin, which of its components Kiln provides, and fail for a plugin it does
//! not have, so that a pipeline's `init` step stops where `packer init` would have installed
//! something.

use clap::{Args, Subcommand};
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
    ("github.com/ivoronin/sshkey", "the sshkey data source"),
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

#[derive(Subcommand, Debug)]
pub enum PluginsCommand {
    /// List the plugins Kiln has built in.
    Installed,
    /// List a template's required plugins, and whether Kiln has each built in.
    Required {
        /// The template file or directory.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// As `packer plugins install SOURCE [VERSION]`: succeeds when the plugin is built in.
    Install {
        /// The plugin's source, e.g. github.com/hashicorp/qemu.
        source: String,
        /// Accepted for compatibility (a built-in plugin has one version).
        version: Option<String>,
    },
}

/// The required plugins of the templates at `paths` (errors printed).
fn required(paths: &[PathBuf]) -> Option<Vec<PluginRequirement>> {
    let opts = LoadOptions {
        paths: paths.to_vec(),
        cwd: std::env::current_dir().unwrap_or_default(),
        ..LoadOptions::default()
    };
    match requirements(&opts) {
        Ok(r) => Some(r),
        Err(d) => {
            crate::print_diags(&d);
            None
        }
    }
}

fn not_provided(source: &str) -> String {
    format!(
        "Kiln does not provide the plugin {source}, and it does not install plugins.\n\nIts built-in plugins are: {}.",
        BUILT_IN
            .iter()
            .map(|(s, _)| *s)
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Runs `kiln plugins ...`.
pub fn plugins(c: &PluginsCommand) -> i32 {
    match c {
        PluginsCommand::Installed => {
            for (source, what) in BUILT_IN {
                println!("{source} (built in: {what})");
            }
            0
        }
        PluginsCommand::Required { paths } => {
            let Some(reqs) = required(paths) else {
                return 1;
            };
            for r in &reqs {
                let version = r.version.as_deref().unwrap_or("");
                let have = if built_in(&r.source).is_some() {
                    " (built into Kiln)"
                } else {
                    " (not provided by Kiln)"
                };
                println!("{} {} {version:?}{have}", r.name, r.source);
            }
            if reqs.is_empty() {
                println!("No plugins requirement found, make sure you reference a Packer config\ncontaining a packer.required_plugins block.");
            }
            0
        }
        PluginsCommand::Install { source, .. } => match built_in(source) {
            Some(what) => {
                println!("Plugin {source} is built into Kiln: {what}; nothing to install.");
                0
            }
            None => {
                eprintln!("Error: {}\n", not_provided(source));
                1
            }
        },
    }
}

/// Runs `kiln init`: exit status 0 when every required plugin is built in.
pub fn run(a: &InitArgs) -> i32 {
    let _ = (a.upgrade, a.force);
    let Some(reqs) = required(&a.paths) else {
        return 1;
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
        let m = not_provided(&r.source).replacen(
            ", and it",
            &format!(" required as \"{}\"{at}, and it", r.name),
            1,
        );
        eprintln!("Error: {m}\n");
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
