//! Input variables: declarations, values from defaults, `PKR_VAR_`, var files and `-var` in
//! Packer's precedence, type conversion, and validation blocks.

use super::*;

pub(crate) fn declare_variables(
    parsed: &Parsed,
    diags: &mut Diagnostics,
) -> IndexMap<String, Variable> {
    let mut vars: IndexMap<String, Variable> = IndexMap::new();
    let mut ctx = Context::new();
    functions::declare(&mut ctx, true);
    let scope = Scope {
        functions: true,
        extra_functions: vec!["env"],
        only_extra_functions: true,
        ..Scope::default()
    };
    for (file, body) in &parsed.files {
        for b in body.get_blocks("variable") {
            if !labels_exact(file, b, 1, "the variable name", diags) {
                continue;
            }
            let name = label(b, 0).unwrap_or_default().to_string();
            if let Some(prev) = vars.get(&name) {
                diags.push(
                    Diagnostic::error(
                        "Duplicate variable",
                        format!(
                            "A variable named \"{name}\" was already declared at {}.",
                            prev.location
                                .as_ref()
                                .map_or_else(String::new, ToString::to_string)
                        ),
                    )
                    .at(loc_of(file, b)),
                );
                continue;
            }
            let mut v = Variable {
                name: name.clone(),
                ty: Type::Any,
                value: None,
                description: String::new(),
                sensitive: false,
                location: loc_of(file, &b.labels[0]),
            };
            let mut default = None;
            for a in b.body.attributes() {
                match a.key.as_str() {
                    "type" => match types::parse(&a.value.clone().into()) {
                        Ok(t) => v.ty = t,
                        Err(e) => diags.push(
                            Diagnostic::error("Invalid type specification", format!("{e}."))
                                .at(loc_of(file, &a.value)),
                        ),
                    },
                    "default" => {
                        default = attr_value(file, &a.value, &scope, &ctx, diags)
                            .map(|d| (d, loc_of(file, &a.value)))
                    }
                    "description" => {
                        v.description = attr_value(file, &a.value, &scope, &ctx, diags)
                            .and_then(|d| d.as_str().map(String::from))
                            .unwrap_or_default()
                    }
                    "sensitive" => {
                        v.sensitive = attr_value(file, &a.value, &scope, &ctx, diags)
                            .and_then(|d| d.as_bool())
                            .unwrap_or(false)
                    }
                    other => {
                        let mut detail = format!(
                            "An argument named \"{other}\" is not expected in a variable block."
                        );
                        if let Some(s) =
                            suggest(other, ["type", "default", "description", "sensitive"])
                        {
                            detail.push_str(&format!(" Did you mean \"{s}\"?"));
                        }
                        diags.push(
                            Diagnostic::error("Unsupported argument", detail)
                                .at(loc_of(file, &a.key)),
                        );
                    }
                }
            }
            for nb in b.body.blocks() {
                if nb.ident.as_str() != "validation" {
                    diags.push(Diagnostic::error("Unsupported block type", format!("Blocks of type \"{}\" are not expected in a variable block; only validation is.", nb.ident.as_str())).at(loc_of(file, &nb.ident)));
                }
            }
            if let Some((d, loc)) = default {
                match types::convert(d, &v.ty) {
                    Ok(d) => v.value = Some(d),
                    Err(e) => diags.push(Diagnostic::error("Invalid default value for variable", format!("The \"default\" of variable \"{name}\" is not compatible with its type constraint {}: {}.", v.ty, type_error(&e, v.sensitive))).at(mask_location(loc, v.sensitive))),
                }
            }
            // As Packer: a variable without a type (or `any`) takes its default's type, unless
            // the default is null, `[]` or `{}`. Values from the command line, the environment and
            // var files are then read and converted as that type (`["d"]`: `-var x=[1]` is
            // `["1"]`).
            if v.ty == Type::Any {
                let empty = |d: &Value| match d {
                    Value::Array(a) => a.is_empty(),
                    Value::Object(o) => o.is_empty(),
                    _ => false,
                };
                if let Some(t) = v
                    .value
                    .as_ref()
                    .filter(|d| !empty(d))
                    .and_then(types::of_value)
                {
                    v.ty = t;
                }
            }
            vars.insert(name, v);
        }
        for b in body.get_blocks("variables") {
            for a in b.body.attributes() {
                let name = a.key.as_str().to_string();
                let value = attr_value(file, &a.value, &scope, &ctx, diags);
                vars.insert(
                    name.clone(),
                    Variable {
                        name,
                        // Packer: the value's own type.
                        ty: value
                            .as_ref()
                            .and_then(types::of_value)
                            .unwrap_or(Type::Any),
                        value,
                        description: String::new(),
                        sensitive: false,
                        location: loc_of(file, &a.key),
                    },
                );
            }
        }
    }
    vars
}

/// A type error about a variable's value; for a sensitive variable, without the value.
pub(crate) fn type_error(e: &str, sensitive: bool) -> String {
    if !sensitive {
        return e.to_string();
    }
    match e.split_once(", but ") {
        Some((what, _)) => what.to_string(),
        None if e.contains('"') => "the value does not match the type".to_string(),
        None => e.to_string(),
    }
}

