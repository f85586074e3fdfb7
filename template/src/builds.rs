//! Sources and build blocks into planned builds: source references and additions, provisioners,
//! post-processors and their meta-arguments.

use super::*;

pub(crate) fn collect_sources(
    parsed: &Parsed,
    diags: &mut Diagnostics,
) -> IndexMap<String, SourceDef> {
    let mut sources: IndexMap<String, SourceDef> = IndexMap::new();
    for (file, body) in &parsed.files {
        for b in body.get_blocks("source") {
            if !labels_exact(
                file,
                b,
                2,
                "the builder type and a name, e.g. source \"null\" \"example\"",
                diags,
            ) {
                continue;
            }
            let (kind, name) = (
                label(b, 0).unwrap_or_default(),
                label(b, 1).unwrap_or_default(),
            );
            let key = format!("{kind}.{name}");
            if let Some(first) = sources.get(&key) {
                let at = first
                    .location
                    .as_ref()
                    .map_or_else(String::new, |l| format!(" at {}:{}", l.file, l.line));
                diags.push(
                    Diagnostic::error(
                        "Duplicate source",
                        format!("A source named \"{key}\" was already declared{at}; give each source a unique name."),
                    )
                    .at(loc_of(file, b)),
                );
                continue;
            }
            sources.insert(
                key,
                SourceDef {
                    kind: kind.into(),
                    name: name.into(),
                    file: file.clone(),
                    body: b.body.clone(),
                    location: loc_of(file, &b.labels[0]),
                },
            );
        }
    }
    sources
}

pub(crate) const BUILD_BLOCKS: &[&str] = &[
    "source",
    "provisioner",
    "error-cleanup-provisioner",
    "post-processor",
    "post-processors",
    "hcp_packer_registry",
];
pub(crate) const BUILD_ATTRS: &[&str] = &["name", "description", "sources"];

/// `TYPE.NAME` of a build's source reference, read as Packer reads one: with three parts or
/// more the first is dropped whatever it is (`source.`, `sources.`), and parts after the
/// name are ignored.
pub(crate) fn source_ref(s: &str) -> String {
    let parts: Vec<&str> = s.split('.').collect();
    match parts.as_slice() {
        [kind, name] | [_, kind, name, ..] => format!("{kind}.{name}"),
        _ => s.to_string(),
    }
}

