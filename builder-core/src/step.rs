//! The typed step runner. Each builder defines its own state struct; steps get `&mut State`.
//! The runner keeps the stack of steps that ran and runs their cleanups in reverse order on
//! success, error and cancellation alike (unless `-on-error=abort` asks to keep everything).

use crate::error::BuildError;
use crate::operator::FailureChoice;
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
    let debug = ctx.info.debug;
    'steps: for step in steps {
        if ctx.cancel.is_cancelled() {
            result = Err(BuildError::Cancelled);
            break;
        }
        started += 1;
        loop {
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
            match r {
                Ok(()) => {
                    if debug {
                        pause(ctx, &format!("after run of step '{}'", step.name())).await;
                    }
                    break;
                }
                Err(BuildError::Cancelled) => {
                    result = Err(BuildError::Cancelled);
                    break 'steps;
                }
                // Ctrl-C while the operator was asked: a cancellation, not a failure.
                Err(_) if ctx.cancel.is_cancelled() => {
                    result = Err(BuildError::Cancelled);
                    break 'steps;
                }
                Err(e) => match choose(ctx, step.name(), &e).await {
                    _ if ctx.cancel.is_cancelled() => {
                        result = Err(BuildError::Cancelled);
                        break 'steps;
                    }
                    FailureChoice::Retry => {
                        ctx.ui.say(format!("Retrying step '{}'", step.name()));
                    }
                    FailureChoice::Abort => {
                        ctx.operator.keep();
                        result = Err(e);
                        break 'steps;
                    }
                    FailureChoice::Cleanup => {
                        result = Err(e);
                        break 'steps;
                    }
                },
            }
        }
    }
    let outcome = match &result {
        Ok(()) => Outcome::Success,
        Err(BuildError::Cancelled) => Outcome::Cancelled,
        Err(_) => Outcome::Failed,
    };
    if outcome == Outcome::Failed && ctx.operator.kept() {
        ctx.ui
            .error("Step failed: leaving resources in place for debugging (-on-error).");
        return result;
    }
    for step in steps[..started].iter().rev() {
        if debug && outcome != Outcome::Cancelled {
            pause(ctx, &format!("before cleanup of step '{}'", step.name())).await;
        }
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

/// `-debug`'s pause, which Ctrl-C ends.
async fn pause(ctx: &BuildContext, at: &str) {
    let message = format!("Pausing {at}. Press enter to continue.");
    tokio::select! {
        () = ctx.operator.pause(&ctx.ui, &message) => {}
        () = ctx.cancel.cancelled() => {}
    }
}

/// What to do after `step` failed with `e`: the answer the provisioning hook already got, or
/// `-on-error`'s, asking the operator for `ask`.
async fn choose(ctx: &BuildContext, step: &str, e: &BuildError) -> FailureChoice {
    if let Some(c) = ctx.operator.take_answer() {
        return c;
    }
    match ctx.info.on_error {
        OnError::Cleanup => FailureChoice::Cleanup,
        // Packer runs the error-cleanup-provisioner (the hook did) and keeps the rest.
        OnError::Abort | OnError::RunCleanupProvisioner => {
            if let Some(k) = ctx.operator.show_access(&ctx.ui) {
                k.keep();
            }
            FailureChoice::Abort
        }
        OnError::Ask => {
            ctx.ui.error(e.to_string());
            let what = format!("Step '{step}'");
            tokio::select! {
                c = ctx.operator.ask_about_failure(&ctx.ui, &what) => c,
                () = ctx.cancel.cancelled() => FailureChoice::Cleanup,
            }
        }
    }
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
            operator: Default::default(),
        }
    }

    /// An operator who gives the answers it was told, in order, and records what it saw.
    #[derive(Debug, Default)]
    struct Scripted {
        answers: Mutex<Vec<&'static str>>,
        seen: Mutex<Vec<String>>,
    }

    #[async_trait]
    impl crate::operator::Operator for Scripted {
        async fn pause(&self, _ui: &crate::event::Ui, message: &str) {
            self.seen.lock().unwrap().push(message.to_string());
        }
        async fn ask(&self, _ui: &crate::event::Ui, question: &str) -> Option<String> {
            self.seen.lock().unwrap().push(question.to_string());
            let mut a = self.answers.lock().unwrap();
            (!a.is_empty()).then(|| a.remove(0).to_string())
        }
    }

    fn attended(
        on_error: OnError,
        debug: bool,
        answers: &[&'static str],
    ) -> (BuildContext, Arc<Scripted>) {
        let op = Arc::new(Scripted {
            answers: Mutex::new(answers.to_vec()),
            ..Scripted::default()
        });
        let mut c = ctx(on_error);
        c.info = Arc::new(BuildInfo {
            on_error,
            debug,
            ..BuildInfo::default()
        });
        c.operator = crate::operator::OperatorLink::new(op.clone());
        (c, op)
    }

    /// Fails its first `fails` runs.
    struct Flaky {
        fails: std::sync::atomic::AtomicUsize,
    }

    #[async_trait]
    impl Step<Vec<String>> for Flaky {
        fn name(&self) -> &'static str {
            "flaky"
        }
        async fn run(&self, _ctx: &BuildContext, s: &mut Vec<String>) -> Result<(), BuildError> {
            s.push("run flaky".into());
            let left = self.fails.load(std::sync::atomic::Ordering::SeqCst);
            if left > 0 {
                self.fails
                    .store(left - 1, std::sync::atomic::Ordering::SeqCst);
                return Err(BuildError::step("flaked"));
            }
            Ok(())
        }
        async fn cleanup(&self, _ctx: &BuildContext, s: &mut Vec<String>, o: Outcome) {
            s.push(format!("cleanup flaky {o:?}"));
        }
    }

    #[tokio::test]
    async fn ask_retries_the_step_until_told_otherwise() {
        let (c, op) = attended(OnError::Ask, false, &["x", "r", "R"]);
        let steps: Vec<Box<dyn Step<Vec<String>>>> = vec![Box::new(Flaky { fails: 2.into() })];
        let mut s = Vec::new();
        run_steps(&c, &steps, &mut s).await.unwrap();
        assert_eq!(
            s,
            [
                "run flaky",
                "run flaky",
                "run flaky",
                "cleanup flaky Success"
            ]
        );
        // "x" makes no sense: asked again.
        assert_eq!(op.seen.lock().unwrap().len(), 3);
        assert!(!c.operator.kept());
    }

    #[tokio::test]
    async fn ask_abort_keeps_everything_and_no_answer_cleans_up() {
        let (c, _) = attended(OnError::Ask, false, &["a"]);
        let mut s = Vec::new();
        run_steps(&c, &steps(true, false), &mut s)
            .await
            .unwrap_err();
        assert_eq!(s, ["run a", "run b"]);
        assert!(c.operator.kept());

        let (c, op) = attended(OnError::Ask, false, &[]);
        let mut s = Vec::new();
        run_steps(&c, &steps(true, false), &mut s)
            .await
            .unwrap_err();
        assert_eq!(
            s,
            ["run a", "run b", "cleanup b Failed", "cleanup a Failed"]
        );
        assert_eq!(
            op.seen.lock().unwrap().as_slice(),
            [crate::operator::FAILURE_QUESTION]
        );
    }

    #[tokio::test]
    async fn run_cleanup_provisioner_keeps_the_rest_as_packer() {
        let mut s = Vec::new();
        let c = ctx(OnError::RunCleanupProvisioner);
        run_steps(&c, &steps(true, false), &mut s)
            .await
            .unwrap_err();
        assert_eq!(s, ["run a", "run b"]);
    }

    #[tokio::test]
    async fn debug_pauses_after_each_step_and_before_each_cleanup() {
        let (c, op) = attended(OnError::Cleanup, true, &[]);
        let mut s = Vec::new();
        run_steps(&c, &steps(false, false)[..2], &mut s)
            .await
            .unwrap();
        assert_eq!(
            op.seen.lock().unwrap().as_slice(),
            [
                "Pausing after run of step 'a'. Press enter to continue.",
                "Pausing after run of step 'b'. Press enter to continue.",
                "Pausing before cleanup of step 'b'. Press enter to continue.",
                "Pausing before cleanup of step 'a'. Press enter to continue.",
            ]
        );
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
