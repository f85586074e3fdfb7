//! Our own equivalents of the cases in Packer's `command/build_test.go` (`TestBuild`,
//! `Test_build_output`, the -only/-except and stdin tests): the same behaviour, written from the
//! descriptions, with templates of our own. Each build writes marker files with shell-local.

#![allow(clippy::print_stderr)]

use kiln_tests::{run, run_with_input};
use std::path::Path;

const KILN: &str = env!("CARGO_BIN_EXE_kiln");

fn write(dir: &Path, name: &str, text: &str) {
    if let Some(p) = Path::new(name).parent() {
        std::fs::create_dir_all(dir.join(p)).unwrap();
    }
    std::fs::write(dir.join(name), text).unwrap();
}

fn exists(dir: &Path, name: &str) -> bool {
    dir.join(name).exists()
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A legacy template whose null build touches `<fruit>.txt`.
const FRUIT_JSON: &str = r#"{
  "variables": {"fruit": ""},
  "builders": [{"type": "null", "communicator": "none"}],
  "post-processors": [{"type": "shell-local", "inline": ["touch {{user `fruit`}}.txt"]}]
}"#;

/// The HCL2 equivalent, with an auto var file setting chocolate.
const FRUIT_HCL: &str = r#"variable "fruit" {
  type = string
}
source "null" "fruit" {
  communicator = "none"
}
build {
  sources = ["source.null.fruit"]
  post-processor "shell-local" {
    inline = ["touch ${var.fruit}.txt"]
  }
}
"#;

fn fruit_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "json/fruit_builder.json", FRUIT_JSON);
    write(d, "apple.json", r#"{"fruit": "apple"}"#);
    write(d, "banana.json", r#"{"fruit": "banana"}"#);
    write(d, "apple.hcl", "fruit = \"apple\"\n");
    write(d, "hcl/fruit.pkr.hcl", FRUIT_HCL);
    write(
        d,
        "hcl/chocolate.auto.pkrvars.hcl",
        "fruit = \"chocolate\"\n",
    );
    dir
}

fn build(d: &Path, args: &[&str]) -> i32 {
    let mut a = vec!["build"];
    a.extend_from_slice(args);
    let r = run(KILN, d, &a);
    if r.code != 0 {
        eprintln!("{}", r.all());
    }
    r.code
}

#[test]
fn var_args_in_json_templates() {
    let dir = fruit_dir();
    let d = dir.path();
    assert_eq!(
        build(d, &["-var-file=apple.json", "json/fruit_builder.json"]),
        0
    );
    assert!(exists(d, "apple.txt"));
    // -var wins over -var-file whatever the order.
    assert_eq!(
        build(
            d,
            &[
                "-var",
                "fruit=banana",
                "-var-file=apple.json",
                "json/fruit_builder.json"
            ]
        ),
        0
    );
    assert!(exists(d, "banana.txt"));
    assert_eq!(build(d, &["-var=fruit=pear", "json/fruit_builder.json"]), 0);
    assert!(exists(d, "pear.txt"));
    // A missing var file is an error; nothing is built.
    assert_eq!(
        build(d, &["-var-file=potato.json", "json/fruit_builder.json"]),
        1
    );
    assert!(!exists(d, "potato.txt"));
}

#[test]
fn var_args_in_hcl_templates() {
    let dir = fruit_dir();
    let d = dir.path();
    assert_eq!(build(d, &["-var-file=potato.json", "hcl"]), 1);
    assert_eq!(build(d, &["-var-file=potato.hcl", "hcl"]), 1);
    assert_eq!(build(d, &["hcl"]), 0);
    assert!(
        exists(d, "chocolate.txt"),
        "the auto var file sets chocolate"
    );
    assert_eq!(build(d, &["-var-file=apple.hcl", "hcl"]), 0);
    assert!(exists(d, "apple.txt"));
    std::fs::remove_file(d.join("apple.txt")).unwrap();
    assert_eq!(build(d, &["-var-file=apple.json", "hcl"]), 0);
    assert!(
        exists(d, "apple.txt"),
        "a JSON var file works for HCL2 templates"
    );
    // Later var files win.
    std::fs::remove_file(d.join("apple.txt")).unwrap();
    assert_eq!(
        build(d, &["-var-file=banana.json", "-var-file=apple.hcl", "hcl"]),
        0
    );
    assert!(exists(d, "apple.txt") && !exists(d, "banana.txt"));
    assert_eq!(
        build(d, &["-var-file=apple.hcl", "-var-file=banana.json", "hcl"]),
        0
    );
    assert!(exists(d, "banana.txt"));
    assert_eq!(build(d, &["-var=fruit=tomato", "hcl"]), 0);
    assert!(exists(d, "tomato.txt"));
}

fn manifest_names(d: &Path) -> Vec<String> {
    let m: serde_json::Value = serde_json::from_str(&read(d, "manifest.json")).unwrap();
    m["builds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            assert_eq!(b["builder_type"], "null");
            assert_eq!(b["artifact_id"], "Null");
            assert_eq!(b["files"], serde_json::Value::Null);
            b["name"].as_str().unwrap().to_string()
        })
        .collect()
}

