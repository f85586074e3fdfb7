//! The typed step runner. Each builder defines its own state struct; steps get `&mut State`.
//! The runner keeps the stack of steps that ran and runs their cleanups in reverse order on
//! success, error and cancellation alike (unless `-on-error=abort` asks to keep everything).

use crate::error::BuildError;
use crate::plugin::{BuildContext, OnError};
use async_trait::async_trait;

/// How the step sequence ended, as seen by cleanups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every step succeeded.
    Success,
    /// A step failed.
    Failed,
    /// The build was cancelled.
    Cancelled,
}

/// One step of a builder.
#[async_trait]
pub trait Step<S: Send>: Send + Sync {
    /// A short name for logs.
    fn name(&self) -> &'static str;

    /// Does the work. The runner races it against cancellation.
    async fn run(&self, ctx: &BuildContext, state: &mut S) -> Result<(), BuildError>;

    /// Undoes what `run` created. Runs even when `run` failed half way, so it must check the
    /// state for what actually exists.
    async fn cleanup(&self, _ctx: &BuildContext, _state: &mut S, _outcome: Outcome) {}
}

/// Runs `steps` in order and then the cleanups of those that started, in reverse.
///
/// # Errors
/// The first step error, or [`BuildError::Cancelled`].
pub async fn run_steps<S: Send>(
    ctx: &BuildContext,
    steps: &[Box<dyn Step<S>>],
    state: &mut S,
) -> Result<(), BuildError> {
    let mut started = 0;
    let mut result = Ok(());
    for step in steps {
        if ctx.cancel.is_cancelled() {
            result = Err(BuildError::Cancelled);
            break;
        }
        started += 1;
        let t = std::time::Instant::now();
        tracing::debug!(build = %ctx.ui.build(), step = step.name(), "step starting");
        let r = tokio::select! {
            r = step.run(ctx, state) => r,
            () = ctx.cancel.cancelled() => Err(BuildError::Cancelled),
        };
        tracing::debug!(
            build = %ctx.ui.build(),
            step = step.name(),
            elapsed_ms = t.elapsed().as_millis(),
            ok = r.is_ok(),
            "step ended"
        );
        if let Err(e) = r {
            result = Err(e);
            break;
        }
    }
    let outcome = match &result {
        Ok(()) => Outcome::Success,
        Err(BuildError::Cancelled) => Outcome::Cancelled,
        Err(_) => Outcome::Failed,
    };
    if outcome == Outcome::Failed && ctx.info.on_error == OnError::Abort {
        ctx.ui
            .error("Step failed and -on-error=abort: leaving resources in place for debugging.");
        return result;
    }
    for step in steps[..started].iter().rev() {
        let t = std::time::Instant::now();
        step.cleanup(ctx, state, outcome).await;
        tracing::debug!(
            build = %ctx.ui.build(),
            step = step.name(),
            elapsed_ms = t.elapsed().as_millis(),
            ?outcome,
            "step cleaned up"
        );
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Events;
    use crate::plugin::BuildInfo;
    use std::sync::{Arc, Mutex};
    use tokio_util::sync::CancellationToken;

    struct Rec {
        name: &'static str,
        fail: bool,
        hang: bool,
    }

    #[async_trait]
    impl Step<Vec<String>> for Rec {
        fn name(&self) -> &'static str {
            self.name
        }
        async fn run(&self, _ctx: &BuildContext, s: &mut Vec<String>) -> Result<(), BuildError> {
            s.push(format!("run {}", self.name));
            if self.hang {
                std::future::pending::<()>().await;
            }
            if self.fail {
                return Err(BuildError::step("boom"));
            }
            Ok(())
        }
        async fn cleanup(&self, _ctx: &BuildContext, s: &mut Vec<String>, o: Outcome) {
            s.push(format!("cleanup {} {o:?}", self.name));
        }
    }

    fn ctx(on_error: OnError) -> BuildContext {
        let (events, _rx) = Events::channel();
        BuildContext {
            info: Arc::new(BuildInfo {
                on_error,
                ..BuildInfo::default()
            }),
            ui: events.ui("t"),
            cancel: CancellationToken::new(),
            journal: Default::default(),
        }
    }

    fn steps(fail_b: bool, hang_b: bool) -> Vec<Box<dyn Step<Vec<String>>>> {
        vec![
            Box::new(Rec {
                name: "a",
                fail: false,
                hang: false,
            }),
            Box::new(Rec {
                name: "b",
                fail: fail_b,
                hang: hang_b,
            }),
            Box::new(Rec {
                name: "c",
                fail: false,
                hang: false,
            }),
        ]
    }

    #[tokio::test]
    async fn cleans_up_in_reverse_on_success_and_failure() {
        let mut s = Vec::new();
        run_steps(&ctx(OnError::Cleanup), &steps(false, false), &mut s)
            .await
            .unwrap();
        assert_eq!(
            s,
            [
                "run a",
                "run b",
                "run c",
                "cleanup c Success",
                "cleanup b Success",
                "cleanup a Success"
            ]
        );
        let mut s = Vec::new();
        let e = run_steps(&ctx(OnError::Cleanup), &steps(true, false), &mut s)
            .await
            .unwrap_err();
        assert_eq!(e.to_string(), "boom");
        assert_eq!(
            s,
            ["run a", "run b", "cleanup b Failed", "cleanup a Failed"]
        );
    }

    #[tokio::test]
    async fn abort_keeps_resources() {
        let mut s = Vec::new();
        run_steps(&ctx(OnError::Abort), &steps(true, false), &mut s)
            .await
            .unwrap_err();
        assert_eq!(s, ["run a", "run b"]);
    }

    #[tokio::test]
    async fn cancellation_interrupts_and_cleans_up() {
        let c = ctx(OnError::Cleanup);
        let token = c.cancel.clone();
        let log = Arc::new(Mutex::new(()));
        let _g = log.lock();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            token.cancel();
        });
        let mut s = Vec::new();
        let e = run_steps(&c, &steps(false, true), &mut s)
            .await
            .unwrap_err();
        assert!(matches!(e, BuildError::Cancelled));
        assert_eq!(
            s,
            [
                "run a",
                "run b",
                "cleanup b Cancelled",
                "cleanup a Cancelled"
            ]
        );
    }
}
