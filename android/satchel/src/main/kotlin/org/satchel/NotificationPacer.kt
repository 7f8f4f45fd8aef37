package org.satchel

/**
 * When to repost the download notification. Android drops updates that come faster than about
 * ten a second per app, and each repost costs the UI process; progress events come a few times a
 * second per download. So: a change in what the text counts (done, failed, waiting…) at once,
 * a new percentage at most every [minIntervalMs], the same numbers never. Not thread-safe.
 */
class NotificationPacer(private val minIntervalMs: Long = 1_000) {
    private var posted: DownloadProgress? = null
    private var postedAtMs = Long.MIN_VALUE

    /** Whether to post [progress] now; if so it counts as posted at [nowMs]. */
    fun shouldPost(progress: DownloadProgress, nowMs: Long): Boolean {
        val last = posted
        val post = when {
            last == null -> true
            counts(last) != counts(progress) -> true
            last.percent == progress.percent && last.etaMs.minutes() == progress.etaMs.minutes() -> false
            else -> nowMs - postedAtMs >= minIntervalMs
        }
        if (post) {
            posted = progress
            postedAtMs = nowMs
        }
        return post
    }

    private fun counts(p: DownloadProgress) =
        listOf(p.downloads, p.done, p.running, p.queued, p.waitingForNetwork, p.waitingForBudget, p.paused, p.failed)

    /** What the text shows of an ETA: a change within the same minute is not worth a repost. */
    private fun Long?.minutes(): Long? = this?.let { (it + 59_999) / 60_000 }
}
