package org.satchel.android

import android.content.Context
import android.util.Log
import androidx.work.CoroutineWorker
import androidx.work.ExistingWorkPolicy
import androidx.work.ForegroundInfo
import androidx.work.WorkManager
import androidx.work.WorkerParameters
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.launch
import org.satchel.DownloadProgress
import org.satchel.DownloadProgressTracker
import org.satchel.NotificationPacer
import org.satchel.downloadEvents
import org.satchel.downloadWork

/**
 * Runs the download queue in the background, in a foreground service with a progress
 * notification. Every decision is the shell's tested logic: `downloadWork` (the run, stopped
 * when WorkManager cancels this coroutine, and its result), `DownloadProgressTracker` and
 * `NotificationPacer` (what the notification says, and when), `SatchelWork.result`.
 */
class DownloadWorker(context: Context, params: WorkerParameters) : CoroutineWorker(context, params) {
    private val notifications = DownloadNotifications(context)
    private val stop get() = WorkManager.getInstance(applicationContext).createCancelPendingIntent(id)

    override suspend fun doWork(): Result {
        val satchel = (applicationContext as SatchelProvider).satchel() ?: return Result.success()
        // This process may have started for this job, before any network callback.
        satchel.setNetwork(SatchelNetworkMonitor.current(applicationContext))
        notifications.ensureChannel()
        val tracker = DownloadProgressTracker()
        var foreground = show(tracker.progress())
        val decision = coroutineScope {
            val pacer = NotificationPacer()
            val updates = launch {
                satchel.downloadEvents().collect { event ->
                    val progress = tracker.onEvent(event)
                    if (foreground && pacer.shouldPost(progress, System.currentTimeMillis())) {
                        foreground = show(progress)
                    }
                }
            }
            try {
                satchel.downloadWork(SatchelWork.MAX_RUN_MS)
            } finally {
                updates.cancel()
            }
        }
        Log.i("Satchel/worker", "downloads: ${decision.result}, ${decision.reason}")
        val settings = satchel.downloadSettings()
        return SatchelWork.result(decision) { delayMs ->
            SatchelWork.enqueueDownloads(applicationContext, settings, delayMs, ExistingWorkPolicy.APPEND_OR_REPLACE)
        }
    }

    /** Shows [progress] as the foreground notification; false when the system refuses. */
    private suspend fun show(progress: DownloadProgress): Boolean =
        try {
            setForeground(notifications.foregroundInfo(progress, stop))
            true
        } catch (refused: IllegalStateException) {
            // Android 12+ refuses a foreground service started from the background unless the job
            // is expedited (ForegroundServiceStartNotAllowedException): the run still fits the
            // 10 minutes a plain Worker gets.
            Log.i("Satchel/worker", "downloading without a foreground notification: ${refused.message}")
            false
        }

    /** What an expedited job shows on Android 11 and older, before doWork runs. */
    override suspend fun getForegroundInfo(): ForegroundInfo {
        notifications.ensureChannel()
        return notifications.foregroundInfo(DownloadProgressTracker().progress(), stop)
    }
}
