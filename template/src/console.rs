//! `kiln console`: one input evaluated against a loaded template, with sensitive results masked.

use super::*;

impl Template {
    /// Evaluates one `kiln console` input: an HCL2 expression against the template's variables,
    /// locals and data sources, or, for a legacy JSON template, a template-engine string.
    ///
    /// # Errors
    /// A parse or evaluation error, located in the input.
    pub fn console_eval(&self, input: &str) -> Result<String, Diagnostics> {
        match &self.console {
            Console::Legacy(ctx) => {
                let secrets = kiln_core::event::Secrets::default();
                for s in &self.plan.secrets {
                    secrets.add(s);
                }
                gotmpl::render(input, ctx)
                    .map(|out| secrets.scrub(&out))
                    .map_err(|e| {
                        Diagnostics::from(Diagnostic::error("Error in template", e))
                            .scrubbed(&secrets)
                    })
            }
            Console::Hcl(shared) => {
                let file = Arc::new(SourceFile {
                    name: "<console-input>".into(),
                    text: input.to_string(),
                });
                let expr = hcl::edit::parser::parse_expr(input).map_err(|e| {
                    Diagnostics::from(
                        Diagnostic::error("Invalid expression", format!("{}.", e.message())).at(
                            Some(Location {
                                line_start: 0,
                                file: file.name.clone(),
                                line: e.location().line(),
                                column: e.location().column(),
                                width: 1,
                                source_line: e.line().to_string(),
                            }),
                        ),
                    )
                })?;
                let ctx = shared.context();
                let secrets = kiln_core::event::Secrets::default();
                for s in self.secrets() {
                    secrets.add(&s);
                }
                // A result made from a sensitive variable or local is sensitive as a whole;
                // any other (`var`, a map holding one) shows the sensitive values masked.
                let sensitive = refs(&expr, "var")
                    .iter()
                    .any(|r| self.variables.get(r).is_some_and(|v| v.sensitive))
                    || refs(&expr, "local")
                        .iter()
                        .any(|r| self.sensitive_locals.contains(r));
                // `var` or `local` alone: the map, with each sensitive entry masked.
                if let hcl::edit::expr::Expression::Variable(root) = &expr {
                    let masked = |m: &IndexMap<String, Value>, hide: &dyn Fn(&str) -> bool| {
                        Value::Object(
                            m.iter()
                                .map(|(k, v)| {
                                    let v = if hide(k) {
                                        Value::from("<sensitive>")
                                    } else {
                                        v.clone()
                                    };
                                    (k.clone(), v)
                                })
                                .collect(),
                        )
                    };
                    match root.as_str() {
                        "var" => {
                            let vals: IndexMap<String, Value> = self
                                .variables
                                .iter()
                                .map(|(k, v)| (k.clone(), v.value.clone().unwrap_or(Value::Null)))
                                .collect();
                            let hide = |k: &str| self.variables.get(k).is_some_and(|v| v.sensitive);
                            return Ok(format_value(&masked(&vals, &hide)));
                        }
                        "local" => {
                            let hide = |k: &str| self.sensitive_locals.contains(k);
                            return Ok(format_value(&masked(&self.locals, &hide)));
                        }
                        _ => {}
                    }
                }
                // File functions read relative to the template's directory, as in the template.
                let dir = Some(self.plan.template_dir.as_path());
                crate::functions::with_base_dir(dir, || {
                    eval::eval(&expr, &file, &shared.scope(&[]), &ctx)
                })
                .map(|v| {
                    if sensitive {
                        "<sensitive>".to_string()
                    } else {
                        secrets.scrub(&format_value(&v))
                    }
                })
                .map_err(|d| Diagnostics(d).scrubbed(&secrets))
            }
        }
    }
}
