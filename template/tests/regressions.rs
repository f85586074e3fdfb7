//! Inputs that once broke (or could break) the front end: each must load or fail with
//! diagnostics, never panic. Add what `scripts/fuzz` finds here.

use kiln_template::{fmt, load, LoadOptions};

fn survives(name: &str, text: &str) {
    let opts = LoadOptions {
        inline: vec![(name.to_string(), text.to_string())],
        cwd: std::env::temp_dir(),
        ..LoadOptions::default()
    };
    let _ = load(&opts);
    let _ = fmt::format(text);
}

#[test]
fn malformed_inputs_do_not_panic() {
    for text in [
        "",
        "\"",
        "a = \"${",
        "a = \"${\"",
        "a = <<EOF\n",
        "a = <<-EOF\n  x\n",
        "/*",
        "a = 1 /* x",
        "a = \"\\",
        "a = \"é${b}ü\"",
        "source \"null\" \"a\" { dynamic \"x\" { for_each = 1 content {} } }\nbuild { sources = [\"source.null.a\"] }",
        "locals { a = local.b\n b = local.a }",
        "variable \"v\" { type = object({ a = optional(string, 1, 2) }) }",
        "locals { x = [for i in range(3): try(i.x, \"d\")] }",
        "locals { x = \"%{ for a in [1] }${try(a.b, a)}%{ endfor }\" }",
        "data \"null\" \"a\" { input = data.null.a.output }",
        "locals { x = cidrsubnets(\"10.0.0.0/8\", 200) }",
        "locals { x = cidrhost(\"::/0\", -1) }",
        "locals { x = timeadd(\"2020-01-01T00:00:00Z\", \"-99999999999h\") }",
        "locals { x = formatlist(\"%s\", [1], [1, 2]) }",
        "locals { x = indent(-5, \"a\\nb\") }",
        "locals { x = bcrypt(\"a\", 99) }",
        "locals { x = log(0, 0) }",
        "locals { x = csvdecode(\"a,\\\"b\") }",
        "locals { x = yamldecode(\"{\") }",
        "{{{{",
        "x = [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    ] {
        survives("t.pkr.hcl", text);
    }
    for text in [
        "",
        "{",
        "[]",
        "{\"builders\": [{\"type\": 1}]}",
        "{\"variables\": {\"a\": \"{{user `a`}}\"}, \"builders\": [{\"type\": \"null\"}]}",
        "{\"builders\": [{\"type\": \"null\", \"name\": \"{{split `a` `` 9}}\"}]}",
        "{\"builders\": [{\"type\": \"null\"}], \"provisioners\": [{\"type\": \"shell\", \"override\": 5}]}",
        "{\"builders\": [{\"type\": \"null\", \"x\": \"{{ replace `a` `b` -1 `aaa` }}\"}]}",
        "{\"builders\": [{\"type\": \"null\", \"x\": \"{{ (((\"}]}",
        "{\"post-processors\": [[[]]], \"builders\": [{\"type\": \"null\"}]}",
    ] {
        survives("t.json", text);
    }
}

#[test]
fn a_variable_cycle_in_a_json_template_is_an_error() {
    let opts = LoadOptions {
        inline: vec![(
            "t.json".into(),
            r#"{"variables": {"a": "{{user `b`}}", "b": "{{user `a`}}"}, "builders": [{"type": "null"}]}"#.into(),
        )],
        ..LoadOptions::default()
    };
    let e = load(&opts).unwrap_err().to_string();
    assert!(
        e.contains("variable not set: b") || e.contains("variable not set: a"),
        "{e}"
    );
}