#[test]
fn source_names_in_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "t.pkr.hcl",
        r#"source "null" "test" {
  communicator = "none"
}
build {
  sources = ["source.null.test"]
  source "source.null.test" {
    name = "potato"
  }
  post-processor "manifest" {
    output = "manifest.json"
  }
}
"#,
    );
    assert_eq!(build(d, &["-parallel-builds=1", "t.pkr.hcl"]), 0);
    assert_eq!(manifest_names(d), ["test", "potato"]);
}

const ALL_JSON: &str = r#"{
  "builders": [
    {"type": "null", "name": "test", "communicator": "none"},
    {"type": "null", "name": "potato", "communicator": "none"}
  ],
  "provisioners": [{"type": "shell-local", "inline": ["touch {{build_type}}.{{build_name}}.txt"]}],
  "post-processors": [{"type": "manifest", "output": "manifest.json"}]
}"#;

#[test]
fn json_build_names_with_only_and_except() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "all.json", ALL_JSON);
    assert_eq!(
        build(d, &["-except=potato", "-parallel-builds=1", "all.json"]),
        0
    );
    assert!(exists(d, "null.test.txt") && !exists(d, "null.potato.txt"));
    assert_eq!(manifest_names(d), ["test"]);
    std::fs::remove_file(d.join("manifest.json")).unwrap();
    assert_eq!(
        build(d, &["-only=potato", "-parallel-builds=1", "all.json"]),
        0
    );
    assert_eq!(manifest_names(d), ["potato"]);
}

#[test]
fn only_and_except_select_named_build_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "t.pkr.hcl",
        r#"source "null" "chocolate" {
  communicator = "none"
}
source "null" "vanilla" {
  communicator = "none"
}
source "null" "cherry" {
  communicator = "none"
}
build {
  name    = "my_build"
  sources = ["source.null.chocolate", "source.null.vanilla"]
  post-processor "shell-local" {
    inline = ["touch ${source.name}.txt"]
  }
}
build {
  sources = ["source.null.cherry"]
  post-processor "shell-local" {
    inline = ["touch ${source.name}.txt"]
  }
}
"#,
    );
    assert_eq!(build(d, &["-except=my_build.*", "t.pkr.hcl"]), 0);
    assert!(exists(d, "cherry.txt") && !exists(d, "chocolate.txt") && !exists(d, "vanilla.txt"));
    std::fs::remove_file(d.join("cherry.txt")).unwrap();
    assert_eq!(build(d, &["-only=my_build.*", "t.pkr.hcl"]), 0);
    assert!(!exists(d, "cherry.txt") && exists(d, "chocolate.txt") && exists(d, "vanilla.txt"));
}

