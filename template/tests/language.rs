//! The HCL2 language as templates use it: dynamic blocks, for expressions, splats, conditionals,
//! heredocs, template directives, typed variables, and Go-template functions in plugin fields.

use kiln_core::BuildInfo;
use kiln_template::{load, LoadOptions};

fn body(tpl: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.pkr.hcl"), tpl).unwrap();
    let t = load(&LoadOptions {
        paths: vec![dir.path().join("t.pkr.hcl")],
        cwd: dir.path().to_path_buf(),
        ..LoadOptions::default()
    })
    .unwrap_or_else(|d| panic!("{d}"));
    let b = &t.plan.builds[0];
    let info = BuildInfo {
        name: b.name.clone(),
        source_type: b.source_type.clone(),
        source_name: b.source_name.clone(),
        ..BuildInfo::default()
    };
    b.builder
        .body
        .evaluate(&info, None)
        .unwrap_or_else(|d| panic!("{d}"))
        .value
}

#[test]
fn dynamic_blocks_expand_per_element() {
    let v = body(
        r#"
variable "disks" {
  type = list(object({ name = string, size = optional(number, 10) }))
  default = [{ name = "root", size = 20 }, { name = "data" }]
}
source "null" "a" {
  dynamic "disk" {
    for_each = var.disks
    content {
      name = disk.value.name
      size = disk.value.size
      index = disk.key
    }
  }
  dynamic "tag" {
    for_each = { env = "prod", team = "infra" }
    iterator = t
    content {
      key   = t.key
      value = upper(t.value)
    }
  }
}
build { sources = ["source.null.a"] }
"#,
    );
    assert_eq!(
        v["disk"],
        serde_json::json!([
            { "name": "root", "size": 20, "index": 0 },
            { "name": "data", "size": 10, "index": 1 }
        ])
    );
    assert_eq!(
        v["tag"],
        serde_json::json!([{ "key": "env", "value": "PROD" }, { "key": "team", "value": "INFRA" }])
    );
}

#[test]
fn expressions_of_every_kind() {
    let v = body(
        r#"
locals {
  servers = [{ name = "a", port = 80 }, { name = "b", port = 8080 }]
  by_name = { for s in local.servers : s.name => s.port }
  high    = [for s in local.servers : s.name if s.port > 100]
  names   = local.servers[*].name
  script  = <<-EOT
    echo one
    %{ for s in local.servers ~}
    echo ${s.name}
    %{ endfor ~}
  EOT
  mode    = length(local.servers) > 1 ? "multi" : "single"
  label   = "%{ if local.mode == "multi" }many%{ else }one%{ endif }"
}
source "null" "a" {
  communicator = "none"
  x = {
    by_name = local.by_name
    high    = local.high
    names   = local.names
    script  = local.script
    mode    = local.mode
    label   = local.label
    tpl     = "{{ build_name }}-{{ build_type }} keeps {{ .Path }}"
  }
}
build { sources = ["source.null.a"] }
"#,
    );
    let x = &v["x"];
    assert_eq!(x["by_name"], serde_json::json!({ "a": 80, "b": 8080 }));
    assert_eq!(x["high"], serde_json::json!(["b"]));
    assert_eq!(x["names"], serde_json::json!(["a", "b"]));
    // HCL's order (strip markers, then dedent; the newline a `~}` strips ends no line, so the
    // next one keeps its indentation), as Packer 1.6.6 does in t3-heredoc-flush-directives.
    assert_eq!(x["script"], "echo one\n    echo a\n    echo b\n");
    assert_eq!(x["mode"], "multi");
    assert_eq!(x["label"], "many");
    assert_eq!(x["tpl"], "a-null keeps {{ .Path }}");
}

/// One HTTP response on a free port; returns the URL.
fn serve_once(body: &'static str) -> String {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((mut c, _)) = l.accept() {
            let mut buf = [0u8; 4096];
            let _ = c.read(&mut buf);
            let _ = write!(
                c,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://127.0.0.1:{port}/versions.json")
}

#[test]
fn null_and_http_data_sources_feed_locals() {
    let url = serve_once(r#"{"latest": "1.2.3"}"#);
    let v = body(&format!(
        r#"
variable "suffix" {{ default = "x" }}
data "null" "name" {{
  input = "image-${{var.suffix}}"
}}
data "http" "versions" {{
  url             = "{url}"
  request_headers = {{ Accept = "application/json" }}
}}
data "null" "chained" {{
  input = upper(data.null.name.output)
}}
locals {{
  version = jsondecode(data.http.versions.body).latest
}}
source "null" "a" {{
  communicator = "none"
  x = {{
    name    = data.null.chained.output
    version = local.version
    ctype   = data.http.versions.response_headers["content-type"]
  }}
}}
build {{ sources = ["source.null.a"] }}
"#
    ));
    assert_eq!(
        v["x"],
        serde_json::json!({ "name": "IMAGE-X", "version": "1.2.3", "ctype": "application/json" })
    );
}

/// HCL's two messages for a missing element: `x.k` reads an attribute, `x["k"]` (or a list
/// index out of range) an element.
#[test]
fn a_missing_attribute_and_a_missing_index_are_told_apart() {
    let summaries = |locals: &str| -> Vec<(String, String)> {
        let tpl = format!(
            "locals {{\n{locals}\n}}\nsource \"null\" \"n\" {{ communicator = \"none\" }}\nbuild {{ sources = [\"source.null.n\"] }}\n"
        );
        let d = load(&LoadOptions {
            inline: vec![("t.pkr.hcl".into(), tpl)],
            ..LoadOptions::default()
        })
        .expect_err("the locals fail");
        d.0.iter()
            .map(|x| (x.summary.clone(), x.detail.clone()))
            .collect()
    };
    let index = (
        "Invalid index".to_string(),
        "The given key does not identify an element in this collection value.".to_string(),
    );
    assert_eq!(
        summaries("  m = { a = { sku = \"x\" } }\n  os = \"\"\n  sku = local.m[local.os].sku"),
        vec![index.clone()]
    );
    assert_eq!(
        summaries("  l = [1, 2]\n  x = local.l[5]"),
        vec![index.clone()]
    );
    assert_eq!(summaries("  y = { k = 1 }[\"z\"]"), vec![index]);
    assert_eq!(
        summaries("  m = { a = 1 }\n  x = local.m.b"),
        vec![(
            "Unsupported attribute".to_string(),
            "This object does not have an attribute named \"b\".".to_string()
        )]
    );
}
