package org.satchel.android

import android.app.Notification
import android.app.NotificationChannel
import android.app.NotificationManager
import android.app.PendingIntent
import android.content.Context
import android.content.pm.ServiceInfo
import android.os.Build
import androidx.core.app.NotificationCompat
import androidx.work.ForegroundInfo
import org.satchel.DownloadNotificationText
import org.satchel.DownloadProgress

/**
 * The foreground-service notification of a download run: WorkManager's foreground service with
 * the `dataSync` type (declared in the library manifest), one channel of low importance (no
 * sound, no peeking), text and percentage from `DownloadNotificationText` / `DownloadProgress`.
 */
class DownloadNotifications(private val context: Context) {
    fun ensureChannel() {
        if (Build.VERSION.SDK_INT < 26) return
        val channel = NotificationChannel(CHANNEL_ID, "Downloads", NotificationManager.IMPORTANCE_LOW)
        channel.description = "Lessons downloading for offline study"
        context.getSystemService(NotificationManager::class.java).createNotificationChannel(channel)
    }

    fun build(progress: DownloadProgress, stop: PendingIntent): Notification =
        NotificationCompat.Builder(context, CHANNEL_ID)
            .setSmallIcon(android.R.drawable.stat_sys_download)
            .setContentTitle(DownloadNotificationText.title(progress))
            .setContentText(DownloadNotificationText.text(progress))
            .setProgress(100, progress.percent ?: 0, progress.percent == null)
            .setOngoing(!progress.settled)
            .setOnlyAlertOnce(true)
            .setSilent(true)
            .setCategory(NotificationCompat.CATEGORY_PROGRESS)
            // Shown at once: on Android 12+ the system may otherwise hold it for 10 s.
            .setForegroundServiceBehavior(NotificationCompat.FOREGROUND_SERVICE_IMMEDIATE)
            .addAction(android.R.drawable.ic_menu_close_clear_cancel, "Stop", stop)
            .build()

    fun foregroundInfo(progress: DownloadProgress, stop: PendingIntent): ForegroundInfo {
        val notification = build(progress, stop)
        // Android 14 refuses a foreground service without the type its manifest entry declares.
        return if (Build.VERSION.SDK_INT >= 29) {
            ForegroundInfo(NOTIFICATION_ID, notification, ServiceInfo.FOREGROUND_SERVICE_TYPE_DATA_SYNC)
        } else {
            ForegroundInfo(NOTIFICATION_ID, notification)
        }
    }

    companion object {
        const val CHANNEL_ID = "org.satchel.downloads"
        const val NOTIFICATION_ID = 0x5a7c
    }
}
