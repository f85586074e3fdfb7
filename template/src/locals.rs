//! Locals, evaluated in dependency order; a local made from a sensitive value is sensitive.

use super::*;

pub(crate) fn local_refs(expr: &EExpr) -> BTreeSet<String> {
    refs(expr, "local")
}

/// The attributes of `root` (`var`, `local`) that `expr` refers to.
pub(crate) fn refs(expr: &EExpr, root_name: &str) -> BTreeSet<String> {
    use hcl::edit::visit::Visit;
    struct R<'a>(BTreeSet<String>, &'a str);
    impl Visit for R<'_> {
        fn visit_traversal(&mut self, t: &hcl::edit::expr::Traversal) {
            if let (EExpr::Variable(root), Some(first)) = (&t.expr, t.operators.first()) {
                if root.as_str() == self.1 {
                    if let hcl::edit::expr::TraversalOperator::GetAttr(a) = first.value() {
                        self.0.insert(a.as_str().to_string());
                    }
                }
            }
            hcl::edit::visit::visit_traversal(self, t);
        }
    }
    let mut r = R(BTreeSet::new(), root_name);
    r.visit_expr(expr);
    r.0
}

/// The `data` object the locals see, and whether the data sources were not run (their outputs
/// are placeholders).
pub(crate) struct DataValues<'a> {
    pub(crate) value: &'a Value,
    pub(crate) not_run: bool,
}

/// The locals' values and what is known of them beyond their values.
pub(crate) struct Evaluated {
    /// In declaration order; a local whose evaluation failed is left out.
    pub values: IndexMap<String, Value>,
    /// Locals made from sensitive values.
    pub sensitive: BTreeSet<String>,
    /// Locals computed from data sources that were not run (unknown at validate).
    pub unknown: BTreeSet<String>,
    /// `local.NAME` of the locals that are sets (cty keeps the type; hcl-rs does not).
    pub sets: BTreeSet<String>,
}

pub(crate) fn evaluate_locals(
    parsed: &Parsed,
    var_value: &Value,
    vars: &IndexMap<String, Variable>,
    path: &Value,
    data: &DataValues<'_>,
    secrets: &kiln_core::event::Secrets,
    diags: &mut Diagnostics,
) -> Evaluated {
    // Locals computed from a data source's outputs, when data sources are not run.
    let mut unknown: BTreeSet<String> = BTreeSet::new();
    // Locals whose evaluation failed: they have no value (`inspect`, which goes on after
    // errors, does not show them, as Packer).
    let mut failed: BTreeSet<String> = BTreeSet::new();
    let mut defs: IndexMap<String, (Arc<SourceFile>, EExpr, Option<Location>)> = IndexMap::new();
    let mut sensitive = BTreeSet::new();
    let mut sets: BTreeSet<String> = vars
        .values()
        .filter(|v| matches!(v.ty, crate::types::Type::Set(_)))
        .map(|v| format!("var.{}", v.name))
        .collect();
    for (file, body) in &parsed.files {
        for b in body.get_blocks("locals") {
            for a in b.body.attributes() {
                let name = a.key.as_str().to_string();
                if defs.contains_key(&name) {
                    diags.push(
                        Diagnostic::error(
                            "Duplicate local",
                            format!("A local named \"{name}\" was already defined."),
                        )
                        .at(loc_of(file, &a.key)),
                    );
                }
                defs.insert(name, (file.clone(), a.value.clone(), loc_of(file, &a.key)));
            }
        }
        for b in body.get_blocks("local") {
            if !labels_exact(file, b, 1, "the local name", diags) {
                continue;
            }
            let name = label(b, 0).unwrap_or_default().to_string();
            match b.body.get_attribute("expression") {
                Some(e) => {
                    defs.insert(
                        name.clone(),
                        (file.clone(), e.value.clone(), loc_of(file, &b.labels[0])),
                    );
                }
                None => diags.push(
                    Diagnostic::error(
                        "Missing required argument",
                        "A local block needs an `expression`.",
                    )
                    .at(loc_of(file, &b.ident)),
                ),
            }
            if let Some(s) = b.body.get_attribute("sensitive") {
                if matches!(&s.value, EExpr::Bool(v) if *v.value()) {
                    sensitive.insert(name);
                }
            }
        }
    }
    let names: BTreeSet<String> = defs.keys().cloned().collect();
    let shared = Shared {
        var: var_value.clone(),
        local: Value::Null,
        path: path.clone(),
        data: data.value.clone(),
        var_names: vars.keys().cloned().collect(),
        local_names: names,
        unknown_locals: None,
        sets: BTreeSet::new(),
    };
    let scope = shared.scope(&[]);
    let mut done: IndexMap<String, Value> = IndexMap::new();
    let mut pending: Vec<String> = defs.keys().cloned().collect();
    while !pending.is_empty() {
        let ready: Vec<String> = pending
            .iter()
            .filter(|n| {
                local_refs(&defs[*n].1)
                    .iter()
                    .all(|r| done.contains_key(r) || !defs.contains_key(r))
            })
            .cloned()
            .collect();
        if ready.is_empty() {
            for n in &pending {
                diags.push(
                    Diagnostic::error(
                        "Cycle in locals",
                        format!(
                            "The local \"{n}\" depends on itself through {}.",
                            local_refs(&defs[n].1)
                                .into_iter()
                                .filter(|r| pending.contains(r))
                                .map(|r| format!("local.{r}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                    .at(defs[n].2.clone()),
                );
            }
            break;
        }
        for n in &ready {
            let mut ctx = shared.context();
            ctx.declare_var(
                "local",
                Value::Object(done.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
            );
            let (file, expr, _) = &defs[n];
            if crate::types::yields_set(expr, &sets) {
                sets.insert(format!("local.{n}"));
            }
            // As cty's marks: a local made from a sensitive variable or local is sensitive.
            if refs(expr, "var")
                .iter()
                .any(|r| vars.get(r).is_some_and(|v| v.sensitive))
                || local_refs(expr).iter().any(|r| sensitive.contains(r))
            {
                sensitive.insert(n.clone());
            }
            let mut errs = Diagnostics::default();
            let v = attr_value(file, expr, &scope, &ctx, &mut errs).unwrap_or(Value::Null);
            if sensitive.contains(n) {
                let mut out = Vec::new();
                leaves(&v, &mut out);
                for l in out {
                    secrets.add(&l);
                }
            }
            // As cty's unknowns at validate: what is computed from an output of a data
            // source that was not run is itself unknown, and not an error.
            let from_unknown = data.not_run
                && (!refs(expr, "data").is_empty()
                    || local_refs(expr).iter().any(|r| unknown.contains(r)));
            if from_unknown {
                unknown.insert(n.clone());
            }
            let v = if from_unknown && errs.has_errors() {
                Value::from(crate::data::UNKNOWN)
            } else {
                if errs.has_errors() {
                    failed.insert(n.clone());
                }
                diags.extend(errs);
                v
            };
            done.insert(n.clone(), v);
        }
        pending.retain(|n| !ready.contains(n));
    }
    // Keep declaration order.
    let ordered = defs
        .keys()
        .filter(|k| !failed.contains(*k))
        .filter_map(|k| done.get(k).map(|v| (k.clone(), v.clone())))
        .collect();
    Evaluated {
        values: ordered,
        sensitive,
        unknown,
        sets,
    }
}