pub(crate) fn plan_builds(
    parsed: &Parsed,
    sources: &IndexMap<String, SourceDef>,
    shared: &Arc<Shared>,
    diags: &mut Diagnostics,
) -> Vec<PlannedBuild> {
    let mut out = Vec::new();
    let mut next_block = 0;
    let scope = shared.scope(&[]);
    let ctx = shared.context();
    let unknown_source = |r: &str, loc: Option<Location>, diags: &mut Diagnostics| {
        let mut detail = format!("There is no source named \"{r}\"; declare it with `source \"TYPE\" \"NAME\" {{ ... }}`.");
        if let Some(s) = suggest(r, sources.keys().map(String::as_str)) {
            detail.push_str(&format!(" Did you mean \"source.{s}\"?"));
        }
        diags.push(Diagnostic::error("Unknown source", detail).at(loc));
    };
    for (file, body) in &parsed.files {
        for b in body.get_blocks("build") {
            let expanded = dynamic::expand_build_dynamics(file, b, shared, diags);
            let b = &expanded;
            let block_index = next_block;
            next_block += 1;
            let mut description = None;
            let mut build_name = None;
            // (source def, addition layer, renamed)
            let mut refs: Vec<(SourceDef, Option<Layer>, Option<String>)> = Vec::new();
            for a in b.body.attributes() {
                match a.key.as_str() {
                    "name" => {
                        build_name = attr_value(file, &a.value, &scope, &ctx, diags)
                            .and_then(|v| v.as_str().map(String::from))
                    }
                    "description" => {
                        description = attr_value(file, &a.value, &scope, &ctx, diags)
                            .and_then(|v| v.as_str().map(String::from));
                    }
                    "sources" => {
                        let items: Vec<(String, Option<Location>)> = match &a.value {
                            EExpr::Array(arr) => arr
                                .iter()
                                .filter_map(|e| {
                                    let text = match e {
                                        EExpr::String(s) => Some(s.value().to_string()),
                                        EExpr::Traversal(_) => Some(hcl::Expression::from(e.clone()).to_string()),
                                        // "source.${var.kind}.name": variables are allowed here
                                        // (Packer 1.7.9 and later).
                                        other => attr_value(file, other, &scope, &ctx, diags)
                                            .and_then(|v| v.as_str().map(String::from)),
                                    };
                                    if text.is_none() {
                                        diags.push(Diagnostic::error("Invalid source reference", "Each element of `sources` must be a reference such as \"source.null.example\".").at(loc_of(file, e)));
                                    }
                                    text.map(|t| (t, loc_of(file, e)))
                                })
                                .collect(),
                            other => match attr_value(file, other, &scope, &ctx, diags) {
                                // A computed list, e.g. [for n in local.names : "source.null.${n}"].
                                Some(Value::Array(vals)) if vals.iter().all(|v| v.as_str().is_some()) => vals
                                    .iter()
                                    .filter_map(|v| v.as_str().map(|s| (s.to_string(), loc_of(file, other))))
                                    .collect(),
                                Some(_) => {
                                    diags.push(Diagnostic::error("Invalid sources", "`sources` must be a list such as [\"source.null.example\"].").at(loc_of(file, other)));
                                    Vec::new()
                                }
                                None => Vec::new(),
                            },
                        };
                        for (r, loc) in items {
                            match sources.get(&source_ref(&r)) {
                                Some(s) => refs.push((s.clone(), None, None)),
                                None => unknown_source(&source_ref(&r), loc, diags),
                            }
                        }
                    }
                    other => {
                        let mut detail = format!(
                            "An argument named \"{other}\" is not expected in a build block."
                        );
                        if let Some(s) = suggest(other, BUILD_ATTRS.iter().copied()) {
                            detail.push_str(&format!(" Did you mean \"{s}\"?"));
                        }
                        diags.push(
                            Diagnostic::error("Unsupported argument", detail)
                                .at(loc_of(file, &a.key)),
                        );
                    }
                }
            }
            let mut registry = None;
            let mut provisioners = Vec::new();
            let mut error_cleanup = None;
            let mut post_processors = Vec::new();
            for nb in b.body.blocks() {
                match nb.ident.as_str() {
                    "source" => {
                        if !labels_exact(
                            file,
                            nb,
                            1,
                            "a source reference, e.g. source \"null.example\"",
                            diags,
                        ) {
                            continue;
                        }
                        let r = source_ref(label(nb, 0).unwrap_or_default());
                        match sources.get(&r) {
                            Some(s) => {
                                let rename = nb
                                    .body
                                    .get_attribute("name")
                                    .and_then(|a| attr_value(file, &a.value, &scope, &ctx, diags))
                                    .and_then(|v| v.as_str().map(String::from));
                                // As Packer (the two bodies are merged): an argument the
                                // source sets may not be set again here.
                                for a in nb.body.attributes() {
                                    let key = a.key.as_str();
                                    if key != "name" && s.body.get_attribute(key).is_some() {
                                        diags.push(Diagnostic::error("Duplicate argument", format!("The argument \"{key}\" is already set by source.{}.{} (at {}); a source block in a build may only add arguments.", s.kind, s.name, s.location.as_ref().map_or_else(String::new, |l| format!("{}:{}", l.file, l.line)))).at(loc_of(file, &a.key)));
                                    }
                                }
                                refs.push((
                                    s.clone(),
                                    Some(Layer {
                                        file: file.clone(),
                                        body: nb.body.clone(),
                                    }),
                                    rename,
                                ));
                            }
                            None => unknown_source(&r, loc_of(file, &nb.labels[0]), diags),
                        }
                    }
                    "provisioner" => {
                        if let Some(p) = provisioner_spec(file, nb, shared, diags) {
                            provisioners.push(p);
                        }
                    }
                    "error-cleanup-provisioner" => {
                        error_cleanup = provisioner_spec(file, nb, shared, diags)
                    }
                    "post-processor" => {
                        if let Some(p) = post_processor_spec(file, nb, shared, diags) {
                            post_processors.push(vec![p]);
                        }
                    }
                    "post-processors" => {
                        let mut chain = Vec::new();
                        for pb in nb.body.blocks() {
                            if pb.ident.as_str() == "post-processor" {
                                if let Some(p) = post_processor_spec(file, pb, shared, diags) {
                                    chain.push(p);
                                }
                            } else {
                                diags.push(Diagnostic::error("Unsupported block type", "Only post-processor blocks are expected in a post-processors block.").at(loc_of(file, &pb.ident)));
                            }
                        }
                        post_processors.push(chain);
                    }
                    "hcp_packer_registry" => {
                        registry = Some(registry_spec(file, nb, &scope, &ctx, diags))
                    }
                    other => {
                        let mut detail = format!(
                            "Blocks of type \"{other}\" are not expected in a build block."
                        );
                        if let Some(s) = suggest(other, BUILD_BLOCKS.iter().copied()) {
                            detail.push_str(&format!(" Did you mean \"{s}\"?"));
                        }
                        diags.push(
                            Diagnostic::error("Unsupported block type", detail)
                                .at(loc_of(file, &nb.ident)),
                        );
                    }
                }
            }
            if refs.is_empty() {
                diags.push(Diagnostic::error("Build without sources", "A build block needs at least one source: `sources = [\"source.TYPE.NAME\"]`.").at(loc_of(file, &b.ident)));
            }
            for (src, addition, rename) in refs {
                let source_name = rename.unwrap_or_else(|| src.name.clone());
                let short = format!("{}.{}", src.kind, source_name);
                let name = match &build_name {
                    Some(bn) => format!("{bn}.{short}"),
                    None => short,
                };
                let mut layers = vec![Layer {
                    file: src.file.clone(),
                    body: src.body.clone(),
                }];
                layers.extend(addition);
                let body = HclBody::new(
                    shared.clone(),
                    layers,
                    format!("source \"{}\"", src.kind),
                    &["name"],
                    body::Kind::Source,
                    src.location.clone(),
                );
                out.push(PlannedBuild {
                    name,
                    source_type: src.kind.clone(),
                    source_name,
                    build_block_name: build_name.clone(),
                    build_block: block_index,
                    build_description: description.clone(),
                    builder: PluginSpec {
                        kind: src.kind.clone(),
                        body: Arc::new(body),
                        location: src.location.clone(),
                    },
                    provisioners: provisioners.clone(),
                    error_cleanup: error_cleanup.clone(),
                    post_processors: post_processors.clone(),
                    registry: registry.clone(),
                });
            }
        }
    }
    out
}