/// A location that, for a sensitive value, does not quote the source line (which holds it).
pub(crate) fn mask_location(loc: Option<Location>, sensitive: bool) -> Option<Location> {
    loc.map(|mut l| {
        if sensitive {
            l.source_line = "<sensitive>".to_string();
            l.width = 0;
        }
        l
    })
}

pub(crate) fn cli_value(raw: &str, ty: &Type) -> Result<Value, String> {
    // As Packer: a string, number or untyped variable takes the text as it is; any other type
    // (bool too: `-var 'b="true"'`) reads it as an HCL expression.
    let v = match ty {
        Type::String | Type::Any | Type::Number => Value::from(raw),
        _ => {
            let e = hcl::edit::parser::parse_expr(raw)
                .map_err(|e| format!("cannot parse {raw:?} as a value: {}", e.message()))?;
            let e: hcl::Expression = e.into();
            hcl::eval::Evaluate::evaluate(&e, &Context::new()).map_err(|e| e.to_string())?
        }
    };
    types::convert(ordered::sorted(v), ty)
}

pub(crate) fn assign_variables(
    vars: &mut IndexMap<String, Variable>,
    opts: &LoadOptions,
    auto: &[PathBuf],
    diags: &mut Diagnostics,
) {
    // PKR_VAR_x: only for declared variables, as Packer.
    for (k, raw) in &opts.env {
        if let Some(name) = k.strip_prefix("PKR_VAR_") {
            if let Some(v) = vars.get_mut(name) {
                match cli_value(raw, &v.ty) {
                    Ok(val) => v.value = Some(val),
                    Err(e) => diags.push(Diagnostic::error("Invalid value for variable", format!("The environment variable {k} is not a valid value for variable \"{name}\": {}.", type_error(&e, v.sensitive)))),
                }
            }
        }
    }
    let scope = Scope {
        functions: false,
        ..Scope::default()
    };
    for path in auto.iter().chain(&opts.var_files) {
        let Some(text) = crate::read_as(path, "Cannot read var file", diags) else {
            continue;
        };
        let name = path.display().to_string();
        if name.ends_with(".json") {
            match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&text) {
                Ok(m) => {
                    // `"//"` is a comment in HCL's JSON syntax, not a variable.
                    for (k, jv) in m.into_iter().filter(|(k, _)| k != "//") {
                        let val = hcl::to_value(jv).unwrap_or(Value::Null);
                        set_from_file(vars, &k, val, None, &name, diags);
                    }
                }
                Err(e) => diags.push(Diagnostic::error(
                    "Invalid JSON var file",
                    format!("{name}: {e}."),
                )),
            }
            continue;
        }
        let Some((file, body)) = parse_file(&name, text, diags) else {
            continue;
        };
        for s in body.iter() {
            match s {
                Structure::Attribute(a) => {
                    if let Some(val) = attr_value(&file, &a.value, &scope, &Context::new(), diags) {
                        set_from_file(
                            vars,
                            a.key.as_str(),
                            val,
                            loc_of(&file, &a.value),
                            &name,
                            diags,
                        );
                    }
                }
                Structure::Block(b) => diags.push(
                    Diagnostic::error(
                        "Unexpected block",
                        "Var files may only contain `name = value` assignments.",
                    )
                    .at(loc_of(&file, &b.ident)),
                ),
            }
        }
    }
    for (k, raw) in &opts.vars {
        match vars.get_mut(k) {
            Some(v) => match cli_value(raw, &v.ty) {
                Ok(val) => v.value = Some(val),
                Err(e) => diags.push(Diagnostic::error("Invalid value for variable", format!("The value given with -var {k}=... is not valid for variable \"{k}\" (type {}): {}.", v.ty, type_error(&e, v.sensitive)))),
            },
            None => {
                let mut detail = format!("A \"{k}\" variable was passed in with -var but was not found in the known variables. To declare it, put a `variable \"{k}\" {{}}` block in one of your .pkr.hcl files.");
                if let Some(s) = suggest(k, vars.keys().map(String::as_str)) {
                    detail.push_str(&format!(" Did you mean \"{s}\"?"));
                }
                diags.push(Diagnostic::error("Undefined -var variable", detail));
            }
        }
    }
}

pub(crate) fn set_from_file(
    vars: &mut IndexMap<String, Variable>,
    k: &str,
    val: Value,
    loc: Option<Location>,
    file: &str,
    diags: &mut Diagnostics,
) {
    match vars.get_mut(k) {
        Some(v) => match types::convert(ordered::sorted(val), &v.ty) {
            Ok(val) => v.value = Some(val),
            Err(e) => diags.push(
                Diagnostic::error(
                    "Invalid value for variable",
                    format!(
                        "The value of \"{k}\" is not valid for its type {}: {}.",
                        v.ty,
                        type_error(&e, v.sensitive)
                    ),
                )
                .at(mask_location(loc, v.sensitive)),
            ),
        },
        None => {
            let mut detail = format!(
                "The variable \"{k}\" set in {file} was not declared; the value is ignored."
            );
            match suggest(k, vars.keys().map(String::as_str)) {
                Some(s) => detail.push_str(&format!(" Did you mean \"{s}\"?")),
                None => detail.push_str(&format!(
                    " Declare it with a `variable \"{k}\" {{}}` block."
                )),
            }
            diags.push(Diagnostic::warning("Undefined variable", detail).at(loc));
        }
    }
}

