package org.satchel

import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.async
import kotlinx.coroutines.flow.onEach
import kotlinx.coroutines.flow.takeWhile
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test
import org.satchel.core.DownloadEvent
import org.satchel.core.DownloadEventKind
import org.satchel.core.DownloadState
import org.satchel.core.DownloadTarget
import org.satchel.core.NetworkType
import org.satchel.core.RenditionKind
import org.satchel.core.RunOutcome

/** The download notification's numbers and text, from the events the core sends. */
class DownloadNotificationTest : ServedCourseFixture() {
    private fun event(
        id: Long,
        state: DownloadState,
        done: Long,
        total: Long,
        rate: Long = 0,
        kind: DownloadEventKind = if (rate > 0) DownloadEventKind.PROGRESS else DownloadEventKind.STATE_CHANGED,
    ) = DownloadEvent(kind, id, "lesson-$id", RenditionKind.LITE, state, done, total, rate, null, null)

    @Test fun aRealCourseDownloadClimbsToExactlyOneHundredPercent() = runBlocking {
        val queued = satchel.enqueueDownload(DownloadTarget.Course("web-basics"), RenditionKind.LITE, 0)
        val ids = queued.map { it.id }.toSet()
        val tracker = DownloadProgressTracker()
        val percents = mutableListOf<Int>()
        val subscribed = CompletableDeferred<Unit>()
        val seen = async(start = CoroutineStart.UNDISPATCHED) {
            satchel.downloadEvents().onEach { subscribed.complete(Unit) }
                .takeWhile { event ->
                    val progress = tracker.onEvent(event)
                    percents += progress.percent ?: -1
                    progress.done < ids.size
                }.toList()
            tracker.progress()
        }
        // The snapshot of the queued downloads came first: the tracker covers all of them.
        subscribed.await()
        satchel.setNetwork(NetworkType.UNMETERED)
        assertEquals(RunOutcome.FINISHED, satchel.runDownloads(60_000L).outcome)
        val end = seen.await()
        assertEquals(ids.size, end.downloads)
        assertEquals(100, end.percent)
        assertTrue("$percents", percents.all { it in 0..100 } && percents == percents.sorted())
        assertTrue("$percents", percents.dropLast(1).all { it < 100 })
        assertTrue(end.settled)
        assertEquals(end.bytesTotal, end.bytesDone)
        assertEquals(queued.sumOf { it.bytesTotal }, end.bytesTotal)
        assertEquals("Downloads complete", DownloadNotificationText.title(end))
        assertTrue(DownloadNotificationText.text(end), DownloadNotificationText.text(end).startsWith("${ids.size} of ${ids.size} lessons"))

        // A later notification starts from what is still to do, not from the finished course.
        val next = DownloadProgressTracker()
        satchel.listDownloads(null).forEach { next.onEvent(DownloadEvent(DownloadEventKind.STATE_CHANGED, it.id, it.lessonId, it.rendition, it.state, it.bytesDone, it.bytesTotal, 0, null, null)) }
        assertEquals(0, next.progress().downloads)
        assertNull(next.progress().percent)
    }

    @Test fun percentNeverPassesOneHundredAndHoldsAtNinetyNineUntilDone() {
        val tracker = DownloadProgressTracker()
        tracker.onEvent(event(1, DownloadState.RUNNING, 0, 1_000))
        // A file longer than announced: the count is capped at the download's total.
        val over = tracker.onEvent(event(1, DownloadState.RUNNING, 5_000, 1_000, rate = 100))
        assertEquals(99, over.percent)
        assertEquals(1_000L, over.bytesDone)
        assertNull("nothing left at this rate", over.etaMs)
        assertEquals(100, tracker.onEvent(event(1, DownloadState.DONE, 1_000, 1_000)).percent)
    }