pub(crate) fn meta_strings(
    file: &Arc<SourceFile>,
    b: &Block,
    key: &str,
    shared: &Shared,
    diags: &mut Diagnostics,
) -> Vec<String> {
    let Some(a) = b.body.get_attribute(key) else {
        return Vec::new();
    };
    match attr_value(file, &a.value, &shared.scope(&[]), &shared.context(), diags) {
        Some(Value::Array(items)) => items
            .into_iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        // Null is not set.
        Some(Value::Null) => Vec::new(),
        Some(_) => {
            diags.push(
                Diagnostic::error(
                    "Invalid value",
                    format!("`{key}` must be a list of source names such as [\"null.example\"]."),
                )
                .at(loc_of(file, &a.value)),
            );
            Vec::new()
        }
        None => Vec::new(),
    }
}

pub(crate) fn meta_duration(
    file: &Arc<SourceFile>,
    b: &Block,
    key: &str,
    shared: &Shared,
    diags: &mut Diagnostics,
) -> Option<std::time::Duration> {
    let a = b.body.get_attribute(key)?;
    match attr_value(file, &a.value, &shared.scope(&[]), &shared.context(), diags)? {
        Value::String(s) => match kiln_core::duration::parse(&s) {
            Ok(d) => Some(d),
            Err(e) => {
                diags.push(
                    Diagnostic::error("Invalid duration", format!("{e}."))
                        .at(loc_of(file, &a.value)),
                );
                None
            }
        },
        _ => {
            diags.push(
                Diagnostic::error(
                    "Invalid duration",
                    format!("`{key}` must be a duration string such as \"30s\" or \"5m\"."),
                )
                .at(loc_of(file, &a.value)),
            );
            None
        }
    }
}

