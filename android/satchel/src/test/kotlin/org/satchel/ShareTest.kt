package org.satchel

import java.io.File
import java.nio.file.Files
import java.util.Collections
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Before
import org.junit.Test
import org.satchel.core.NetworkType
import org.satchel.core.RenditionKind
import org.satchel.core.SatchelConfig
import org.satchel.core.SatchelException
import org.satchel.core.ShareListener
import org.satchel.core.ShareProgress

/**
 * Peer sharing on the JVM: one account fetches the sample course from the reference server that
 * `cargo xtask test` starts, downloads a reading and exports the course to a file; a second
 * account with no network imports it. Bad files are typed exceptions.
 */
class ShareTest {
    private lateinit var dir: File
    private val contentUrl: String = TestServer.contentUrl
    private val publisherKey: String = TestServer.publisherKey

    @Before fun makeDir() { dir = Files.createTempDirectory("satchel-kt-share").toFile() }

    @After fun removeDir() { dir.deleteRecursively() }

    private class Recorder : ShareListener {
        val events: MutableList<ShareProgress> = Collections.synchronizedList(mutableListOf())
        override fun onProgress(progress: ShareProgress) { events.add(progress) }
    }

    private val reading = "web-basics.reading-urls"

    private suspend fun exported(): File {
        val sender = SatchelAccounts.open(File(dir, "sender").apply { mkdirs() }, SatchelConfig(trustedPublisherKeys = listOf(publisherKey)))
        sender.setNetwork(NetworkType.UNMETERED)
        sender.fetchCourse(contentUrl, "web-basics")
        sender.downloadRendition(reading, RenditionKind.TEXT)
        val file = File(dir, "web-basics.satchel")
        val recorder = Recorder()
        val size = sender.exportCourse("web-basics", RenditionKind.TEXT, file.path, recorder)
        assertEquals(file.length(), size)
        assertTrue(recorder.events.isNotEmpty())
        sender.shutdown()
        return file
    }

    @Test fun aCourseTravelsByFileToAPhoneWithNoNetwork() = runBlocking {
        val file = exported()
        val receiver = SatchelAccounts.open(File(dir, "receiver").apply { mkdirs() }, SatchelConfig(trustedPublisherKeys = listOf(publisherKey)))
        receiver.setNetwork(NetworkType.NONE)
        val recorder = Recorder()
        val imported = receiver.importCourse(file.path, recorder)
        assertEquals("web-basics", imported.outcome.courseId)
        assertTrue(imported.blobsAdded >= 1)
        val files = receiver.renditionFiles(reading, RenditionKind.TEXT)
        assertNotNull(files)
        assertTrue(File(files!!.first().path).readText().isNotEmpty())
        val last = recorder.events.last()
        assertEquals(last.bytesTotal, last.bytesDone)
        receiver.shutdown()
    }

    @Test fun aBadOrUntrustedFileIsATypedExceptionAndChangesNothing() = runBlocking {
        val file = exported()
        val receiver = SatchelAccounts.open(File(dir, "receiver").apply { mkdirs() }, SatchelConfig(trustedPublisherKeys = listOf(publisherKey)))
        val truncated = File(dir, "truncated.satchel")
        truncated.writeBytes(file.readBytes().copyOf(file.length().toInt() / 2))
        val garbage = File(dir, "garbage.satchel")
        garbage.writeText("not a course")
        for (bad in listOf(truncated, garbage)) {
            try {
                receiver.importCourse(bad.path, null)
                fail("${bad.name} must be refused")
            } catch (e: SatchelException.Integrity) {
                assertTrue(e.reason, e.reason.contains("shared course file"))
            }
        }
        assertTrue(receiver.listCourses().isEmpty())
        receiver.shutdown()

        val stranger = SatchelAccounts.open(
            File(dir, "stranger").apply { mkdirs() },
            SatchelConfig(trustedPublisherKeys = listOf("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")),
        )
        try {
            stranger.importCourse(file.path, null)
            fail("a course signed by an untrusted key must be refused")
        } catch (e: SatchelException.Integrity) {
            assertTrue(e.reason, e.reason.contains("does not trust"))
        }
        assertTrue(stranger.listCourses().isEmpty())
        stranger.shutdown()
    }
}
