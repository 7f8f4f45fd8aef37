//! The skeleton of a long job that runs tasks until a deadline: the download queue today, sync
//! next.
//!
//! A job plans (starts tasks), hears of each task that ends, and waits for its own signals
//! (a network change, a tick). [`run`] drives it until the job says it is done, the deadline
//! passes or the run is stopped, and then, always (also when a step failed), stops the tasks and
//! lets the job settle every one of them, so nothing is left marked as running. The first error
//! is returned after the drain, never instead of it.

use std::future::Future;
use std::time::Instant;

use tokio::task::{JoinError, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::error::Result;

/// How a run ended when nothing failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended<D> {
    /// The job said so (nothing left to do, or nothing it may do now).
    Done(D),
    DeadlineReached,
    /// The run's token was cancelled from outside.
    Stopped,
}

/// A job [`run`] can drive. Its tasks hold child tokens of the run's token and stop between two
/// steps of work when it is cancelled.
pub(crate) trait Job {
    /// What one task returns.
    type Output: Send + 'static;
    /// Why the job is done.
    type Done;
    /// The job's own reasons to act (besides a task ending).
    type Signal;

    /// Looks at the work at the start and whenever [`Job::settle`] or [`Job::handle`] ask:
    /// starts tasks, or returns `Some` when the job is done.
    fn plan(&mut self, tasks: &mut JoinSet<Self::Output>)
    -> impl Future<Output = Result<Option<Self::Done>>>;

    /// Records how a task ended (also one that panicked or was aborted).
    fn settle(
        &mut self,
        joined: std::result::Result<Self::Output, JoinError>,
    ) -> impl Future<Output = Result<()>>;

    /// Waits for the next signal. Must be cancel-safe: it is dropped whenever a task ends first.
    fn signal(&mut self) -> impl Future<Output = Self::Signal>;

    /// Acts on a signal; `true` to plan again.
    fn handle(&mut self, signal: Self::Signal) -> impl Future<Output = Result<bool>>;
}

enum Event<T, S> {
    Joined(std::result::Result<T, JoinError>),
    Signal(S),
    Deadline,
    Stopped,
}

/// Drives `job` until it is done, `deadline` passes or `token` is cancelled, then cancels
/// `token` and settles every task before returning.
pub(crate) async fn run<J: Job>(
    job: &mut J,
    deadline: Instant,
    token: &CancellationToken,
) -> Result<Ended<J::Done>> {
    let mut tasks = JoinSet::new();
    let mut plan = true;
    let ended = loop {
        if plan {
            plan = false;
            match job.plan(&mut tasks).await {
                Ok(Some(done)) => break Ok(Ended::Done(done)),
                Ok(None) => {}
                Err(error) => break Err(error),
            }
        }
        let event = tokio::select! {
            Some(joined) = tasks.join_next() => Event::Joined(joined),
            signal = job.signal() => Event::Signal(signal),
            () = tokio::time::sleep_until(deadline.into()) => Event::Deadline,
            () = token.cancelled() => Event::Stopped,
        };
        let step = match event {
            Event::Joined(joined) => job.settle(joined).await.map(|()| true),
            Event::Signal(signal) => job.handle(signal).await,
            Event::Deadline => break Ok(Ended::DeadlineReached),
            Event::Stopped => break Ok(Ended::Stopped),
        };
        match step {
            Ok(again) => plan |= again,
            Err(error) => break Err(error),
        }
    };
    // Stop whatever still runs and let the job write where each task stands.
    token.cancel();
    let mut ended = ended;
    while let Some(joined) = tasks.join_next().await {
        if let Err(error) = job.settle(joined).await {
            tracing::warn!(%error, "settling a stopped task failed");
            if ended.is_ok() {
                ended = Err(error);
            }
        }
    }
    ended
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::error::Error;

    /// Starts `n` tasks that run until stopped; fails on the first signal.
    struct Failing {
        n: usize,
        token: CancellationToken,
        settled: usize,
    }

    impl Job for Failing {
        type Output = ();
        type Done = ();
        type Signal = ();

        async fn plan(&mut self, tasks: &mut JoinSet<()>) -> Result<Option<()>> {
            for _ in 0..self.n {
                let token = self.token.child_token();
                tasks.spawn(async move { token.cancelled().await });
            }
            self.n = 0;
            Ok(None)
        }

        async fn settle(&mut self, joined: std::result::Result<(), JoinError>) -> Result<()> {
            joined.map_err(|e| Error::Internal(e.to_string()))?;
            self.settled += 1;
            Ok(())
        }

        async fn signal(&mut self) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }

        async fn handle(&mut self, (): ()) -> Result<bool> {
            Err(Error::Internal("injected".into()))
        }
    }

    #[tokio::test]
    async fn a_failing_step_still_stops_and_settles_every_task() {
        let token = CancellationToken::new();
        let mut job = Failing { n: 3, token: token.clone(), settled: 0 };
        let deadline = Instant::now() + Duration::from_secs(60);
        let ended = run(&mut job, deadline, &token).await;
        assert!(matches!(ended, Err(Error::Internal(ref m)) if m == "injected"), "{ended:?}");
        assert_eq!(job.settled, 3, "every task was settled after the failure");
        assert!(token.is_cancelled());
    }
}