pub(crate) fn provisioner_spec(
    file: &Arc<SourceFile>,
    b: &Block,
    shared: &Arc<Shared>,
    diags: &mut Diagnostics,
) -> Option<ProvisionerSpec> {
    if !labels_exact(
        file,
        b,
        1,
        "the provisioner type, e.g. provisioner \"shell\"",
        diags,
    ) {
        return None;
    }
    let kind = label(b, 0).unwrap_or_default().to_string();
    let max_retries = b.body.get_attribute("max_retries").map_or(0, |a| {
        let v = attr_value(file, &a.value, &shared.scope(&[]), &shared.context(), diags);
        // As cty converts to Packer's `int` field: a number, or a string holding one.
        let n = match &v {
            None => return 0,
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
            Some(_) => None,
        };
        match n {
            Some(n) if n.fract() == 0.0 => {
                // A count below zero retries nothing, as Packer's loop does.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let n = n.clamp(0.0, f64::from(u32::MAX)) as u64;
                n
            }
            Some(_) => {
                diags.push(
                    Diagnostic::error(
                        "Unsuitable value type",
                        "`max_retries` must be a whole number.",
                    )
                    .at(loc_of(file, &a.value)),
                );
                0
            }
            None => {
                diags.push(
                    Diagnostic::error(
                        "Unsuitable value type",
                        "`max_retries` must be a number, such as 3.",
                    )
                    .at(loc_of(file, &a.value)),
                );
                0
            }
        }
    });
    let body = HclBody::new(
        shared.clone(),
        vec![Layer {
            file: file.clone(),
            body: b.body.clone(),
        }],
        format!("provisioner \"{kind}\""),
        &[
            "only",
            "except",
            "pause_before",
            "max_retries",
            "timeout",
            "override",
            "name",
            "continue_on_error",
        ],
        body::Kind::Provisioner,
        loc_of(file, &b.labels[0]),
    );
    Some(ProvisionerSpec {
        // As Packer's: shown by inspect (`shell-local.first`).
        name: b
            .body
            .get_attribute("name")
            .and_then(|a| attr_value(file, &a.value, &shared.scope(&[]), &shared.context(), diags))
            .and_then(|v| v.as_str().map(String::from)),
        only: meta_strings(file, b, "only", shared, diags),
        except: meta_strings(file, b, "except", shared, diags),
        pause_before: meta_duration(file, b, "pause_before", shared, diags),
        timeout: meta_duration(file, b, "timeout", shared, diags),
        max_retries: u32::try_from(max_retries).unwrap_or(u32::MAX),
        continue_on_error: b
            .body
            .get_attribute("continue_on_error")
            .and_then(|a| attr_value(file, &a.value, &shared.scope(&[]), &shared.context(), diags))
            .is_some_and(|v| v.as_bool() == Some(true) || v.as_str() == Some("true")),
        plugin: PluginSpec {
            kind,
            body: Arc::new(body),
            location: loc_of(file, &b.labels[0]),
        },
    })
}

