//! HCL2 templates in JSON syntax (`*.pkr.json`): translated into native syntax, then loaded like
//! any `*.pkr.hcl` file. Which keys are blocks, and how many labels they take, follows Packer's
//! template schema; inside plugin bodies an array of objects is a list of nested blocks and an
//! object is a map attribute. Strings are templates (`"${var.x}"`); a string that is a single
//! `${...}` stands for the expression itself, as the HCL JSON spec says.

use serde_json::{Map, Value as J};

/// A block type in the schema: its label count and the block types it may contain.
struct Schema {
    labels: usize,
    children: &'static [(&'static str, &'static Schema)],
    /// Whether unknown object-valued keys are nested blocks (`true`) or map attributes.
    attrs_only: bool,
}

const PLUGIN: Schema = Schema {
    labels: 0,
    children: &[],
    attrs_only: false,
};
const LEAF: Schema = Schema {
    labels: 0,
    children: &[],
    attrs_only: true,
};
const VALIDATION: Schema = Schema {
    labels: 0,
    children: &[],
    attrs_only: true,
};
const VARIABLE: Schema = Schema {
    labels: 1,
    children: &[("validation", &VALIDATION)],
    attrs_only: true,
};
const SOURCE: Schema = Schema {
    labels: 2,
    children: &[],
    attrs_only: false,
};
const DATA: Schema = Schema {
    labels: 2,
    children: &[],
    attrs_only: false,
};
const PROVISIONER: Schema = Schema {
    labels: 1,
    children: &[],
    attrs_only: false,
};
const BUILD_SOURCE: Schema = Schema {
    labels: 1,
    children: &[],
    attrs_only: false,
};
const PP_LIST: Schema = Schema {
    labels: 0,
    children: &[("post-processor", &PROVISIONER)],
    attrs_only: true,
};
const BUILD: Schema = Schema {
    labels: 0,
    children: &[
        ("source", &BUILD_SOURCE),
        ("provisioner", &PROVISIONER),
        ("error-cleanup-provisioner", &PROVISIONER),
        ("post-processor", &PROVISIONER),
        ("post-processors", &PP_LIST),
        ("hcp_packer_registry", &PLUGIN),
    ],
    attrs_only: true,
};
const PACKER: Schema = Schema {
    labels: 0,
    children: &[("required_plugins", &LEAF)],
    attrs_only: true,
};
const LOCAL: Schema = Schema {
    labels: 1,
    children: &[],
    attrs_only: true,
};
const ROOT: Schema = Schema {
    labels: 0,
    children: &[
        ("packer", &PACKER),
        ("variable", &VARIABLE),
        ("variables", &LEAF),
        ("locals", &LEAF),
        ("local", &LOCAL),
        ("source", &SOURCE),
        ("data", &DATA),
        ("build", &BUILD),
    ],
    attrs_only: true,
};

fn quote_template(s: &str) -> String {
    // Outside `${ }` and `%{ }` the text is a quoted string's; inside, it is expression syntax
    // (`${upper("x")}`), which goes through as it is.
    let mut out = String::from("\"");
    let chars: Vec<char> = s.chars().collect();
    let mut depth = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if depth == 0 {
            // `$${` and `%%{` are escapes that stay as they are.
            if (c == '$' || c == '%')
                && chars.get(i + 1) == Some(&c)
                && chars.get(i + 2) == Some(&'{')
            {
                out.push(c);
                out.push(c);
                out.push('{');
                i += 3;
                continue;
            }
            if (c == '$' || c == '%') && chars.get(i + 1) == Some(&'{') {
                out.push(c);
                out.push('{');
                depth = 1;
                i += 2;
                continue;
            }
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                other => out.push(other),
            }
        } else {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                '"' => {
                    // A string inside the expression: copied whole, escapes included.
                    out.push('"');
                    i += 1;
                    while i < chars.len() && chars[i] != '"' {
                        if chars[i] == '\\' && i + 1 < chars.len() {
                            out.push(chars[i]);
                            i += 1;
                        }
                        out.push(chars[i]);
                        i += 1;
                    }
                }
                _ => {}
            }
            // (For a string, `c` is its quote: this closes it.)
            out.push(c);
        }
        i += 1;
    }
    out.push('"');
    out
}

/// A JSON string as an HCL expression: `"${expr}"` alone is `expr`; `type = "string"` in a
/// variable is the type keyword.
fn expr_of_string(s: &str, bare: bool) -> String {
    if bare {
        return s.to_string();
    }
    let t = s.trim();
    if t.len() > 3
        && t.starts_with("${")
        && t.ends_with('}')
        && !t[2..].contains("${")
        && balanced(&t[2..t.len() - 1])
    {
        return format!("({})", &t[2..t.len() - 1]);
    }
    quote_template(s)
}