pub(crate) fn validate_variables(
    parsed: &Parsed,
    vars: &IndexMap<String, Variable>,
    var_value: &Value,
    diags: &mut Diagnostics,
) {
    let mut ctx = Context::new();
    functions::declare(&mut ctx, false);
    ctx.declare_var("var", var_value.clone());
    for (file, body) in &parsed.files {
        for b in body.get_blocks("variable") {
            let Some(name) = label(b, 0) else { continue };
            let Some(var) = vars.get(name) else { continue };
            if var.value.is_none() {
                continue;
            }
            let scope = Scope {
                roots: vec![("var".into(), Some([name.to_string()].into()))],
                functions: true,
                extra_functions: vec![],
                only_extra_functions: false,
            };
            for vb in b.body.get_blocks("validation") {
                let cond = vb.body.get_attribute("condition");
                let msg = vb.body.get_attribute("error_message");
                let (Some(cond), Some(msg)) = (cond, msg) else {
                    diags.push(
                        Diagnostic::error(
                            "Invalid validation block",
                            "A validation block needs both `condition` and `error_message`.",
                        )
                        .at(loc_of(file, &vb.ident)),
                    );
                    continue;
                };
                if !refers_to_var(&cond.value, name) {
                    diags.push(
                        Diagnostic::error(
                            "Invalid variable validation condition",
                            format!("The condition for variable \"{name}\" must refer to var.{name} in order to test incoming values."),
                        )
                        .at(loc_of(file, &cond.value)),
                    );
                    continue;
                }
                let message = attr_value(file, &msg.value, &scope, &ctx, diags)
                    .and_then(|m| m.as_str().map(String::from))
                    .unwrap_or_default();
                // As Packer: the message is shown inside a longer one, so it must read as one.
                let bad_message = if message.is_empty() {
                    Some("An empty string is not a valid nor useful error message.")
                } else if !looks_like_sentences(&message) {
                    Some("Validation error message must be at least one full sentence starting with an uppercase letter ( if the alphabet permits it ) and ending with a period or question mark.")
                } else {
                    None
                };
                if let Some(detail) = bad_message {
                    diags.push(
                        Diagnostic::error("Invalid validation error message", detail)
                            .at(loc_of(file, &msg.value)),
                    );
                    continue;
                }
                let Some(ok) = attr_value(file, &cond.value, &scope, &ctx, diags) else {
                    continue;
                };
                match ok {
                    Value::Bool(true) => {}
                    Value::Bool(false) => diags.push(
                        Diagnostic::error(
                            "Invalid value for variable",
                            format!(
                                "{message}\n\nThis was checked by the validation rule at {}.",
                                loc_of(file, &cond.value)
                                    .map_or_else(String::new, |l| l.to_string())
                            ),
                        )
                        .at(var.location.clone()),
                    ),
                    other => diags.push(
                        Diagnostic::error(
                            "Invalid validation condition",
                            format!(
                                "The condition must be a bool, not a {}.",
                                functions::type_name(&other)
                            ),
                        )
                        .at(loc_of(file, &cond.value)),
                    ),
                }
            }
        }
    }
}

/// Packer's test of a validation message: its first letter (if it begins with one) upper case,
/// its last character `.`, `?` or `!`, after trimming spaces.
fn looks_like_sentences(s: &str) -> bool {
    let s = s.trim();
    let (Some(first), Some(last)) = (s.chars().next(), s.chars().last()) else {
        return false;
    };
    if first.is_alphabetic() && !first.is_uppercase() {
        return false;
    }
    matches!(last, '.' | '?' | '!')
}

/// Whether `e` reads `var.NAME` (a validation condition must).
fn refers_to_var(e: &hcl::edit::expr::Expression, name: &str) -> bool {
    use hcl::edit::expr::{Expression as E, TraversalOperator as Op};
    use hcl::edit::visit::Visit;
    struct Finder<'a>(&'a str, bool);
    impl Visit for Finder<'_> {
        fn visit_traversal(&mut self, t: &hcl::edit::expr::Traversal) {
            if matches!(&t.expr, E::Variable(v) if v.as_str() == "var")
                && matches!(t.operators.first().map(|o| o.value()), Some(Op::GetAttr(a)) if a.as_str() == self.0)
            {
                self.1 = true;
            }
            hcl::edit::visit::visit_traversal(self, t);
        }
    }
    let mut f = Finder(name, false);
    f.visit_expr(e);
    f.1
}
