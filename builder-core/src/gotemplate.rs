//! Expands the Go-template placeholders Packer plugin fields accept at run time:
//! `{{.Name}}` / `{{ .Name }}` from a data map, and `{{ build_name }}` / `{{ build_type }}`.

use std::collections::BTreeMap;

/// Replaces `{{ .Key }}` with `data[Key]`; unknown keys are an error naming the key.
///
/// # Errors
/// A placeholder whose key is not in `data`.
pub fn render(text: &str, data: &BTreeMap<&str, String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let inner = after[..end]
            .trim()
            .trim_start_matches('-')
            .trim_end_matches('-')
            .trim();
        let value = if let Some(key) = inner.strip_prefix('.') {
            data.get(key).cloned().ok_or_else(|| {
                format!(
                    "template: {text:?}: unknown field {key:?}; available: {}",
                    data.keys()
                        .map(|k| format!(".{k}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?
        } else if let Some(v) = data.get(inner) {
            v.clone()
        } else {
            return Err(format!(
                "template: {text:?}: function {inner:?} is not defined here"
            ));
        };
        out.push_str(&value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_packer_placeholders() {
        let mut d = BTreeMap::new();
        d.insert("Vars", "A='1' ".to_string());
        d.insert("Path", "/tmp/s.sh".to_string());
        assert_eq!(
            render("chmod +x {{.Path}}; {{ .Vars }}{{ .Path }}", &d).unwrap(),
            "chmod +x /tmp/s.sh; A='1' /tmp/s.sh"
        );
        assert!(render("{{.Nope}}", &d)
            .unwrap_err()
            .contains("unknown field \"Nope\""));
    }
}
