//! Expression evaluation with located errors: reference checks ("did you mean"), then hcl-rs
//! evaluation, with every error pointing at the expression in its file.

use crate::SourceFile;
use hcl::edit::expr::{Expression as EExpr, TraversalOperator};
use hcl::edit::visit::{self, Visit};
use hcl::edit::Span;
use hcl::eval::{Context, Evaluate};
use hcl::Value;
use kiln_core::config::{suggest, Diagnostic, Location};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Names an expression may refer to, for reference checks.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Root name (`var`, `local`, `path` ...) to its known attribute names. `None` means any.
    pub roots: Vec<(String, Option<BTreeSet<String>>)>,
    /// Whether functions may be called (false in var files).
    pub functions: bool,
    /// Extra function names allowed here (`env` in variable defaults).
    pub extra_functions: Vec<&'static str>,
    /// Only the extra functions may be called (variable defaults: Packer allows `env` alone).
    pub only_extra_functions: bool,
}

struct RefCheck<'a> {
    scope: &'a Scope,
    file: &'a SourceFile,
    diags: Vec<Diagnostic>,
    iter_vars: BTreeSet<String>,
}

impl RefCheck<'_> {
    fn loc(&self, span: Option<std::ops::Range<usize>>) -> Option<Location> {
        span.map(|s| Location::from_span(&self.file.name, &self.file.text, s))
    }
}

impl Visit for RefCheck<'_> {
    fn visit_for_expr(&mut self, node: &hcl::edit::expr::ForExpr) {
        if let Some(k) = &node.intro.key_var {
            self.iter_vars.insert(k.as_str().to_string());
        }
        self.iter_vars
            .insert(node.intro.value_var.as_str().to_string());
        visit::visit_for_expr(self, node);
    }

    fn visit_for_template_expr(&mut self, node: &hcl::edit::template::ForTemplateExpr) {
        if let Some(k) = &node.key_var {
            self.iter_vars.insert(k.as_str().to_string());
        }
        self.iter_vars.insert(node.value_var.as_str().to_string());
        visit::visit_for_template_expr(self, node);
    }

    fn visit_expr(&mut self, node: &EExpr) {
        match node {
            EExpr::Variable(v) => {
                let name = v.as_str();
                if !self.iter_vars.contains(name)
                    && !self.scope.roots.iter().any(|(r, _)| r == name)
                {
                    let mut detail = format!("There is no variable named \"{name}\".");
                    if let Some(s) = suggest(name, self.scope.roots.iter().map(|(r, _)| r.as_str()))
                    {
                        detail.push_str(&format!(" Did you mean \"{s}\"?"));
                    }
                    self.diags.push(
                        Diagnostic::error("Unknown variable", detail).at(self.loc(node.span())),
                    );
                }
            }
            EExpr::Traversal(t) => {
                if let (EExpr::Variable(root), Some(first)) = (&t.expr, t.operators.first()) {
                    if let TraversalOperator::GetAttr(attr) = first.value() {
                        let root = root.as_str();
                        if let Some((_, Some(known))) =
                            self.scope.roots.iter().find(|(r, _)| r == root)
                        {
                            let name = attr.as_str();
                            if !known.contains(name) {
                                let (summary, what) = match root {
                                    "var" => ("Undefined variable", format!("A variable named \"{name}\" was not declared. Declare it with a `variable \"{name}\" {{ ... }}` block.")),
                                    "local" => ("Undefined local", format!("A local named \"{name}\" was not declared in a `locals` block.")),
                                    _ => ("Unsupported attribute", format!("\"{root}\" has no attribute named \"{name}\".")),
                                };
                                let mut detail = what;
                                if let Some(s) = suggest(name, known.iter().map(String::as_str)) {
                                    detail.push_str(&format!(" Did you mean \"{root}.{s}\"?"));
                                }
                                self.diags.push(
                                    Diagnostic::error(summary, detail).at(self.loc(t.span())),
                                );
                                return;
                            }
                        }
                    }
                }
                visit::visit_traversal(self, t);
                return;
            }
            EExpr::FuncCall(call) => {
                let name = call.name.name.as_str();
                if matches!(name, "try" | "can")
                    && self.scope.functions
                    && !self.scope.only_extra_functions
                {
                    // As HCL: what goes wrong inside is what try and can catch (an unknown
                    // function or name too), so it is not checked beforehand.
                    return;
                }
                if name == "convert" && self.scope.functions {
                    // The second argument is a type (`list(string)`), not a value.
                    if let Some(first) = call.args.iter().next() {
                        self.visit_expr(first);
                    }
                    return;
                }
                let known = |n: &str| {
                    let general = known_anywhere(n)
                        || [
                            "vault",
                            "consul_key",
                            "aws_secretsmanager",
                            "aws_secretsmanager_raw",
                        ]
                        .contains(&n);
                    (general && !self.scope.only_extra_functions)
                        || self.scope.extra_functions.contains(&n)
                };
                if !self.scope.functions {
                    self.diags.push(
                        Diagnostic::error(
                            "Function calls not allowed",
                            "Functions may not be called here; give a literal value.",
                        )
                        .at(self.loc(node.span())),
                    );
                } else if !known(name) {
                    let mut detail = format!("There is no function named \"{name}\".");
                    if self.scope.only_extra_functions && known_anywhere(name) {
                        detail.push_str(" Only env() may be called in a variable's default, as in Packer: compute the value in a local instead.");
                    } else if name == "env" {
                        detail = "The \"env\" function may only be used in the default value of a variable, as in Packer. Declare a variable with `default = env(\"NAME\")` and use the variable.".into();
                    } else if let (false, Some(s)) = (
                        self.scope.only_extra_functions,
                        suggest(
                            name,
                            crate::functions::NAMES
                                .iter()
                                .chain(crate::functions_ext::NAMES)
                                .copied(),
                        ),
                    ) {
                        detail.push_str(&format!(" Did you mean \"{s}\"?"));
                    }
                    self.diags.push(
                        Diagnostic::error("Call to unknown function", detail)
                            .at(self.loc(call.name.name.span())),
                    );
                }
            }
            _ => {}
        }
        visit::visit_expr(self, node);
    }
}

