package org.satchel

import java.io.File
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.launch
import kotlinx.coroutines.async
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.takeWhile
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Test
import org.satchel.core.DownloadEventKind
import org.satchel.core.DownloadSettings
import org.satchel.core.DownloadState
import org.satchel.core.DownloadTarget
import org.satchel.core.NetworkType
import org.satchel.core.RenditionKind
import org.satchel.core.RunOutcome

/** The download queue through the bindings, against the loopback reference server. */
class DownloadTest : ServedCourseFixture() {
    @Test fun aCourseInLiteDownloadsWithEventsThroughAFlow() = runBlocking {
        val course = DownloadTarget.Course("web-basics")
        val estimate = satchel.downloadEstimate(course, RenditionKind.LITE)
        assertEquals(8, estimate.lessons)
        assertTrue("$estimate", estimate.bytesToFetch > 400_000 && estimate.bytesTotal > 400_000)
        assertEquals(0, estimate.lessonsAlreadyDownloaded)

        val queued = satchel.enqueueDownload(course, RenditionKind.LITE, 0)
        assertTrue(queued.all { it.state == DownloadState.QUEUED })
        val ids = queued.map { it.id }.toSet()
        // Collect until every queued download reported DONE.
        val events = async(start = CoroutineStart.UNDISPATCHED) {
            val done = mutableSetOf<Long>()
            satchel.downloadEvents().takeWhile { event ->
                if (event.kind == DownloadEventKind.STATE_CHANGED && event.state == DownloadState.DONE) {
                    done.add(event.downloadId)
                }
                done != ids
            }.toList()
        }
        satchel.setNetwork(NetworkType.UNMETERED)
        val summary = satchel.runDownloads(60_000L)
        assertEquals(RunOutcome.FINISHED, summary.outcome)
        assertEquals(ids.size, summary.completed)
        val seen = events.await()
        assertTrue(seen.any { it.kind == DownloadEventKind.STATE_CHANGED && it.state == DownloadState.RUNNING })
        assertTrue(satchel.listDownloads("web-basics").all { it.state == DownloadState.DONE })
        assertTrue(satchel.dataUsage().savedByLiteBytes > 50_000_000)
        assertTrue(satchel.storageUsage().contentBytes >= estimate.bytesToFetch / 2)
    }

    @Test fun wifiOnlyHoldsOnCellularAndABudgetReleasesIt() = runBlocking {
        val lesson = DownloadTarget.Lesson("web-basics.dns")
        val id = satchel.enqueueDownload(lesson, RenditionKind.LITE, 0).single().id
        satchel.setNetwork(NetworkType.METERED)
        assertEquals(RunOutcome.BLOCKED, satchel.runDownloads(10_000L).outcome)
        assertEquals(DownloadState.WAITING_FOR_NETWORK, satchel.listDownloads(null).single { it.id == id }.state)

        val defaults = satchel.downloadSettings()
        assertTrue(defaults.wifiOnly)
        satchel.setDownloadSettings(defaults.copy(wifiOnly = false, monthlyCellularBudgetBytes = 10_000_000L))
        assertEquals(RunOutcome.FINISHED, satchel.runDownloads(30_000L).outcome)
        val usage = satchel.dataUsage()
        assertTrue("${usage.meteredBytes}", usage.meteredBytes > 40_000L)
        assertEquals(0L, usage.unmeteredBytes)
    }

    @Test fun pauseResumeAndCancel() = runBlocking {
        satchel.setNetwork(NetworkType.UNMETERED)
        val id = satchel.enqueueDownload(DownloadTarget.Lesson("web-basics.dns"), RenditionKind.FULL, 5).single().id
        satchel.pauseDownload(id)
        assertEquals(RunOutcome.FINISHED, satchel.runDownloads(10_000L).outcome)
        assertEquals(DownloadState.PAUSED, satchel.listDownloads(null).single { it.id == id }.state)

        satchel.resumeDownload(id)
        satchel.runDownloads(60_000L)
        assertEquals(DownloadState.DONE, satchel.listDownloads(null).single { it.id == id }.state)
        val local = satchel.playbackSource("web-basics.dns", RenditionKind.LITE)
        assertTrue(local.offline)
        assertEquals(RenditionKind.FULL, local.rendition)
        assertTrue(local.files.all { File(it.location).isFile })

        satchel.cancelDownload(id)
        assertTrue(satchel.listDownloads(null).isEmpty())
        val remote = satchel.playbackSource("web-basics.dns", RenditionKind.LITE)
        assertFalse(remote.offline)
        assertTrue(remote.files.first { it.role == "audio" }.location.startsWith(contentUrl))
    }

    /** What WorkManager does when a Worker's constraints fail: `cancelAndJoin()` on the coroutine. */
    @Test fun cancellingTheCoroutineStopsTheRunAndTheNextRunIsNotHeldUp() = runBlocking {
        onSlowPhone(contentUrl, publisherKey, bytesPerSecond = 1_000_000) { phone, link ->
            phone.enqueueDownload(DownloadTarget.Lesson("web-basics.what-happens"), RenditionKind.FULL, 0)
            phone.enqueueDownload(DownloadTarget.Lesson("web-basics.troubleshooting"), RenditionKind.FULL, 0)
            val worker = launch(Dispatchers.Default) { phone.runDownloads(600_000L) }
            phone.awaitADownloadRunning()
            delay(1_000)
            worker.cancelAndJoin()

            // Stopped at its next safe point: nothing left running, no bytes moving.
            phone.awaitNoDownloadRunning()
            val partial = phone.storageUsage().partialBytes
            delay(1_000)
            assertEquals("no bytes arrive after the cancel", partial, phone.storageUsage().partialBytes)
            assertTrue("it had been downloading: $partial bytes", partial > 300_000L)

            // The next run takes over at once, from the bytes on disk (on a fast link now):
            // no orphaned run holds the lock or finishes the downloads behind its back.
            link.bytesPerSecond = Long.MAX_VALUE
            val next = phone.runDownloads(60_000L)
            assertEquals(RunOutcome.FINISHED, next.outcome)
            assertEquals("this run downloaded both: $next", 2, next.completed)
            assertTrue(phone.listDownloads(null).all { it.state == DownloadState.DONE })
        }
    }

    @Test fun stopDownloadsEndsARunEarly() = runBlocking {
        satchel.setNetwork(NetworkType.UNMETERED)
        satchel.enqueueDownload(DownloadTarget.Lesson("web-basics.what-happens"), RenditionKind.FULL, 0)
        val run = async { satchel.runDownloads(60_000L) }
        delay(30)
        satchel.stopDownloads()
        val summary = run.await()
        assertEquals(RunOutcome.STOPPED, summary.outcome)
        assertEquals(1, summary.remaining)
        satchel.runDownloads(60_000L)
        assertEquals(DownloadState.DONE, satchel.listDownloads(null).single().state)
    }
}