const RECIPES: &str = r#"source "null" "base" {
  communicator = "none"
}
build {
  name = "recipes"
  source "source.null.base" {
    name = "spaghetti_carbonara"
  }
  source "source.null.base" {
    name = "lasagna"
  }
  provisioner "shell-local" {
    only   = ["null.spaghetti_carbonara"]
    inline = ["printf 'spaghetti\ncarbonara\n' > NULL.${source.name}.txt"]
  }
  provisioner "shell-local" {
    only   = ["null.lasagna"]
    inline = ["printf 'lasagna\ntomato\nmozza\ncooking...\n' > NULL.${source.name}.txt"]
  }
}
build {
  source "source.null.base" {
    name = "tiramisu"
  }
  provisioner "shell-local" {
    inline = ["printf 'whip_york\nmascarpone\nwhipped_egg_white\ndress\n' > NULL.${source.name}.txt"]
  }
}
"#;

#[test]
fn recipes_with_globs() {
    let carbonara = "spaghetti\ncarbonara\n";
    let lasagna = "lasagna\ntomato\nmozza\ncooking...\n";
    let tiramisu = "whip_york\nmascarpone\nwhipped_egg_white\ndress\n";
    let fresh = || {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "recipes.pkr.hcl", RECIPES);
        dir
    };
    let dir = fresh();
    let d = dir.path();
    assert_eq!(build(d, &["recipes.pkr.hcl"]), 0);
    assert_eq!(read(d, "NULL.spaghetti_carbonara.txt"), carbonara);
    assert_eq!(read(d, "NULL.lasagna.txt"), lasagna);
    assert_eq!(read(d, "NULL.tiramisu.txt"), tiramisu);

    let dir = fresh();
    let d = dir.path();
    assert_eq!(
        build(
            d,
            &[
                "-except",
                "recipes.null.spaghetti_carbonara",
                "recipes.pkr.hcl"
            ]
        ),
        0
    );
    assert!(!exists(d, "NULL.spaghetti_carbonara.txt"));
    assert_eq!(read(d, "NULL.lasagna.txt"), lasagna);
    assert_eq!(read(d, "NULL.tiramisu.txt"), tiramisu);

    let dir = fresh();
    let d = dir.path();
    assert_eq!(build(d, &["-only", "*lasagna", "recipes.pkr.hcl"]), 0);
    assert!(!exists(d, "NULL.spaghetti_carbonara.txt") && !exists(d, "NULL.tiramisu.txt"));
    assert_eq!(read(d, "NULL.lasagna.txt"), lasagna);

    let dir = fresh();
    let d = dir.path();
    assert_eq!(build(d, &["-only", "recipes.*", "recipes.pkr.hcl"]), 0);
    assert!(!exists(d, "NULL.tiramisu.txt"));
    assert_eq!(read(d, "NULL.spaghetti_carbonara.txt"), carbonara);
    assert_eq!(read(d, "NULL.lasagna.txt"), lasagna);
}

#[test]
fn build_name_is_accessible() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "t.pkr.hcl",
        r#"source "null" "pizza" {
  communicator = "none"
}
build {
  name    = "pineapple"
  sources = ["source.null.pizza"]
  provisioner "shell-local" {
    inline = ["touch ${build.name}.${source.name}.txt"]
  }
}
"#,
    );
    assert_eq!(build(d, &["t.pkr.hcl"]), 0);
    assert!(exists(d, "pineapple.pizza.txt"));
}

#[test]
fn variable_validation_from_defaults_var_files_and_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "v/t.pkr.hcl",
        r#"variable "image_metadata" {
  type = object({ key = string, something = object({ foo = string }) })
  default = { key = "value", something = { foo = "bar" } }
  validation {
    condition     = length(var.image_metadata.key) > 4 && var.image_metadata.something.foo != "wrong"
    error_message = "The image_metadata.key field must be more than 4 runes."
  }
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
}
"#,
    );
    write(
        d,
        "valid.pkrvars.hcl",
        "image_metadata = { key = \"new_value\", something = { foo = \"bar\" } }\n",
    );
    write(
        d,
        "invalid.pkrvars.hcl",
        "image_metadata = { key = \"?\", something = { foo = \"wrong\" } }\n",
    );
    assert_eq!(build(d, &["v"]), 0);
    assert_eq!(build(d, &["-var-file", "valid.pkrvars.hcl", "v"]), 0);
    assert_eq!(build(d, &["-var-file", "invalid.pkrvars.hcl", "v"]), 1);
    assert_eq!(
        build(
            d,
            &[
                "-var-file",
                "invalid.pkrvars.hcl",
                "-var",
                r#"image_metadata={key = "new_value", something = { foo = "bar" }}"#,
                "v"
            ]
        ),
        0
    );
    assert_eq!(
        build(
            d,
            &[
                "-var-file",
                "valid.pkrvars.hcl",
                "-var",
                r#"image_metadata={key = "?", something = { foo = "wrong" }}"#,
                "v"
            ]
        ),
        1
    );
}

