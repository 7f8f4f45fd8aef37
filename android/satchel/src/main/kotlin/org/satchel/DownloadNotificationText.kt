package org.satchel

import java.util.Locale

/**
 * The English text of the download notification, from a [DownloadProgress]. An app with
 * translations builds its own from the same numbers; the rules (what is said when) live here.
 */
object DownloadNotificationText {
    fun title(progress: DownloadProgress): String = when {
        progress.downloads == 0 -> "No downloads"
        progress.settled && progress.failed > 0 -> "Downloads finished, ${progress.failed} failed"
        progress.settled -> "Downloads complete"
        progress.running > 0 -> "Downloading lessons"
        progress.waitingForBudget > 0 && progress.queued == 0 -> "Cellular data budget used up"
        progress.waitingForNetwork > 0 && progress.queued == 0 -> "Waiting for a network"
        else -> "Waiting to download"
    }

    /** "3 of 8 lessons · 1.2 MB of 4.5 MB · 3 min left" (the parts that are known). */
    fun text(progress: DownloadProgress): String {
        val parts = mutableListOf("${progress.done} of ${progress.downloads} lessons")
        if (progress.bytesTotal > 0) parts += "${formatBytes(progress.bytesDone)} of ${formatBytes(progress.bytesTotal)}"
        progress.etaMs?.let { parts += "${formatEta(it)} left" }
        return parts.joinToString(" · ")
    }

    /** Minutes rounded up (never "0 min" while bytes are left); hours past the hour. */
    fun formatEta(ms: Long): String {
        val minutes = (ms.coerceAtLeast(0) + 59_999) / 60_000
        return when {
            ms < 60_000 -> "less than a minute"
            minutes < 60 -> "$minutes min"
            minutes < 24 * 60 -> String.format(Locale.ROOT, "%d h %02d min", minutes / 60, minutes % 60)
            else -> "more than a day"
        }
    }

    /** Decimal units, as Android's file-size formatter and the OS storage screens use. */
    fun formatBytes(bytes: Long): String {
        val b = bytes.coerceAtLeast(0)
        return when {
            b < 1_000 -> "$b B"
            b < 1_000_000 -> "${b / 1_000} kB"
            b < 1_000_000_000 -> String.format(Locale.ROOT, "%.1f MB", b / 1e6)
            else -> String.format(Locale.ROOT, "%.2f GB", b / 1e9)
        }
    }
}
