package org.satchel

import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.TimeoutCancellationException
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Test
import org.satchel.core.Cancellation
import org.satchel.core.DownloadState
import org.satchel.core.DownloadTarget
import org.satchel.core.NetworkType
import org.satchel.core.RenditionKind
import org.satchel.core.RunOutcome

/** The shell's run wrapper: a cancelled coroutine always stops the core's run. */
class RunWrapperTest : ServedCourseFixture() {
    @Test fun cancellingMidTransferSignalsTheCoreAndNoByteMovesAfter() = runBlocking {
        onSlowPhone(contentUrl, publisherKey, bytesPerSecond = 500_000) { phone, _ ->
            phone.enqueueDownload(DownloadTarget.Lesson("web-basics.what-happens"), RenditionKind.FULL, 0)
            val cancellation = Cancellation()
            val worker = launch(Dispatchers.Default) { phone.runDownloadsUntilCancelled(600_000L, cancellation) }
            phone.awaitADownloadRunning()
            delay(500)
            assertFalse(cancellation.isCancelled())
            worker.cancelAndJoin()
            assertTrue("the wrapper signalled the core", cancellation.isCancelled())

            phone.awaitNoDownloadRunning()
            val partial = phone.storageUsage().partialBytes
            delay(700)
            assertEquals("no bytes arrive after the cancel", partial, phone.storageUsage().partialBytes)
            assertTrue("it had been downloading: $partial bytes", partial > 100_000L)
            cancellation.close()
        }
    }

    @Test fun aTimeoutIsACancellationTooAndTheNextRunIsNotHeldUp() = runBlocking {
        satchel.setNetwork(NetworkType.UNMETERED)
        satchel.enqueueDownload(DownloadTarget.Lesson("web-basics.what-happens"), RenditionKind.FULL, 0)
        val cancellation = Cancellation()
        val timedOut = runCatching {
            withTimeout(1) { satchel.runDownloadsUntilCancelled(600_000L, cancellation) }
        }.exceptionOrNull()
        assertTrue("$timedOut", timedOut is TimeoutCancellationException)
        assertTrue(cancellation.isCancelled())

        val next = withTimeout(60_000) { satchel.runDownloadsUntilCancelled(60_000L) }
        assertEquals(RunOutcome.FINISHED, next.outcome)
        assertEquals(1, next.completed)
    }

    @Test fun aRunThatEndsByItselfLeavesItsCancellationUntouched() = runBlocking {
        satchel.setNetwork(NetworkType.UNMETERED)
        satchel.enqueueDownload(DownloadTarget.Lesson("web-basics.dns"), RenditionKind.LITE, 0)
        val cancellation = Cancellation()
        val started = launch(start = CoroutineStart.UNDISPATCHED) {
            assertEquals(RunOutcome.FINISHED, satchel.runDownloadsUntilCancelled(30_000L, cancellation).outcome)
        }
        started.join()
        assertFalse(cancellation.isCancelled())
        assertEquals(DownloadState.DONE, satchel.listDownloads(null).single().state)
    }
}
