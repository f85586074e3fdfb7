//! The one wait helper every step uses: polls a check until it reports done, sleeping between
//! polls through the build's cancellation, and shows the state and elapsed time while it waits.

use kiln_core::{BuildContext, BuildError};
use std::future::Future;
use std::time::{Duration, Instant};

/// What one poll saw.
#[derive(Debug)]
pub enum Poll<T> {
    /// Finished, with what the last poll described (so the caller need not ask again).
    Done(T),
    /// Still waiting; the current state (shown when it changes, and every 15 s).
    Pending(String),
    /// Will never finish: the reason.
    Failed(String),
}

/// Polls `check` every `delay` until [`Poll::Done`] (its value is returned), at most `attempts`
/// times.
///
/// # Errors
/// [`BuildError::Cancelled`] on Ctrl-C, the check's failure, or a timeout naming `what`.
pub async fn wait<T, F, Fut>(
    ctx: &BuildContext,
    what: &str,
    delay: Duration,
    attempts: u32,
    mut check: F,
) -> Result<T, BuildError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Poll<T>>,
{
    let start = Instant::now();
    let mut last_state = String::new();
    let mut last_shown = Instant::now();
    for attempt in 0..attempts.max(1) {
        match check().await {
            Poll::Done(v) => return Ok(v),
            Poll::Failed(why) => {
                return Err(BuildError::step(format!("Error waiting for {what}: {why}")))
            }
            Poll::Pending(state) => {
                if state != last_state || last_shown.elapsed() >= Duration::from_secs(15) {
                    if attempt > 0 {
                        let e = start.elapsed().as_secs();
                        ctx.ui
                            .message(format!("{what}: {state} ({}:{:02})", e / 60, e % 60));
                    }
                    last_state = state;
                    last_shown = Instant::now();
                }
            }
        }
        ctx.sleep(delay).await?;
    }
    Err(BuildError::step(format!(
        "Error waiting for {what}: still {last_state} after {} s",
        start.elapsed().as_secs()
    )))
}