fn balanced(s: &str) -> bool {
    let mut depth = 0i32;
    for c in s.chars() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

fn value(v: &J, indent: usize) -> String {
    match v {
        J::Null => "null".into(),
        J::Bool(b) => b.to_string(),
        J::Number(n) => n.to_string(),
        J::String(s) => expr_of_string(s, false),
        J::Array(a) => format!(
            "[{}]",
            a.iter()
                .map(|x| value(x, indent))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        J::Object(o) => {
            if o.is_empty() {
                return "{}".into();
            }
            let pad = " ".repeat(indent + 2);
            let mut s = String::from("{\n");
            for (k, x) in o {
                s.push_str(&format!(
                    "{pad}{} = {}\n",
                    quote_template(k),
                    value(x, indent + 2)
                ));
            }
            s.push_str(&" ".repeat(indent));
            s.push('}');
            s
        }
    }
}

fn block(
    out: &mut String,
    name: &str,
    labels: &[String],
    body: &Map<String, J>,
    schema: &Schema,
    indent: usize,
) -> Result<(), String> {
    let pad = " ".repeat(indent);
    out.push_str(&pad);
    out.push_str(name);
    for l in labels {
        out.push(' ');
        out.push_str(&quote_template(l));
    }
    out.push_str(" {\n");
    body_of(out, body, schema, indent + 2)?;
    out.push_str(&pad);
    out.push_str("}\n");
    Ok(())
}

/// Emits `n` levels of labels: `{"a": {"b": {body}}}` is `NAME "a" "b" { body }`; arrays of
/// bodies repeat the block.
fn labelled(
    out: &mut String,
    name: &str,
    v: &J,
    schema: &'static Schema,
    labels: Vec<String>,
    indent: usize,
) -> Result<(), String> {
    if labels.len() == schema.labels {
        return match v {
            J::Object(body) => block(out, name, &labels, body, schema, indent),
            J::Array(items) => {
                for it in items {
                    labelled(out, name, it, schema, labels.clone(), indent)?;
                }
                Ok(())
            }
            _ => Err(format!("\"{name}\" must be an object (a block body)")),
        };
    }
    match v {
        J::Object(o) => {
            for (k, x) in o {
                let mut l = labels.clone();
                l.push(k.clone());
                labelled(out, name, x, schema, l, indent)?;
            }
            Ok(())
        }
        J::Array(items) => {
            for it in items {
                labelled(out, name, it, schema, labels.clone(), indent)?;
            }
            Ok(())
        }
        _ => Err(format!("\"{name}\" needs {} label(s)", schema.labels)),
    }
}

fn body_of(
    out: &mut String,
    body: &Map<String, J>,
    schema: &Schema,
    indent: usize,
) -> Result<(), String> {
    let pad = " ".repeat(indent);
    for (k, v) in body {
        if k == "//" {
            continue; // a comment, per the HCL JSON spec
        }
        if let Some((_, child)) = schema.children.iter().find(|(n, _)| n == k) {
            labelled(out, k, v, child, Vec::new(), indent)?;
            continue;
        }
        let is_block_list = !schema.attrs_only
            && matches!(v, J::Array(a) if !a.is_empty() && a.iter().all(J::is_object));
        if is_block_list {
            if let J::Array(items) = v {
                for it in items {
                    if let J::Object(o) = it {
                        block(out, k, &[], o, &PLUGIN, indent)?;
                    }
                }
            }
            continue;
        }
        let bare = k == "type" && std::ptr::eq(schema, &VARIABLE);
        let val = match v {
            J::String(s) => expr_of_string(s, bare),
            other => value(other, indent),
        };
        out.push_str(&format!("{pad}{k} = {val}\n"));
    }
    Ok(())
}

/// Translates an HCL JSON document into native HCL2 syntax.
///
/// # Errors
/// Invalid JSON, or a structure that does not fit Packer's template schema.
pub fn to_native(text: &str) -> Result<String, String> {
    let root: J = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let obj = root
        .as_object()
        .ok_or("an HCL JSON template is a JSON object")?;
    let mut out = String::new();
    body_of(&mut out, obj, &ROOT, 0)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_syntax_becomes_native_syntax() {
        let j = r#"{
          "variable": {"name": {"type": "string", "default": "web"}},
          "locals": {"full": "${var.name}-img", "n": "${length(var.name) + 1}"},
          "source": {"null": {"example": {"communicator": "none"}}},
          "build": {
            "sources": ["source.null.example"],
            "provisioner": [{"shell-local": {"inline": ["echo ${local.full}"]}}],
            "post-processors": [{"post-processor": {"manifest": {"output": "m.json"}}}]
          }
        }"#;
        let n = to_native(j).unwrap();
        assert_eq!(
            n,
            "variable \"name\" {\n  type = string\n  default = \"web\"\n}\nlocals {\n  full = \"${var.name}-img\"\n  n = (length(var.name) + 1)\n}\nsource \"null\" \"example\" {\n  communicator = \"none\"\n}\nbuild {\n  sources = [\"source.null.example\"]\n  provisioner \"shell-local\" {\n    inline = [\"echo ${local.full}\"]\n  }\n  post-processors {\n    post-processor \"manifest\" {\n      output = \"m.json\"\n    }\n  }\n}\n"
        );
    }
}
