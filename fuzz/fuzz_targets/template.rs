//! Any text as an HCL2 template, as a legacy JSON template, and through `kiln fmt`: loading
//! may fail with diagnostics, but nothing may panic.
#![no_main]

use kiln_core::plan::PlannedBuild;
use kiln_core::BuildInfo;
use kiln_template::{load, LoadOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The formatter takes any text.
    let _ = kiln_template::fmt::format(text);
    for name in ["fuzz.pkr.hcl", "fuzz.json", "fuzz.pkr.json"] {
        let opts = LoadOptions {
            inline: vec![(name.to_string(), text.to_string())],
            cwd: std::env::temp_dir(),
            ..LoadOptions::default()
        };
        if let Ok(t) = load(&opts) {
            // Evaluate every plugin body too, as validate does.
            for b in &t.plan.builds {
                let info = kiln_core_info(b);
                let _ = b.builder.body.evaluate(&info, None);
                for p in &b.provisioners {
                    let _ = p.plugin.body.evaluate(&info, None);
                }
            }
        }
    }
});

fn kiln_core_info(b: &PlannedBuild) -> BuildInfo {
    BuildInfo {
        name: b.name.clone(),
        source_type: b.source_type.clone(),
        source_name: b.source_name.clone(),
        ..Default::default()
    }
}
