package org.satchel

import org.satchel.core.NetworkErrorKind
import org.satchel.core.RunOutcome
import org.satchel.core.RunSummary
import org.satchel.core.SatchelException
import org.satchel.core.StorageErrorKind
import org.satchel.core.SyncOutcome
import org.satchel.core.SyncReport

/** What a background job tells its scheduler; the shape of WorkManager's `ListenableWorker.Result`. */
enum class WorkResult {
    /** Done for now: the next trigger (an enqueue, a network change) starts the next job. */
    SUCCESS,

    /** Run again later: the scheduler's backoff (and its constraints) decide when. */
    RETRY,

    /** Retrying cannot help until the learner acts (frees space, signs in, changes settings). */
    FAILURE,
}

/**
 * A [WorkResult] with why (for logs, never shown to the learner), and how long the server asked
 * to wait when it did (a 429 or 503 with Retry-After): an adapter enqueues the next job no
 * earlier than that.
 */
data class WorkDecision(val result: WorkResult, val reason: String, val retryAfterMs: Long? = null)

/**
 * The one place a run's or a sync's result, or an error, becomes a [WorkDecision]. The Android
 * Workers and the iOS background tasks both go through it (the Swift shell mirrors it), so the
 * two platforms retry the same things.
 */
object WorkDecisions {
    fun forDownloads(summary: RunSummary): WorkDecision = when (summary.outcome) {
        RunOutcome.FINISHED -> success(
            if (summary.failed > 0) "finished; ${summary.failed} failed and wait for the learner" else "finished",
        )
        // Waiting for a network or budget: the job's network constraint and backoff bring it back.
        RunOutcome.BLOCKED -> retry("blocked: ${summary.remaining} wait for a network or budget")
        RunOutcome.DEADLINE_REACHED -> moreToDo(summary.remaining, "deadline reached")
        // Stopped by the scheduler or `stopDownloads`: everything is resumable, so carry on later.
        // (Holding the queue is `pauseDownload`, which leaves nothing remaining.)
        RunOutcome.STOPPED -> moreToDo(summary.remaining, "stopped")
    }

    fun forSync(report: SyncReport): WorkDecision = when (val outcome = report.outcome) {
        SyncOutcome.Finished -> success("synced: ${report.pushed} sent, ${report.pulled} received")
        SyncOutcome.Blocked -> retry("blocked: ${report.remaining} changes wait for a network or budget")
        SyncOutcome.DeadlineReached -> moreToDo(report.remaining, "deadline reached")
        SyncOutcome.Stopped -> moreToDo(report.remaining, "stopped")
        is SyncOutcome.Failed -> forNetwork(outcome.kind, outcome.httpStatus, null)
    }

    fun forError(error: SatchelException): WorkDecision = when (error) {
        is SatchelException.Network -> forNetwork(error.kind, error.httpStatus, error.retryAfterMs)
        is SatchelException.Storage -> when (error.kind) {
            StorageErrorKind.DISK_FULL -> failure("the disk is full: the learner must free space")
            StorageErrorKind.QUOTA_FULL -> failure("the download quota is full: the learner must raise it or delete")
            StorageErrorKind.CORRUPT -> failure("stored data is damaged: report it")
            StorageErrorKind.IO -> retry("an I/O error, possibly passing")
        }
        // The docs of the error: retrying may help if the network corrupted it.
        is SatchelException.Integrity -> retry("content failed verification")
        is SatchelException.InvalidInput -> failure("invalid input: a bug in the caller")
        is SatchelException.NotFound -> failure("not found")
        is SatchelException.IncompatibleStore -> failure("the account's store cannot be opened by this build")
        is SatchelException.Closed -> failure("the account was closed")
        is SatchelException.Internal -> failure("a bug in the core: report it")
    }

    /** A network failure of `kind`, as a thrown error or a sync's `Failed` outcome. */
    fun forNetwork(kind: NetworkErrorKind, httpStatus: Int?, retryAfterMs: Long?): WorkDecision = when (kind) {
        NetworkErrorKind.NOT_ALLOWED -> retry("the network or the Wi-Fi-only setting holds it")
        // A month's budget is not given back by backoff: the app enqueues again when the
        // learner raises it (or on the first of the month).
        NetworkErrorKind.BUDGET_EXHAUSTED -> failure("the cellular data budget is used up")
        NetworkErrorKind.UNREACHABLE -> retry("the host cannot be reached")
        // A wrong clock (the app should ask the learner to check the date) or a network that
        // intercepts HTTPS: the second passes when the phone moves on, and a retry costs a handshake.
        NetworkErrorKind.CERTIFICATE_REJECTED -> retry("the host's certificate was refused")
        NetworkErrorKind.INTERRUPTED -> retry("the connection broke")
        NetworkErrorKind.HTTP_STATUS -> forHttpStatus(httpStatus, retryAfterMs)
        // A captive portal or a proxy answering in the host's place: it passes when the phone moves on.
        NetworkErrorKind.BAD_REPLY -> retry("an unusable reply")
        NetworkErrorKind.SIGN_IN_REQUIRED -> failure("the learner must sign in")
        NetworkErrorKind.NOT_CONFIGURED -> failure("sync is not configured")
        NetworkErrorKind.OTHER -> failure("an unexpected network error: report it")
    }

    /** 408, 425, 429 and 5xx pass with time; other statuses (404, 410, 403…) do not. */
    private fun forHttpStatus(status: Int?, retryAfterMs: Long?): WorkDecision = when {
        status == null -> retry("an HTTP error without a status")
        status == 408 || status == 425 || status == 429 || status >= 500 ->
            WorkDecision(WorkResult.RETRY, "HTTP $status", retryAfterMs?.coerceAtLeast(0))
        else -> failure("HTTP $status")
    }

    private fun moreToDo(remaining: Int, what: String): WorkDecision =
        if (remaining > 0) retry("$what with $remaining left") else success("$what with nothing left")

    private fun success(reason: String) = WorkDecision(WorkResult.SUCCESS, reason)
    private fun retry(reason: String) = WorkDecision(WorkResult.RETRY, reason)
    private fun failure(reason: String) = WorkDecision(WorkResult.FAILURE, reason)
}
