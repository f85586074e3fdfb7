//! The HCL2 language as templates use it: dynamic blocks, for expressions, splats, conditionals,
//! heredocs, template directives, typed variables, and Go-template functions in plugin fields.

use kiln_core::plan::Body;
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
    assert_eq!(x["script"], "echo one\necho a\necho b\n");
    assert_eq!(x["mode"], "multi");
    assert_eq!(x["label"], "many");
    assert_eq!(x["tpl"], "a-null keeps {{ .Path }}");
}