pub(crate) fn post_processor_spec(
    file: &Arc<SourceFile>,
    b: &Block,
    shared: &Arc<Shared>,
    diags: &mut Diagnostics,
) -> Option<PostProcessorSpec> {
    if !labels_exact(
        file,
        b,
        1,
        "the post-processor type, e.g. post-processor \"manifest\"",
        diags,
    ) {
        return None;
    }
    let kind = label(b, 0).unwrap_or_default().to_string();
    let (scope, ctx) = (shared.scope(&[]), shared.context());
    let keep = b
        .body
        .get_attribute("keep_input_artifact")
        .and_then(|a| attr_value(file, &a.value, &scope, &ctx, diags))
        .and_then(|v| v.as_bool());
    let name = b
        .body
        .get_attribute("name")
        .and_then(|a| attr_value(file, &a.value, &scope, &ctx, diags))
        .and_then(|v| v.as_str().map(String::from));
    let body = HclBody::new(
        shared.clone(),
        vec![Layer {
            file: file.clone(),
            body: b.body.clone(),
        }],
        format!("post-processor \"{kind}\""),
        &["only", "except", "keep_input_artifact", "name"],
        body::Kind::PostProcessor,
        loc_of(file, &b.labels[0]),
    );
    Some(PostProcessorSpec {
        name,
        only: meta_strings(file, b, "only", shared, diags),
        except: meta_strings(file, b, "except", shared, diags),
        keep_input_artifact: keep,
        plugin: PluginSpec {
            kind,
            body: Arc::new(body),
            location: loc_of(file, &b.labels[0]),
        },
    })
}

/// A build block's `hcp_packer_registry`: the catalog bucket (Kiln records builds in its own
/// catalog; nothing is sent to HCP).
fn registry_spec(
    file: &Arc<SourceFile>,
    b: &hcl::edit::structure::Block,
    scope: &Scope,
    ctx: &hcl::eval::Context,
    diags: &mut Diagnostics,
) -> kiln_core::plan::RegistrySpec {
    let mut r = kiln_core::plan::RegistrySpec::default();
    let labels =
        |v: Option<Value>, key: &str, loc, diags: &mut Diagnostics| -> Vec<(String, String)> {
            match v {
                Some(Value::Object(m)) => m
                    .into_iter()
                    .map(|(k, v)| {
                        (
                            k,
                            match v {
                                Value::String(s) => s,
                                other => other.to_string(),
                            },
                        )
                    })
                    .collect(),
                Some(Value::Null) | None => Vec::new(),
                Some(_) => {
                    diags.push(
                        Diagnostic::error(
                            "Invalid labels",
                            format!(
                                "{key} must be a map of strings, such as {{ os = \"debian\" }}."
                            ),
                        )
                        .at(loc),
                    );
                    Vec::new()
                }
            }
        };
    for a in b.body.attributes() {
        let loc = loc_of(file, &a.key);
        let v = attr_value(file, &a.value, scope, ctx, diags);
        match a.key.as_str() {
            "bucket_name" => r.bucket_name = v.and_then(|v| v.as_str().map(String::from)),
            "description" => r.description = v.and_then(|v| v.as_str().map(String::from)),
            "bucket_labels" => r.bucket_labels = labels(v, "bucket_labels", loc, diags),
            "build_labels" => r.build_labels = labels(v, "build_labels", loc, diags),
            other => {
                let mut detail = format!("An argument named \"{other}\" is not expected in an hcp_packer_registry block.");
                if let Some(s) = suggest(
                    other,
                    [
                        "bucket_name",
                        "description",
                        "bucket_labels",
                        "build_labels",
                    ],
                ) {
                    detail.push_str(&format!(" Did you mean \"{s}\"?"));
                }
                diags.push(Diagnostic::error("Unsupported argument", detail).at(loc));
            }
        }
    }
    r
}