fn known_anywhere(name: &str) -> bool {
    crate::functions::NAMES.contains(&name) || crate::functions_ext::NAMES.contains(&name)
}

/// What is wrong with the names `expr` uses (undeclared variables, unknown functions ...).
pub(crate) fn check_references(expr: &EExpr, file: &SourceFile, scope: &Scope) -> Vec<Diagnostic> {
    let mut check = RefCheck {
        scope,
        file,
        diags: Vec::new(),
        iter_vars: BTreeSet::new(),
    };
    check.visit_expr(expr);
    check.diags
}

/// Evaluates an expression with reference checks, returning located diagnostics on failure.
///
/// # Errors
/// Unknown names (with suggestions) or evaluation errors, at the expression.
pub fn eval(
    expr: &EExpr,
    file: &Arc<SourceFile>,
    scope: &Scope,
    ctx: &Context,
) -> Result<Value, Vec<Diagnostic>> {
    let problems = check_references(expr, file, scope);
    if !problems.is_empty() {
        return Err(problems);
    }
    let base = std::path::Path::new(&file.name).parent();
    crate::functions::with_base_dir(base, || evaluate_in(expr, file, ctx))
}

fn evaluate_in(expr: &EExpr, file: &SourceFile, ctx: &Context) -> Result<Value, Vec<Diagnostic>> {
    let e = crate::ordered::rewrite(fix_heredocs(expr, file).into());
    let e = crate::lazy::prepare(e, ctx).map_err(|m| {
        vec![
            Diagnostic::error("Error in function call", format!("{m}.")).at(expr
                .span()
                .map(|s| Location::from_span(&file.name, &file.text, s))),
        ]
    })?;
    e.evaluate(ctx).map(crate::ordered::sorted).map_err(|err| {
        let msg = err.kind().to_string();
        let (summary, detail) = match err.kind() {
            hcl::eval::ErrorKind::FuncCall(name, m) if name.to_string() == crate::ops::INDEX_FN => {
                (
                    "Invalid index".to_string(),
                    format!("{m}{}", if m.ends_with('.') { "" } else { "." }),
                )
            }
            // Kiln's internal functions (operators, templates) are not the user's calls.
            hcl::eval::ErrorKind::FuncCall(name, m) if name.to_string().starts_with("__kiln") => (
                "Invalid expression".to_string(),
                format!(
                    "{}{}",
                    upper_first(m),
                    if m.ends_with('.') { "" } else { "." }
                ),
            ),
            hcl::eval::ErrorKind::FuncCall(name, m) => (
                "Error in function call".to_string(),
                format!("Call to function \"{name}\" failed: {m}."),
            ),
            // hcl-rs says the same of `x.k` and of `x["k"]`; HCL does not.
            hcl::eval::ErrorKind::NoSuchKey(k) if has_get_attr(expr, k) => (
                "Unsupported attribute".into(),
                format!("This object does not have an attribute named \"{k}\"."),
            ),
            hcl::eval::ErrorKind::NoSuchKey(_) | hcl::eval::ErrorKind::Index(_) => (
                "Invalid index".into(),
                "The given key does not identify an element in this collection value.".into(),
            ),
            _ => (
                "Invalid expression".into(),
                format!(
                    "{}{}",
                    upper_first(&msg),
                    if msg.ends_with('.') { "" } else { "." }
                ),
            ),
        };
        vec![Diagnostic::error(summary, detail).at(expr
            .span()
            .map(|s| Location::from_span(&file.name, &file.text, s)))]
    })
}

