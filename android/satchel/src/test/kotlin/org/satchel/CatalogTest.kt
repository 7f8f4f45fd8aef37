package org.satchel

import java.io.File
import java.nio.file.Files
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Before
import org.junit.Test
import org.satchel.core.ImportStatus
import org.satchel.core.LessonKind
import org.satchel.core.RenditionKind
import org.satchel.core.Satchel
import org.satchel.core.SatchelConfig
import org.satchel.core.SatchelException

/** The generated bindings and the shell, against the real core library through JNA. */
class CatalogTest {
    private lateinit var dir: File

    @Before fun makeDir() { dir = Files.createTempDirectory("satchel-kt").toFile() }

    @After fun removeDir() { dir.deleteRecursively() }

    @Test fun importsAManifestAndReadsTheOutlineBack() = runBlocking {
        val satchel = SatchelAccounts.open(File(dir, "learner"), SatchelConfig(deviceName = "JVM test"))
        val outcome = satchel.importManifest(TestCourses.SMALL)
        assertEquals(ImportStatus.INSTALLED, outcome.status)
        assertEquals(3, outcome.lessonCount)

        val outline = satchel.courseOutline("kt-course")
        assertEquals("Kotlin test course", outline.course.title)
        assertEquals(listOf("kt.video", "kt.reading", "kt.quiz"), outline.modules.single().lessons.map { it.id })
        assertEquals(1_200_000L, outline.course.sizes.liteBytes)
        assertEquals(40_000_000L, outline.course.sizes.fullBytes)

        val video = satchel.lesson("kt.video")
        assertEquals(LessonKind.VIDEO, video.kind)
        assertEquals(300_000L, video.durationMs)
        assertEquals(listOf(RenditionKind.FULL, RenditionKind.LITE), video.renditions.map { it.kind })

        val linked = satchel.linkedLectures("kt.video")
        assertEquals(listOf("kt.reading"), linked.map { it.lesson.id })
        assertTrue(linked.single().availableOffline.isEmpty())

        assertEquals(ImportStatus.UNCHANGED, satchel.importManifest(TestCourses.SMALL).status)
        satchel.shutdown()
    }

    @Test fun aBadManifestIsATypedExceptionAndChangesNothing() = runBlocking {
        val satchel = SatchelAccounts.open(dir)
        try {
            satchel.importManifest("""{"format": 1, "id": "x", "version": 1, "modules": []}""")
            fail("a manifest without a title must be refused")
        } catch (e: SatchelException.InvalidInput) {
            assertTrue(e.reason, e.reason.contains("title"))
        }
        try {
            satchel.importManifest(TestCourses.SMALL.replace("\"kt.reading\"]", "\"nowhere\"]"))
            fail("a dangling linked lecture must be refused")
        } catch (e: SatchelException.InvalidInput) {
            assertTrue(e.reason, e.reason.contains("nowhere"))
        }
        assertTrue(satchel.listCourses().isEmpty())
        satchel.shutdown()
    }

    @Test fun unknownIdsAreNotFound() = runBlocking {
        val satchel = SatchelAccounts.open(dir)
        try {
            satchel.lesson("missing")
            fail("expected NotFound")
        } catch (e: SatchelException.NotFound) {
            assertTrue(e.reason.contains("missing"))
        }
        satchel.shutdown()
    }

    @Test fun aShutDownInstanceRefusesWork() = runBlocking {
        val satchel = SatchelAccounts.open(dir)
        satchel.shutdown()
        satchel.shutdown() // harmless twice
        try {
            satchel.listCourses()
            fail("expected Closed")
        } catch (e: SatchelException.Closed) {
            // expected
        }
        satchel.close() // frees the native handle (AutoCloseable)
    }

    @Test fun aForeignFileIsRefusedAndKept() = runBlocking {
        val account = File(dir, "acct").apply { mkdirs() }
        val db = File(account, "satchel.db")
        db.writeText("not a database, and not ours to wipe")
        try {
            Satchel.open(account.absolutePath, SatchelConfig())
            fail("expected IncompatibleStore")
        } catch (e: SatchelException.IncompatibleStore) {
            assertEquals("not a database, and not ours to wipe", db.readText())
        }
    }

    @Test fun theDeviceIdIsStableAcrossReopens() = runBlocking {
        val first = SatchelAccounts.open(dir)
        val id = first.deviceId()
        first.shutdown()
        first.close()
        val second = SatchelAccounts.open(dir)
        assertEquals(id, second.deviceId())
        second.shutdown()
    }

    @Test fun accountDirsStayInsideFilesDir() {
        assertEquals(File(dir, "satchel/amina-1"), SatchelAccounts.accountDir(dir, "amina-1"))
        try {
            SatchelAccounts.accountDir(dir, "../escape")
            fail("expected IllegalArgumentException")
        } catch (e: IllegalArgumentException) {
            // expected
        }
    }
}
