package org.satchel

import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.satchel.core.DownloadEvent
import org.satchel.core.DownloadEventKind
import org.satchel.core.DownloadListener
import org.satchel.core.DownloadState
import org.satchel.core.DownloadTarget
import org.satchel.core.NetworkType
import org.satchel.core.RenditionKind
import org.satchel.core.RunOutcome

/**
 * Listeners an app can trust, through the bindings: a snapshot on subscribe, no state change
 * lost to a slow listener, and a listener stuck (as on a busy main thread) stalling no transfer.
 */
class ListenerTest : ServedCourseFixture() {
    @Before fun onWifi() = satchel.setNetwork(NetworkType.UNMETERED)

    /** Records events; each `onEvent` first waits for [gate], then sleeps [delayMs]. */
    private class Recorder(private val gate: CountDownLatch = CountDownLatch(0), private val delayMs: Long = 0) :
        DownloadListener {
        private val events = mutableListOf<DownloadEvent>()
        private val lock = Object()

        override fun onEvent(event: DownloadEvent) {
            gate.await()
            Thread.sleep(delayMs)
            synchronized(lock) {
                events.add(event)
                lock.notifyAll()
            }
        }

        fun events(): List<DownloadEvent> = synchronized(lock) { events.toList() }

        /** Waits (at most 30 s) until every download in [ids] reported DONE. */
        fun awaitDone(ids: Set<Long>): List<DownloadEvent> = synchronized(lock) {
            val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30)
            while (!ids.all { id -> statesOf(events)[id]?.lastOrNull() == DownloadState.DONE }) {
                val left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())
                check(left > 0) { "not every download reported DONE in 30 s: ${statesOf(events)}" }
                lock.wait(left)
            }
            events.toList()
        }
    }

    private suspend fun enqueueCourse(): Set<Long> =
        satchel.enqueueDownload(DownloadTarget.Course("web-basics"), RenditionKind.LITE, 0).map { it.id }.toSet()

    @Test fun blockedListenersStallNoDownloadAndThenGetEveryStateChange() = runBlocking {
        val ids = enqueueCourse()
        val gate = CountDownLatch(1)
        // More stuck listeners than the core has async workers.
        val recorders = List(3) { Recorder(gate) }
        val subscriptions = recorders.map { satchel.subscribeDownloads(it) }
        try {
            val summary = satchel.runDownloads(60_000L)
            assertEquals(RunOutcome.FINISHED, summary.outcome)
            assertEquals("every download finished while the listeners were stuck", ids.size, summary.completed)
            assertTrue(recorders.all { it.events().isEmpty() })

            gate.countDown()
            for (recorder in recorders) {
                val events = recorder.awaitDone(ids)
                // The snapshot comes first: every download's state when the delivery started.
                val snapshot = events.take(ids.size)
                assertTrue("$snapshot", snapshot.all { it.kind == DownloadEventKind.STATE_CHANGED })
                assertEquals(ids, snapshot.map { it.downloadId }.toSet())
                val rank = listOf(DownloadState.QUEUED, DownloadState.RUNNING, DownloadState.DONE)
                for ((id, states) in statesOf(events)) {
                    assertEquals("download $id went back: $states", states.sortedBy { rank.indexOf(it) }, states)
                }
            }
        } finally {
            subscriptions.forEach { it.close() }
        }
    }

    @Test fun aLaggingListenerMissesNoStateChange() = runBlocking {
        val ids = enqueueCourse()
        val lagging = Recorder(delayMs = 40)
        satchel.subscribeDownloads(lagging).use {
            assertEquals(ids.size, satchel.runDownloads(60_000L).completed)
            val events = lagging.awaitDone(ids)
            for ((id, states) in statesOf(events)) {
                val order = listOf(DownloadState.QUEUED, DownloadState.RUNNING, DownloadState.DONE)
                assertEquals("download $id: $states", order, states.filter { it in order }.distinct())
            }
        }
    }

    @Test fun aLateSubscriberStartsWithTheStateOfEveryDownload() = runBlocking {
        val ids = enqueueCourse()
        val paused = ids.first()
        satchel.pauseDownload(paused)
        val recorder = Recorder()
        satchel.subscribeDownloads(recorder).use {
            val deadline = System.currentTimeMillis() + 10_000
            while (recorder.events().size < ids.size && System.currentTimeMillis() < deadline) Thread.sleep(10)
            val states = recorder.events().associate { it.downloadId to it.state }
            assertEquals(ids, states.keys)
            assertEquals(DownloadState.PAUSED, states[paused])
            assertTrue("$states", (ids - paused).all { states[it] == DownloadState.QUEUED })
        }
    }
}

/** Each download's state changes in the order they arrived. */
private fun statesOf(events: List<DownloadEvent>): Map<Long, List<DownloadState>> =
    events.filter { it.kind == DownloadEventKind.STATE_CHANGED }.groupBy({ it.downloadId }, { it.state })
