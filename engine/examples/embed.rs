//! Embedding Kiln: builds a template given on the command line (or a small built-in one),
//! prints its events as they come, stops cleanly on Ctrl-C, and reports each build.
//!
//! ```sh
//! cargo run -p kiln-engine --example embed                 # the built-in template
//! cargo run -p kiln-engine --example embed -- web.pkr.hcl  # yours
//! ```

// A program, unlike the library: it prints what it is told.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use kiln_engine::{Engine, EventKind, Load, Options, OutputStream};

const DEMO: &str = r#"
source "file" "greeting" {
  content = "built by an embedded Kiln\n"
  target  = "greeting.txt"
}
build {
  sources = ["source.file.greeting"]
  provisioner "shell-local" {
    inline = ["echo provisioning ${source.name}"]
  }
}
"#;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let engine = Engine::new();
    let load = match std::env::args().nth(1) {
        Some(path) => Load::paths([path]),
        None => Load::text("demo.pkr.hcl", DEMO),
    };
    let template = match engine.load(load) {
        Ok(t) => t,
        Err(d) => {
            eprintln!("{d}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let mut run = match engine.start(&template, Options::default()) {
        Ok(r) => r,
        Err(d) => {
            eprintln!("{d}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let cancel = run.cancellation();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            cancel.cancel();
        }
    });
    while let Some(ev) = run.next_event().await {
        match &ev.kind {
            EventKind::Say(t) => println!("[{}] {t}", ev.build),
            EventKind::Output { stream, line } => {
                let s = if *stream == OutputStream::Stderr {
                    "!"
                } else {
                    " "
                };
                println!("[{}]{s} {line}", ev.build);
            }
            EventKind::BuildFinished { error, elapsed, .. } => println!(
                "[{}] finished in {elapsed:?}: {}",
                ev.build,
                error.as_deref().unwrap_or("ok")
            ),
            _ => {}
        }
    }
    let outcomes = match run.wait().await {
        Ok(o) => o,
        Err(d) => {
            eprintln!("{d}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let mut ok = true;
    for o in &outcomes {
        match &o.result {
            Ok(artifacts) => {
                for a in artifacts {
                    println!("{}: {}", o.name, a.string());
                }
            }
            Err(e) => {
                ok = false;
                println!("{}: failed: {e}", o.name);
            }
        }
    }
    if ok {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
