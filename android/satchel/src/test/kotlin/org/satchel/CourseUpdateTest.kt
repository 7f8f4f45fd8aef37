package org.satchel

import java.io.File
import java.nio.file.Files
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.satchel.core.DownloadState
import org.satchel.core.DownloadTarget
import org.satchel.core.ImportStatus
import org.satchel.core.NetworkType
import org.satchel.core.NewNote
import org.satchel.core.NoteAnchor
import org.satchel.core.NoteKind
import org.satchel.core.RenditionKind
import org.satchel.core.RunOutcome
import org.satchel.core.Satchel
import org.satchel.core.SatchelConfig

/**
 * A course update on the JVM: `cargo xtask test` publishes a small text course twice (version 1
 * under `update-v1/`, version 2 packed over it under `update-v2/`, with the packer's patches).
 * A phone that downloaded version 1 fetches version 2: the manifest comes as a patch, each
 * changed reading as a zstd patch against the one on the phone, the readings change in place,
 * and highlights are found again in the new text or flagged orphaned.
 */
class CourseUpdateTest {
    private lateinit var dir: File
    private lateinit var satchel: Satchel
    private val contentUrl: String = TestServer.contentUrl
    private val publisherKey: String = TestServer.publisherKey
    private val course = "shell-update"
    private val kept = "shell-update.alpha"
    private val cut = "shell-update.beta"

    @Before fun openAccount() = runBlocking {
        dir = Files.createTempDirectory("satchel-kt-update").toFile()
        satchel = SatchelAccounts.open(dir, SatchelConfig(trustedPublisherKeys = listOf(publisherKey)))
        satchel.setNetwork(NetworkType.UNMETERED)
    }

    @After fun closeAccount() {
        runBlocking { satchel.shutdown() }
        satchel.close()
        dir.deleteRecursively()
    }

    private suspend fun text(lesson: String): String {
        val files = satchel.renditionFiles(lesson, RenditionKind.TEXT)
        assertNotNull("$lesson is not on the phone", files)
        return File(files!!.single().path).readText()
    }

    private suspend fun highlight(lesson: String, quote: String): String {
        val text = text(lesson)
        val start = text.indexOf(quote)
        assertTrue("\"$quote\" is not in $lesson", start >= 0)
        val anchor = NoteAnchor.Text(quote, text.substring(maxOf(0, start - 20), start), text.substring(start + quote.length).take(20), start, start + quote.length)
        return satchel.addNote(NewNote(lesson, NoteKind.HIGHLIGHT, "", anchor, null, emptyList())).id
    }

    @Test fun anUpdateArrivesAsPatchesAndChangesTheDownloadedReadingsInPlace() = runBlocking {
        val v1 = satchel.fetchCourse("${contentUrl}update-v1/", course)
        assertEquals(ImportStatus.INSTALLED, v1.status)
        assertEquals(1, v1.version)
        satchel.enqueueDownload(DownloadTarget.Course(course), RenditionKind.TEXT, 0)
        assertEquals(RunOutcome.FINISHED, satchel.runDownloads(60_000L).outcome)
        val firstDownload = satchel.dataUsage().unmeteredBytes
        val keptMark = highlight(kept, "The resolver asks the root servers first.")
        val cutMark = highlight(cut, "This sentence leaves in version two.")

        val v2 = satchel.fetchCourse("${contentUrl}update-v2/", course)
        assertEquals(ImportStatus.UPDATED, v2.status)
        assertEquals(2, v2.version)
        // Both readings changed: they are queued again and not offered offline until patched.
        val requeued = satchel.listDownloads(course)
        assertEquals(2, requeued.size)
        assertTrue("$requeued", requeued.all { it.state == DownloadState.QUEUED })
        assertEquals(null, satchel.renditionFiles(kept, RenditionKind.TEXT))

        val summary = satchel.runDownloads(60_000L)
        assertEquals(RunOutcome.FINISHED, summary.outcome)
        assertEquals(2, summary.completed)
        // What the queue showed before the run (patches, not whole readings) is what moved.
        val update = satchel.dataUsage().unmeteredBytes - firstDownload
        assertEquals(requeued.sumOf { it.bytesTotal }, update)
        assertTrue("the update moved $update bytes; the first download $firstDownload", update in 1..(firstDownload / 4))

        assertTrue(text(kept).contains("A sentence new in version two."))
        assertFalse(text(cut).contains("This sentence leaves in version two."))
        val marks = satchel.notesForCourse(course).associateBy { it.id }
        val moved = marks.getValue(keptMark)
        assertFalse(moved.orphaned)
        val anchor = moved.anchor as NoteAnchor.Text
        assertEquals("The resolver asks the root servers first.", text(kept).substring(anchor.start, anchor.end))
        assertTrue("an orphaned highlight is kept, flagged", marks.getValue(cutMark).orphaned)
    }

    @Test fun checkingAgainFindsNothingNew() = runBlocking {
        satchel.fetchCourse("${contentUrl}update-v2/", course)
        val again = satchel.fetchCourse("${contentUrl}update-v2/", course)
        assertEquals(ImportStatus.UNCHANGED, again.status)
        assertEquals(2, again.version)
    }
}
