package org.satchel

import java.io.File
import java.nio.file.Files
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Before
import org.junit.Test
import org.satchel.core.NetworkErrorKind
import org.satchel.core.NetworkType
import org.satchel.core.RenditionKind
import org.satchel.core.SatchelConfig
import org.satchel.core.SatchelException

/**
 * Fetching a signed course and a lite lecture from the reference server, which `cargo xtask test`
 * starts on loopback with the packed sample course (system properties `satchel.contentUrl` and
 * `satchel.publisherKey`).
 */
class ContentTest {
    private lateinit var dir: File
    private val contentUrl: String = TestServer.contentUrl
    private val publisherKey: String = TestServer.publisherKey

    @Before fun makeDir() { dir = Files.createTempDirectory("satchel-kt").toFile() }

    @After fun removeDir() { dir.deleteRecursively() }

    @Test fun fetchesAVerifiedCourseAndALiteLecture() = runBlocking {
        val satchel = SatchelAccounts.open(dir, SatchelConfig(trustedPublisherKeys = listOf(publisherKey)))
        satchel.setNetwork(NetworkType.UNMETERED)
        val outcome = satchel.fetchCourse(contentUrl, "web-basics")
        assertEquals(10, outcome.lessonCount)
        val sizes = satchel.courseOutline("web-basics").course.sizes
        assertTrue("lite ${sizes.liteBytes} vs full ${sizes.fullBytes}", sizes.liteBytes * 20 < sizes.fullBytes)

        val lecture = "web-basics.what-happens"
        assertNull(satchel.renditionFiles(lecture, RenditionKind.LITE))
        val files = satchel.downloadRendition(lecture, RenditionKind.LITE)
        assertTrue(files.any { it.role == "audio" && it.mediaType.startsWith("audio/ogg") })
        assertEquals(files, satchel.renditionFiles(lecture, RenditionKind.LITE))

        val lite = satchel.liteLecture(lecture) ?: error("the lite lecture is complete")
        assertTrue(File(lite.audioPath).isFile)
        assertTrue(lite.cues.first().text.startsWith("Welcome to the first lecture"))
        assertTrue(lite.slides.size >= 5)
        assertTrue(lite.slides.all { File(it.path).isFile })
        satchel.shutdown()
    }

    @Test fun anUntrustedPublisherIsATypedException() = runBlocking {
        val stranger = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" // a valid key nobody signs with
        val satchel = SatchelAccounts.open(dir, SatchelConfig(trustedPublisherKeys = listOf(stranger)))
        try {
            satchel.fetchCourse(contentUrl, "web-basics")
            fail("a course signed by another key must be refused")
        } catch (e: SatchelException.Integrity) {
            assertTrue(e.reason, e.reason.contains("does not trust"))
        }
        assertTrue(satchel.listCourses().isEmpty())
        satchel.shutdown()
    }

    @Test fun aMissingCourseIsANetworkErrorWithItsHttpStatusAsANumber() = runBlocking {
        val satchel = SatchelAccounts.open(dir, SatchelConfig(trustedPublisherKeys = listOf(publisherKey)))
        try {
            satchel.fetchCourse(contentUrl, "no-such-course")
            fail("a course the host does not have must fail")
        } catch (e: SatchelException.Network) {
            // What an app branches on, without parsing text.
            assertEquals(NetworkErrorKind.HTTP_STATUS, e.kind)
            assertEquals(404, e.httpStatus)
        }
        assertTrue(satchel.listCourses().isEmpty())
        satchel.shutdown()
    }

    @Test fun plainHttpToTheInternetIsRefused() = runBlocking {
        val satchel = SatchelAccounts.open(dir, SatchelConfig(trustedPublisherKeys = listOf(publisherKey)))
        try {
            satchel.fetchCourse("http://example.org/", "web-basics")
            fail("plain HTTP off the device must be refused")
        } catch (e: SatchelException.InvalidInput) {
            assertTrue(e.reason.contains("HTTPS"))
        }
        satchel.shutdown()
    }
}