#[test]
fn a_data_source_feeds_a_build() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "t.pkr.hcl",
        r#"data "null" "flavour" {
  input = "chocolate"
}
locals {
  flavour = data.null.flavour.output
}
source "file" "out" {
  content = local.flavour
  target  = "${local.flavour}.txt"
}
build {
  sources = ["source.file.out"]
}
"#,
    );
    assert_eq!(build(d, &["t.pkr.hcl"]), 0);
    assert_eq!(read(d, "chocolate.txt"), "chocolate");
}

#[test]
fn variables_and_build_values_in_post_processors_and_build_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "t.pkr.hcl",
        r#"variable "n" {
  default = 2
}
locals {
  names = ["example1", "example2"]
}
source "null" "example1" {
  communicator = "none"
}
source "null" "example2" {
  communicator = "none"
}
build {
  name    = "build-${var.n}"
  sources = [for n in local.names : "source.null.${n}"]
  post-processor "shell-local" {
    name   = "pp-${var.n}"
    inline = ["echo ${index(local.names, source.name) + 1} > ${source.name}.${index(local.names, source.name) + 1}.txt"]
  }
}
"#,
    );
    assert_eq!(build(d, &["t.pkr.hcl"]), 0);
    assert_eq!(read(d, "example1.1.txt"), "1\n");
    assert_eq!(read(d, "example2.2.txt"), "2\n");
    assert!(!exists(d, "example1.2.txt") && !exists(d, "example2.1.txt"));
}

#[test]
fn locals_using_variables_and_unset_variables() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "ok/t.pkr.hcl",
        r#"variable "greeting" {
  default = "hello"
}
variable "empty_map" {
  type    = map(string)
  default = {}
}
locals {
  word    = local.phrase.word
  phrase  = { word = var.greeting }
  has_map = length(var.empty_map) == 0 ? "yo" : "no"
}
source "file" "hey" {
  content = local.word
  target  = "hey.txt"
}
source "file" "foo" {
  content = local.has_map
  target  = "foo.txt"
}
build {
  sources = ["source.file.hey", "source.file.foo"]
}
"#,
    );
    assert_eq!(build(d, &["ok"]), 0);
    assert_eq!(read(d, "hey.txt"), "hello");
    assert_eq!(read(d, "foo.txt"), "yo");
    write(
        d,
        "unset/t.pkr.hcl",
        "variable \"greeting\" {}\nlocals {\n  word = var.greeting\n}\nsource \"file\" \"hey\" {\n  content = local.word\n  target  = \"unset.txt\"\n}\nbuild {\n  sources = [\"source.file.hey\"]\n}\n",
    );
    assert_eq!(build(d, &["unset"]), 1);
    assert!(!exists(d, "unset.txt"));
}

