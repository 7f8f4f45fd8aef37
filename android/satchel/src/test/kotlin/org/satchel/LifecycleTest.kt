package org.satchel

import java.io.File
import java.nio.file.Files
import java.util.concurrent.Executors
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.delay
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Before
import org.junit.Test
import org.satchel.core.DownloadState
import org.satchel.core.DownloadTarget
import org.satchel.core.NetworkType
import org.satchel.core.RenditionKind
import org.satchel.core.RunOutcome
import org.satchel.core.SatchelConfig
import org.satchel.core.SatchelException

/**
 * Lifecycle calls an app makes from its main thread, and one account per directory: the UI and a
 * Worker opening the same account share one object (one network state, one run lock).
 */
class LifecycleTest {
    private lateinit var dir: File
    private val contentUrl: String = TestServer.contentUrl
    private val publisherKey: String = TestServer.publisherKey
    private val trusting get() = SatchelConfig(trustedPublisherKeys = listOf(publisherKey))

    @Before fun makeDir() {
        dir = Files.createTempDirectory("satchel-kt-life").toFile()
    }

    @After fun removeDir() {
        dir.deleteRecursively()
    }

    @Test fun theUiAndAWorkerOpeningOneAccountShareIt() = runBlocking {
        val ui = SatchelAccounts.open(File(dir, "amina"), trusting)
        ui.fetchCourse(contentUrl, "web-basics")
        ui.enqueueDownload(DownloadTarget.Lesson("web-basics.dns"), RenditionKind.LITE, 0)
        // The Worker reaches the same folder by another path, and leaves the device name empty.
        val worker = SatchelAccounts.open(File(dir, "x/../amina").apply { File(dir, "x").mkdirs() }, trusting)
        assertEquals(ui.deviceId(), worker.deviceId())

        // The network the UI reported is the one the Worker's run sees: with two objects the
        // Worker would know of no network and download nothing.
        ui.setNetwork(NetworkType.UNMETERED)
        val summary = worker.runDownloads(60_000L)
        assertEquals(RunOutcome.FINISHED, summary.outcome)
        assertEquals(1, summary.completed)
        assertEquals(DownloadState.DONE, ui.listDownloads(null).single().state)

        try {
            SatchelAccounts.open(File(dir, "amina"), SatchelConfig())
            fail("opening it again with other trusted keys must fail")
        } catch (e: SatchelException.InvalidInput) {
            assertTrue(e.reason, e.reason.contains("already open"))
        }

        // Shutting down closes it for both holders; the next open opens it anew.
        worker.shutdown()
        try {
            ui.listCourses()
            fail("expected Closed")
        } catch (e: SatchelException.Closed) {
        }
        val reopened = SatchelAccounts.open(File(dir, "amina"), SatchelConfig(deviceName = "Amina's phone"))
        assertEquals(ui.deviceId(), reopened.deviceId())
        assertEquals(1, reopened.listCourses().size)
        reopened.shutdown()
        listOf(ui, worker, reopened).forEach { it.close() }
    }

    /**
     * An app calls `pause()` when it goes to the background and `shutdown()` when it ends, on its
     * main thread, possibly while a Worker's download run is moving bytes. The main thread must
     * stay free (a frame every 16 ms), the run must stop, and nothing may be lost.
     */
    @Test fun pauseAndShutdownDuringARunNeverBlockTheMainThread() = runBlocking {
        val mainThread = Executors.newSingleThreadExecutor { Thread(it, "fake-main") }.asCoroutineDispatcher()
        SlowLink(contentUrl, bytesPerSecond = 500_000).use { link ->
            val account = File(dir, "bilal")
            val satchel = SatchelAccounts.open(account, trusting)
            satchel.fetchCourse(link.url, "web-basics")
            satchel.setNetwork(NetworkType.UNMETERED)
            satchel.enqueueDownload(DownloadTarget.Lesson("web-basics.what-happens"), RenditionKind.FULL, 0)
            val run = launch(Dispatchers.Default) {
                try {
                    satchel.runDownloads(600_000L)
                } catch (e: SatchelException.Closed) {
                    // The run noticed the shutdown between two chunks: fine, it stays resumable.
                }
            }
            withTimeout(10_000) {
                while (satchel.storageUsage().partialBytes < 100_000L) delay(20)
            }

            var longestFrameGapMs = 0L
            val shutdownTookMs = withContext(mainThread) {
                val frames = launch {
                    var last = System.nanoTime()
                    while (isActive) {
                        delay(5)
                        val now = System.nanoTime()
                        longestFrameGapMs = maxOf(longestFrameGapMs, (now - last) / 1_000_000)
                        last = now
                    }
                }
                satchel.pause()
                val started = System.nanoTime()
                satchel.shutdown()
                val took = (System.nanoTime() - started) / 1_000_000
                frames.cancel()
                took
            }
            withTimeout(10_000) { run.join() }
            assertTrue("shutdown took $shutdownTookMs ms (bounded by 5 s)", shutdownTookMs < 6_000)
            assertTrue("the main thread stalled for $longestFrameGapMs ms", longestFrameGapMs < 250)
            satchel.close()

            // Reopened: the download is resumable from the bytes it had, not running, not lost.
            link.bytesPerSecond = Long.MAX_VALUE
            val again = SatchelAccounts.open(account, trusting)
            val download = again.listDownloads(null).single()
            assertTrue("$download", download.state != DownloadState.RUNNING)
            assertTrue("kept ${download.bytesDone} bytes", again.storageUsage().partialBytes > 0 || download.bytesDone > 0)
            again.setNetwork(NetworkType.UNMETERED)
            assertEquals(RunOutcome.FINISHED, again.runDownloads(60_000L).outcome)
            assertEquals(DownloadState.DONE, again.listDownloads(null).single().state)
            again.shutdown()
            again.close()
        }
        mainThread.close()
    }
}
