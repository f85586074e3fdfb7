//! The operator at the terminal: `-on-error=ask`'s question, `-debug`'s pauses and a
//! `breakpoint` are shown in the build's output and answered on standard input.

use async_trait::async_trait;
use kiln_core::operator::Operator;
use kiln_core::Ui;
use std::io::IsTerminal;

/// Answers from standard input, one prompt at a time (parallel builds queue).
#[derive(Debug)]
pub struct Terminal {
    turn: tokio::sync::Mutex<()>,
    /// Whether standard input is a terminal: only then can a question be asked (a pause still
    /// waits for a line or the end of input, as Packer's).
    interactive: bool,
}

impl Terminal {
    pub fn new() -> Self {
        Terminal {
            turn: tokio::sync::Mutex::new(()),
            interactive: std::io::stdin().is_terminal(),
        }
    }
}

/// One line of standard input, without its end; `None` at the end of input. The read runs on a
/// blocking thread that Ctrl-C abandons (`finish` in main does not wait for it).
async fn read_line() -> Option<String> {
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        match std::io::stdin().read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line.trim_end_matches(['\n', '\r']).to_string()),
        }
    })
    .await
    .ok()
    .flatten()
}

#[async_trait]
impl Operator for Terminal {
    async fn pause(&self, ui: &Ui, message: &str) {
        let _turn = self.turn.lock().await;
        ui.say(message);
        let _ = read_line().await;
    }

    async fn ask(&self, ui: &Ui, question: &str) -> Option<String> {
        if !self.interactive {
            return None;
        }
        let _turn = self.turn.lock().await;
        ui.say(question);
        read_line().await
    }
}
