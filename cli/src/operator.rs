//! The operator at the terminal: `-on-error=ask`'s question, `-debug`'s pauses and a
//! `breakpoint` are shown in the build's output and answered on standard input.

use async_trait::async_trait;
use kiln_core::operator::Operator;
use kiln_core::Ui;
use std::io::IsTerminal;

/// Answers from standard input, one prompt at a time (parallel builds queue).
#[derive(Debug)]
pub struct Terminal {
    /// Lines of standard input, from one reader thread started at the first prompt (a read
    /// that a Ctrl-C abandons is not lost: its line goes to the next prompt, as typed), and
    /// the turn to prompt.
    lines: tokio::sync::Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<String>>>,
    /// Whether standard input is a terminal: only then can a question be asked (a pause still
    /// waits for a line or the end of input, as Packer's).
    interactive: bool,
}

impl Terminal {
    pub fn new() -> Self {
        Terminal {
            lines: tokio::sync::Mutex::new(None),
            interactive: std::io::stdin().is_terminal(),
        }
    }

    /// Says `text` and returns the next line (without its end), or `None` at the end of input;
    /// one build at a time. The reading thread is never waited for (`finish` in main does not
    /// join it).
    async fn prompt(&self, ui: &Ui, text: &str) -> Option<String> {
        let mut lines = self.lines.lock().await;
        ui.say(text);
        let rx = lines.get_or_insert_with(|| {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            std::thread::spawn(move || {
                let stdin = std::io::stdin();
                loop {
                    let mut line = String::new();
                    match stdin.read_line(&mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {
                            let line = line.trim_end_matches(['\n', '\r']).to_string();
                            if tx.send(line).is_err() {
                                break;
                            }
                        }
                    }
                }
            });
            rx
        });
        rx.recv().await
    }
}

#[async_trait]
impl Operator for Terminal {
    async fn pause(&self, ui: &Ui, message: &str) {
        let _ = self.prompt(ui, message).await;
    }

    async fn ask(&self, ui: &Ui, question: &str) -> Option<String> {
        if !self.interactive {
            return None;
        }
        self.prompt(ui, question).await
    }
}
