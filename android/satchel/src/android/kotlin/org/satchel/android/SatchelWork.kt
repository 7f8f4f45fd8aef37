package org.satchel.android

import android.content.Context
import androidx.work.BackoffPolicy
import androidx.work.Constraints
import androidx.work.ExistingPeriodicWorkPolicy
import androidx.work.ExistingWorkPolicy
import androidx.work.ListenableWorker
import androidx.work.NetworkType
import androidx.work.OneTimeWorkRequestBuilder
import androidx.work.PeriodicWorkRequestBuilder
import androidx.work.WorkManager
import androidx.work.workDataOf
import java.util.concurrent.TimeUnit
import org.satchel.RequiredNetwork
import org.satchel.WorkConstraints
import org.satchel.WorkDecision
import org.satchel.WorkResult
import org.satchel.core.DownloadSettings

/**
 * Enqueueing Satchel's background jobs with WorkManager: one unique download chain and one
 * unique sync chain per app, so a tap, a network change and a retry never run two at once (the
 * core would make the second wait for the first anyway).
 */
object SatchelWork {
    const val DOWNLOADS = "org.satchel.downloads"
    const val SYNC = "org.satchel.sync"
    const val PERIODIC_SYNC = "org.satchel.sync.periodic"

    /** One run: WorkManager stops a Worker after 10 minutes; the run ends before that. */
    const val MAX_RUN_MS = 9 * 60_000L

    /** After the learner taps download or changes the settings; a job already waiting is kept. */
    fun enqueueDownloads(context: Context, settings: DownloadSettings, delayMs: Long = 0, policy: ExistingWorkPolicy = ExistingWorkPolicy.KEEP) {
        val request = OneTimeWorkRequestBuilder<DownloadWorker>()
            .setConstraints(constraints(WorkConstraints.forDownloads(settings), storageNotLow = true))
            .setBackoffCriteria(BackoffPolicy.EXPONENTIAL, 30, TimeUnit.SECONDS)
            .setInitialDelay(delayMs, TimeUnit.MILLISECONDS)
            .build()
        WorkManager.getInstance(context).enqueueUniqueWork(DOWNLOADS, policy, request)
    }

    fun enqueueSync(context: Context, delayMs: Long = 0, policy: ExistingWorkPolicy = ExistingWorkPolicy.KEEP) {
        val request = OneTimeWorkRequestBuilder<SyncWorker>()
            .setConstraints(constraints(WorkConstraints.forSync(), storageNotLow = false))
            .setBackoffCriteria(BackoffPolicy.EXPONENTIAL, 30, TimeUnit.SECONDS)
            .setInitialDelay(delayMs, TimeUnit.MILLISECONDS)
            .build()
        WorkManager.getInstance(context).enqueueUniqueWork(SYNC, policy, request)
    }

    /** A sync every few hours while the app is not running (the core syncs itself while it is). */
    fun schedulePeriodicSync(context: Context) {
        val request = PeriodicWorkRequestBuilder<SyncWorker>(6, TimeUnit.HOURS)
            .setConstraints(constraints(WorkConstraints.forSync(), storageNotLow = false))
            .build()
        WorkManager.getInstance(context).enqueueUniquePeriodicWork(PERIODIC_SYNC, ExistingPeriodicWorkPolicy.KEEP, request)
    }

    /**
     * A [WorkDecision] as the Worker's result. A server's Retry-After is longer than WorkManager's
     * backoff would wait, so that retry is a new job appended to the chain with that delay.
     */
    internal fun result(decision: WorkDecision, enqueueAfter: (delayMs: Long) -> Unit): ListenableWorker.Result =
        when (decision.result) {
            WorkResult.SUCCESS -> ListenableWorker.Result.success()
            WorkResult.RETRY -> decision.retryAfterMs?.let {
                enqueueAfter(it)
                ListenableWorker.Result.success()
            } ?: ListenableWorker.Result.retry()
            WorkResult.FAILURE -> ListenableWorker.Result.failure(workDataOf("reason" to decision.reason))
        }

    private fun constraints(network: RequiredNetwork, storageNotLow: Boolean): Constraints =
        Constraints.Builder()
            .setRequiredNetworkType(
                when (network) {
                    RequiredNetwork.CONNECTED -> NetworkType.CONNECTED
                    RequiredNetwork.UNMETERED -> NetworkType.UNMETERED
                },
            )
            .setRequiresStorageNotLow(storageNotLow)
            .build()
}