/// Whether `expr` reads an attribute `.name` anywhere.
fn has_get_attr(expr: &EExpr, name: &str) -> bool {
    use hcl::edit::visit::Visit;
    struct F<'a>(&'a str, bool);
    impl Visit for F<'_> {
        fn visit_traversal(&mut self, t: &hcl::edit::expr::Traversal) {
            for op in &t.operators {
                if let hcl::edit::expr::TraversalOperator::GetAttr(a) = op.value() {
                    self.1 |= a.as_str() == self.0;
                }
            }
            hcl::edit::visit::visit_traversal(self, t);
        }
    }
    let mut f = F(name, false);
    f.visit_expr(expr);
    f.1
}

/// Re-reads `<<-` heredocs from the source with the indentation removed from every line, as the
/// HCL spec says; the parser only dedents the text outside `%{ }` directives.
fn fix_heredocs(expr: &EExpr, file: &SourceFile) -> EExpr {
    struct Fix<'a>(&'a SourceFile);
    impl hcl::edit::visit_mut::VisitMut for Fix<'_> {
        fn visit_expr_mut(&mut self, node: &mut EExpr) {
            if let EExpr::HeredocTemplate(h) = node {
                if h.indent().is_some() {
                    if let Some(fixed) = dedent_heredoc(h, self.0) {
                        *node = EExpr::HeredocTemplate(Box::new(fixed));
                        return;
                    }
                }
            }
            hcl::edit::visit_mut::visit_expr_mut(self, node);
        }
    }
    let mut e = expr.clone();
    if file.text.contains("<<-") {
        hcl::edit::visit_mut::VisitMut::visit_expr_mut(&mut Fix(file), &mut e);
    }
    hcl::edit::visit_mut::VisitMut::visit_expr_mut(&mut ExactNumbers(&file.text), &mut e);
    e
}

/// Gives number literals cty's value: 512 bits from their text (`0.1` is not the float64
/// nearest to it, `123456789012345678901234567890` is exact).
struct ExactNumbers<'a>(&'a str);

/// [`ExactNumbers`] for a template parsed from `text`.
pub(crate) fn exact_numbers_in_template(t: &mut hcl::edit::template::Template, text: &str) {
    hcl::edit::visit_mut::VisitMut::visit_template_mut(&mut ExactNumbers(text), t);
}

impl hcl::edit::visit_mut::VisitMut for ExactNumbers<'_> {
    fn visit_expr_mut(&mut self, node: &mut EExpr) {
        if let EExpr::Number(n) = node {
            // The literal as written (its span in the file; a heredoc re-read has none).
            let text = n
                .span()
                .and_then(|s| self.0.get(s))
                .map(str::to_string)
                .or_else(|| n.as_repr().map(|r| r.to_string()))
                .filter(|t| !t.is_empty());
            if let Some(t) = text.filter(|t| t.parse::<u64>().is_err()) {
                if let Some(b) = crate::bignum::Big::parse(&t, crate::bignum::PREC) {
                    *n.value_mut() = crate::bignum::to_number(&b);
                }
            }
            return;
        }
        hcl::edit::visit_mut::visit_expr_mut(self, node);
    }
}

fn dedent_heredoc(
    h: &hcl::edit::template::HeredocTemplate,
    file: &SourceFile,
) -> Option<hcl::edit::template::HeredocTemplate> {
    let raw = file.text.get(h.span()?)?;
    let body = &raw[raw.find('\n')? + 1..];
    let body = &body[..body.rfind('\n').map_or(0, |i| i + 1)];
    let dedented = crate::heredoc::dedent(body)?;
    let template: hcl::edit::template::Template = dedented.parse().ok()?;
    Some(hcl::edit::template::HeredocTemplate::new(
        h.delimiter.clone(),
        template,
    ))
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
}

/// The location of anything with a span in `file`.
pub fn loc_of(file: &SourceFile, node: &impl Span) -> Option<Location> {
    node.span()
        .map(|s| Location::from_span(&file.name, &file.text, s))
}
