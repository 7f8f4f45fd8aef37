package org.satchel

import kotlin.coroutines.cancellation.CancellationException
import org.satchel.core.Cancellation
import org.satchel.core.RunSummary
import org.satchel.core.Satchel
import org.satchel.core.SatchelException
import org.satchel.core.SyncReport

/**
 * `runDownloads` that always stops the core's run when the calling coroutine is cancelled
 * (WorkManager's `cancelAndJoin()` when a constraint fails, a `withTimeout`, a scope ending).
 *
 * The generated suspend function already drops the Rust future on cancellation, and the core
 * stops what it spawned; this adds the explicit signal the core documents for it, so the stop
 * does not depend on how the bindings propagate cancellation (the Swift bindings do not: the
 * Swift shell's function of the same name is the only way there). It stops only this run.
 */
suspend fun Satchel.runDownloadsUntilCancelled(maxDurationMs: Long): RunSummary =
    Cancellation().use { runDownloadsUntilCancelled(maxDurationMs, it) }

/** [runDownloadsUntilCancelled] with a [cancellation] the caller owns (and may cancel itself). */
suspend fun Satchel.runDownloadsUntilCancelled(maxDurationMs: Long, cancellation: Cancellation): RunSummary =
    cancellingOnCancel(cancellation) { runDownloadsCancellable(maxDurationMs, it) }

/** `sync` that always stops when the calling coroutine is cancelled (see [runDownloadsUntilCancelled]). */
suspend fun Satchel.syncUntilCancelled(maxDurationMs: Long): SyncReport =
    Cancellation().use { syncUntilCancelled(maxDurationMs, it) }

suspend fun Satchel.syncUntilCancelled(maxDurationMs: Long, cancellation: Cancellation): SyncReport =
    cancellingOnCancel(cancellation) { syncCancellable(maxDurationMs, it) }

/**
 * One background download job: runs for up to [maxDurationMs] and says what the scheduler
 * should do next. The core's errors become decisions; a cancellation is rethrown (a cancelled
 * Worker's result is ignored anyway), and anything else (a bug) propagates as a failure.
 */
suspend fun Satchel.downloadWork(maxDurationMs: Long): WorkDecision =
    try {
        WorkDecisions.forDownloads(runDownloadsUntilCancelled(maxDurationMs))
    } catch (error: SatchelException) {
        WorkDecisions.forError(error)
    }

/** One background sync job (see [downloadWork]). */
suspend fun Satchel.syncWork(maxDurationMs: Long): WorkDecision =
    try {
        WorkDecisions.forSync(syncUntilCancelled(maxDurationMs))
    } catch (error: SatchelException) {
        WorkDecisions.forError(error)
    }

private suspend fun <T> cancellingOnCancel(cancellation: Cancellation, call: suspend (Cancellation) -> T): T =
    try {
        call(cancellation)
    } catch (cancelled: CancellationException) {
        // Before rethrowing: the core sees the stop even if the bindings never dropped its future.
        cancellation.cancel()
        throw cancelled
    }