    @Test fun finishedDownloadsKeepCountingAndPausedOnesLeaveTheBar() {
        val tracker = DownloadProgressTracker()
        tracker.onEvent(event(1, DownloadState.DONE, 500, 500)) // done before: not in this batch
        tracker.onEvent(event(2, DownloadState.RUNNING, 0, 1_000))
        tracker.onEvent(event(3, DownloadState.QUEUED, 0, 3_000))
        tracker.onEvent(event(4, DownloadState.RUNNING, 0, 6_000))
        val half = tracker.onEvent(event(2, DownloadState.DONE, 1_000, 1_000))
        assertEquals(3, half.downloads)
        assertEquals(10, half.percent)
        tracker.onEvent(event(4, DownloadState.PAUSED, 3_000, 6_000))
        val paused = tracker.progress()
        assertEquals(25, paused.percent) // 1 000 of 4 000: the paused 6 000 no longer count
        assertEquals(1, paused.paused)
        tracker.onEvent(event(3, DownloadState.RUNNING, 1_500, 3_000, rate = 500))
        val eta = tracker.progress()
        assertEquals(62, eta.percent) // 2 500 of 4 000, rounded down
        assertEquals(3_000L, eta.etaMs) // 1 500 bytes at 500 B/s
        // Removed (cancelled): it leaves the sums.
        val removed = tracker.onEvent(event(3, DownloadState.RUNNING, 0, 0, kind = DownloadEventKind.REMOVED))
        assertEquals(2, removed.downloads)
        assertEquals(100, tracker.onEvent(event(4, DownloadState.FAILED, 3_000, 6_000)).percent)
        assertEquals("Downloads finished, 1 failed", DownloadNotificationText.title(tracker.progress()))
    }

    @Test fun aRunningDownloadKeepsItsRateAcrossStateEventsAndUnknownSizesAreIndeterminate() {
        val tracker = DownloadProgressTracker()
        tracker.onEvent(event(1, DownloadState.RUNNING, 100, 10_100, rate = 1_000))
        assertEquals(10_000L, tracker.onEvent(event(1, DownloadState.RUNNING, 100, 10_100)).etaMs)
        assertNull(tracker.onEvent(event(1, DownloadState.WAITING_FOR_NETWORK, 100, 10_100)).etaMs)
        assertEquals("Waiting for a network", DownloadNotificationText.title(tracker.progress()))
        tracker.onEvent(event(2, DownloadState.QUEUED, 0, 0))
        assertNull(tracker.progress().percent)
    }

    @Test fun etaAndSizesReadWell() {
        assertEquals("less than a minute", DownloadNotificationText.formatEta(59_999))
        assertEquals("1 min", DownloadNotificationText.formatEta(60_000))
        assertEquals("2 min", DownloadNotificationText.formatEta(60_001))
        assertEquals("59 min", DownloadNotificationText.formatEta(59 * 60_000L))
        assertEquals("1 h 05 min", DownloadNotificationText.formatEta(65 * 60_000L))
        assertEquals("more than a day", DownloadNotificationText.formatEta(25 * 3_600_000L))
        assertEquals("999 B", DownloadNotificationText.formatBytes(999))
        assertEquals("12 kB", DownloadNotificationText.formatBytes(12_345))
        assertEquals("4.5 MB", DownloadNotificationText.formatBytes(4_480_000))
        assertEquals("1.25 GB", DownloadNotificationText.formatBytes(1_250_000_000))
        val progress = DownloadProgressTracker().apply {
            onEvent(event(1, DownloadState.RUNNING, 1_200_000, 4_500_000, rate = 20_000))
        }.progress()
        assertEquals("Downloading lessons", DownloadNotificationText.title(progress))
        assertEquals("0 of 1 lessons · 1.2 MB of 4.5 MB · 3 min left", DownloadNotificationText.text(progress))
    }

    @Test fun theNotificationIsRepostedForNewCountsAtOnceAndForPercentagesAtMostOnceASecond() {
        val pacer = NotificationPacer(minIntervalMs = 1_000)
        val tracker = DownloadProgressTracker()
        assertTrue(pacer.shouldPost(tracker.onEvent(event(1, DownloadState.RUNNING, 0, 10_000)), nowMs = 0))
        assertFalse("the same numbers", pacer.shouldPost(tracker.progress(), nowMs = 5_000))
        val moved = tracker.onEvent(event(1, DownloadState.RUNNING, 1_000, 10_000, rate = 100))
        assertFalse("too soon", pacer.shouldPost(moved, nowMs = 10))
        assertTrue(pacer.shouldPost(tracker.onEvent(event(1, DownloadState.RUNNING, 2_000, 10_000, rate = 100)), nowMs = 1_000))
        // A new download joining changes the counts: at once.
        assertTrue(pacer.shouldPost(tracker.onEvent(event(2, DownloadState.QUEUED, 0, 10_000)), nowMs = 1_001))
        assertTrue(pacer.shouldPost(tracker.onEvent(event(1, DownloadState.DONE, 10_000, 10_000)), nowMs = 1_002))
    }
}
