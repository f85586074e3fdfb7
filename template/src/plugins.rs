//! `packer { required_plugins { ... } }`: the plugins a template says it needs, for `kiln init`.

use crate::eval::loc_of;
use crate::{attr_value, LoadOptions, Scope};
use hcl::eval::Context;
use hcl::Value;
use kiln_core::config::{Diagnostic, Diagnostics, Location};

/// One entry of a `required_plugins` block: `NAME = { source = "...", version = "..." }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginRequirement {
    /// The name on the left, by which the template may refer to the plugin's components.
    pub name: String,
    /// Its `source`, such as `github.com/hashicorp/qemu`.
    pub source: String,
    /// Its `version` constraint, as written.
    pub version: Option<String>,
    /// Where it is declared.
    pub location: Option<Location>,
}

/// The plugins the HCL2 templates of `opts` require, by name.
///
/// # Errors
/// A legacy JSON template (which cannot declare plugins: Packer's own message), a file that does
/// not parse, an entry that is not an object with a string `source`, or a name declared twice.
pub fn requirements(opts: &LoadOptions) -> Result<Vec<PluginRequirement>, Diagnostics> {
    if opts
        .paths
        .iter()
        .any(|p| p.is_file() && crate::is_legacy_json(p, None))
    {
        return Err(Diagnostic::error(
            "Packer plugins currently only works with HCL2 configuration templates",
            "Kiln's plugins are built in; a legacy JSON template needs nothing installed.",
        )
        .into());
    }
    let mut diags = Diagnostics::default();
    let (parsed, _, _) = crate::parse_templates(opts, &mut diags);
    if diags.has_errors() {
        return Err(diags);
    }
    let mut out: Vec<PluginRequirement> = Vec::new();
    let scope = Scope {
        functions: false,
        ..Scope::default()
    };
    for (file, body) in &parsed.files {
        for block in body.get_blocks("packer") {
            for req in block.body.get_blocks("required_plugins") {
                for a in req.body.attributes() {
                    let name = a.key.as_str().to_string();
                    let location = loc_of(file, &a.key);
                    let Some(v) = attr_value(file, &a.value, &scope, &Context::new(), &mut diags)
                    else {
                        continue;
                    };
                    let field = |k: &str| v.as_object().and_then(|o| o.get(k)).cloned();
                    let source = match field("source") {
                        Some(Value::String(s)) if !s.is_empty() => s,
                        _ => {
                            diags.push(
                                Diagnostic::error(
                                    "Invalid required_plugins entry",
                                    format!("The plugin \"{name}\" needs a source: {name} = {{ source = \"github.com/hashicorp/{name}\", version = \">= 1.0.0\" }}."),
                                )
                                .at(location),
                            );
                            continue;
                        }
                    };
                    if let Some(prev) = out.iter().find(|r| r.name == name) {
                        let at = prev
                            .location
                            .as_ref()
                            .map_or_else(String::new, |l| format!(" at {}:{}", l.file, l.line));
                        diags.push(
                            Diagnostic::error(
                                format!("Duplicate required_plugin.{name:?} block"),
                                format!("The plugin \"{name}\" is already required{at}; give each plugin its own name."),
                            )
                            .at(location),
                        );
                        continue;
                    }
                    out.push(PluginRequirement {
                        name,
                        source,
                        version: field("version").and_then(|v| v.as_str().map(String::from)),
                        location,
                    });
                }
            }
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}
