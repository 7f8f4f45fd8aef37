package org.satchel

import org.satchel.core.DownloadEvent
import org.satchel.core.DownloadEventKind
import org.satchel.core.DownloadState

/**
 * Where the downloads of one notification stand, summed over them: what a progress notification
 * (Android's foreground-service notification, an iOS progress view) shows.
 */
data class DownloadProgress(
    /** Downloads this notification covers (see [DownloadProgressTracker] for which). */
    val downloads: Int,
    val done: Int,
    val running: Int,
    /** Queued behind the running ones. */
    val queued: Int,
    val waitingForNetwork: Int,
    val waitingForBudget: Int,
    val paused: Int,
    val failed: Int,
    /** Bytes of the downloads still counted (not paused or failed), each at most its total. */
    val bytesDone: Long,
    val bytesTotal: Long,
    /** 0–100, and 100 only when every counted download is done; null when sizes are unknown. */
    val percent: Int?,
    /** Time left at the current rate of all running downloads together; null when unknown. */
    val etaMs: Long?,
) {
    /** Nothing counted is left to move (done, or paused or failed by the learner). */
    val settled: Boolean get() = done + paused + failed == downloads
}

/**
 * Folds [DownloadEvent]s (as `downloadEvents()` delivers them) into a [DownloadProgress].
 *
 * It covers the downloads it has seen not yet done: a download that is already done in the
 * subscription's first snapshot finished before, and would make a new batch start at 90 %.
 * Once seen, a download stays in until it is removed, so a finished one keeps counting and the
 * percentage does not fall back when it ends. Not thread-safe: feed it from one collector.
 */
class DownloadProgressTracker {
    private class Row(var state: DownloadState, var bytesDone: Long, var bytesTotal: Long, var bytesPerSecond: Long)

    private val rows = LinkedHashMap<Long, Row>()

    /** Applies [event] and returns the progress after it. */
    fun onEvent(event: DownloadEvent): DownloadProgress {
        val row = rows[event.downloadId]
        when {
            event.kind == DownloadEventKind.REMOVED -> rows.remove(event.downloadId)
            row == null && event.state == DownloadState.DONE -> {}
            row == null -> rows[event.downloadId] =
                Row(event.state, event.bytesDone, event.bytesTotal, rateOf(event))
            else -> {
                row.state = event.state
                row.bytesDone = event.bytesDone
                row.bytesTotal = event.bytesTotal
                // State events carry no rate: a running download keeps its last measured one.
                if (event.kind == DownloadEventKind.PROGRESS || event.state != DownloadState.RUNNING) {
                    row.bytesPerSecond = rateOf(event)
                }
            }
        }
        return progress()
    }

    fun progress(): DownloadProgress {
        var bytesDone = 0L
        var bytesTotal = 0L
        var rate = 0L
        var unknownSize = false
        for (row in rows.values) {
            if (row.state == DownloadState.PAUSED || row.state == DownloadState.FAILED) continue
            val total = row.bytesTotal.coerceAtLeast(0)
            if (total == 0L && row.state != DownloadState.DONE) unknownSize = true
            bytesTotal += total
            bytesDone += if (row.state == DownloadState.DONE) total else row.bytesDone.coerceIn(0, total)
            if (row.state == DownloadState.RUNNING) rate += row.bytesPerSecond
        }
        val count = { state: DownloadState -> rows.values.count { it.state == state } }
        val done = count(DownloadState.DONE)
        val paused = count(DownloadState.PAUSED)
        val failed = count(DownloadState.FAILED)
        val allDone = done + paused + failed == rows.size
        val left = bytesTotal - bytesDone
        return DownloadProgress(
            downloads = rows.size,
            done = done,
            running = count(DownloadState.RUNNING),
            queued = count(DownloadState.QUEUED),
            waitingForNetwork = count(DownloadState.WAITING_FOR_NETWORK),
            waitingForBudget = count(DownloadState.WAITING_FOR_BUDGET),
            paused = paused,
            failed = failed,
            bytesDone = bytesDone,
            bytesTotal = bytesTotal,
            percent = percent(bytesDone, bytesTotal, allDone, unknownSize),
            etaMs = if (left > 0 && rate > 0) ceilDiv(left * 1000, rate) else null,
        )
    }

    private fun rateOf(event: DownloadEvent): Long =
        if (event.state == DownloadState.RUNNING) event.bytesPerSecond.coerceAtLeast(0) else 0

    private fun percent(done: Long, total: Long, allDone: Boolean, unknownSize: Boolean): Int? = when {
        rows.isEmpty() -> null
        allDone -> 100
        unknownSize || total == 0L -> null
        // Rounded down and held at 99 until the last download is verified and done.
        else -> (done * 100 / total).toInt().coerceIn(0, 99)
    }

    private fun ceilDiv(a: Long, b: Long): Long = (a + b - 1) / b
}