#[test]
fn provisioner_overrides_in_hcl_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "t.pkr.hcl",
        r#"source "null" "example1" {
  communicator = "none"
}
source "null" "example2" {
  communicator = "none"
}
build {
  sources = ["source.null.example1", "source.null.example2"]
  provisioner "shell-local" {
    inline = ["echo not overridden"]
    override = {
      example1 = {
        inline = ["echo yes overridden"]
      }
    }
  }
}
"#,
    );
    let r = run(KILN, d, &["build", "--color=false", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("null.example1: yes overridden"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("null.example2: not overridden"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("null.example2: yes overridden"));
    assert!(!r.stdout.contains("null.example1: not overridden"));
    write(
        d,
        "t.json",
        r#"{
  "builders": [
    {"type": "null", "name": "example1", "communicator": "none"},
    {"type": "null", "name": "example2", "communicator": "none"}
  ],
  "provisioners": [{
    "type": "shell-local",
    "inline": ["echo not overridden"],
    "override": {"example1": {"inline": ["echo yes overridden"]}}
  }]
}"#,
    );
    let r = run(KILN, d, &["build", "--color=false", "t.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("example1: yes overridden"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("example2: not overridden"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("example2: yes overridden"));
}

const BUILD_ONLY_JSON: &str = r#"{
  "builders": [
    {"name": "chocolate", "type": "null", "communicator": "none"},
    {"name": "vanilla", "type": "null", "communicator": "none"},
    {"name": "cherry", "type": "null", "communicator": "none"},
    {"type": "null", "communicator": "none"}
  ],
  "provisioners": [{"type": "shell-local", "inline": ["touch {{build_name}}.txt"]}],
  "post-processors": [
    [{"name": "apple", "type": "shell-local", "inline": ["touch apple.txt"]},
     {"name": "peach", "type": "shell-local", "inline": ["touch peach.txt"]}],
    [{"name": "pear", "type": "shell-local", "inline": ["touch pear.txt"]},
     {"name": "banana", "type": "shell-local", "inline": ["touch banana.txt"], "only": ["vanilla"]}],
    [{"name": "tomato", "type": "shell-local", "inline": ["touch tomato.txt"], "except": ["chocolate"]}],
    [{"type": "shell-local", "inline": ["touch unnamed.txt"]}]
  ]
}"#;

#[test]
fn only_with_comma_separated_names() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "template.json", BUILD_ONLY_JSON);
    assert_eq!(
        build(
            d,
            &[
                "-parallel-builds=1",
                "-only=chocolate,vanilla",
                "template.json"
            ]
        ),
        0
    );
    for f in [
        "chocolate.txt",
        "vanilla.txt",
        "apple.txt",
        "peach.txt",
        "pear.txt",
        "unnamed.txt",
        "banana.txt",
        "tomato.txt",
    ] {
        assert!(exists(d, f), "expected {f}");
    }
    assert!(!exists(d, "cherry.txt"));
}

#[test]
fn a_template_on_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = run_with_input(
        KILN,
        d,
        &["build", "-parallel-builds=1", "-"],
        BUILD_ONLY_JSON.as_bytes(),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    for f in [
        "vanilla.txt",
        "cherry.txt",
        "chocolate.txt",
        "null.txt",
        "unnamed.txt",
    ] {
        assert!(exists(d, f), "expected {f}");
    }
}

#[test]
fn dynamic_source_and_provisioner_blocks_in_a_build_block() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "build.pkr.hcl",
        r#"source "file" "base" {
}

variables {
  images = {
    dummy = {
      image  = "dummy"
      layers = ["base/main"]
    }
    postgres = {
      image  = "postgres/13"
      layers = ["base/main", "base/init", "postgres"]
    }
  }
}

locals {
  files = {
    foo = { destination = "fooo" }
    bar = { destination = "baar" }
  }
}

build {
  dynamic "source" {
    for_each = var.images
    labels   = ["file.base"]
    content {
      name    = source.key
      target  = "${source.value.image}.txt"
      content = join("\n", formatlist("layers/%s/files", var.images[source.key].layers))
    }
  }

  dynamic "provisioner" {
    for_each = local.files
    labels   = ["shell-local"]
    content {
      inline = ["echo 1 > ${var.images[source.name].image}-${provisioner.value.destination}.txt"]
    }
  }
}
"#,
    );
    assert_eq!(build(d, &["build.pkr.hcl"]), 0);
    assert_eq!(read(d, "dummy.txt"), "layers/base/main/files");
    assert_eq!(
        read(d, "postgres/13.txt"),
        "layers/base/main/files\nlayers/base/init/files\nlayers/postgres/files"
    );
    for f in [
        "dummy-fooo.txt",
        "dummy-baar.txt",
        "postgres/13-fooo.txt",
        "postgres/13-baar.txt",
    ] {
        assert!(exists(d, f), "expected {f}");
    }
}
