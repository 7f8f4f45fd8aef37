package org.satchel

import java.io.File
import java.nio.file.Files
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.async
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import org.satchel.core.NetworkErrorKind
import org.satchel.core.NetworkType
import org.satchel.core.NewNote
import org.satchel.core.NoteAnchor
import org.satchel.core.NoteKind
import org.satchel.core.Satchel
import org.satchel.core.SatchelConfig
import org.satchel.core.SyncOutcome
import org.satchel.core.SyncStatus
import org.satchel.core.TokenProvider

/** Two accounts syncing through the loopback reference sync server. */
class SyncTest {
    private val url: String = TestServer.contentUrl
    private val publisherKey: String = TestServer.publisherKey
    private val amina: String = TestServer.syncToken
    private val bilal: String = TestServer.otherSyncToken
    private val dirs = mutableListOf<File>()
    private val accounts = mutableListOf<Satchel>()

    /** What a shell's sign-in session hands the core. */
    private class Session(private val token: String) : TokenProvider {
        var refreshes = 0
        override fun token(): String? = token
        override fun refresh(): String? {
            refreshes += 1
            return null
        }
    }

    private fun device(token: String): Satchel = runBlocking {
        val dir = Files.createTempDirectory("satchel-sync-kt").toFile()
        dirs.add(dir)
        val satchel = SatchelAccounts.open(dir, SatchelConfig(trustedPublisherKeys = listOf(publisherKey)))
        accounts.add(satchel)
        satchel.fetchCourse(url, "web-basics")
        satchel.setNetwork(NetworkType.UNMETERED)
        satchel.configureSync(url, Session(token))
        satchel
    }

    @After fun closeAccounts() {
        accounts.forEach {
            runBlocking { it.shutdown() }
            it.close()
        }
        dirs.forEach { it.deleteRecursively() }
    }

    @Test fun aRefusedTokenFailsTheSyncAskingForASignInAndKeepsTheChange() = runBlocking {
        val phone = device("not-a-token")
        phone.recordPlayback("web-basics.what-happens", 5_000)
        val report = phone.sync(30_000L)
        val failed = report.outcome as? SyncOutcome.Failed ?: error("a refused token fails the sync: $report")
        // The app shows its sign-in screen from the kind, not from the text.
        assertEquals(NetworkErrorKind.SIGN_IN_REQUIRED, failed.kind)
        assertTrue(phone.pendingChanges() >= 1)
    }

    @Test fun twoDevicesOfOneLearnerConvergeAndAnotherLearnerSeesNothing() = runBlocking {
        val phone = device(amina)
        val tablet = device(amina)
        phone.recordPlayback("web-basics.what-happens", 0)
        phone.recordPlayback("web-basics.what-happens", 42_000)
        phone.recordReading("web-basics.reading-urls", 1.0)
        val note = phone.addNote(
            NewNote("web-basics.what-happens", NoteKind.NOTE, "DNS first", NoteAnchor.Time(1_000, 2_000), null, listOf("dns")),
        )
        // The status flow reports the sync as it happens and ends idle.
        val idle = async(start = CoroutineStart.UNDISPATCHED) {
            phone.syncEvents().first { it.status is SyncStatus.Idle && it.lastSyncedAtMs != null }
        }
        val pushed = phone.sync(30_000L)
        assertEquals(SyncOutcome.Finished, pushed.outcome)
        assertEquals(0, pushed.remaining)
        assertTrue("$pushed", pushed.pushed >= 3)
        assertEquals(0, phone.pendingChanges())
        assertTrue(idle.await().lastSyncedAtMs!! > 0)

        val pulled = tablet.sync(30_000L)
        assertEquals(SyncOutcome.Finished, pulled.outcome)
        assertEquals(42_000L, tablet.lessonProgress("web-basics.what-happens").positionMs)
        assertTrue(tablet.lessonProgress("web-basics.reading-urls").completed)
        val notes = tablet.notesForLesson("web-basics.what-happens")
        assertEquals(listOf(note.id), notes.map { it.id })
        assertEquals("DNS first", notes[0].body)

        // Concurrent edits: both texts are kept, one shown, the other a revision.
        phone.updateNote(note.id, "phone's text", null, listOf("dns"))
        tablet.updateNote(note.id, "tablet's text", null, listOf("dns"))
        assertEquals(SyncOutcome.Finished, phone.sync(30_000L).outcome)
        assertEquals(SyncOutcome.Finished, tablet.sync(30_000L).outcome)
        assertEquals(SyncOutcome.Finished, phone.sync(30_000L).outcome)
        val shown = phone.notesForLesson("web-basics.what-happens")[0].body
        assertEquals(shown, tablet.notesForLesson("web-basics.what-happens")[0].body)
        val revisions = phone.noteRevisions(note.id)
        assertEquals(1, revisions.size)
        assertEquals(setOf("phone's text", "tablet's text"), setOf(shown, revisions[0].text))

        val stranger = device(bilal)
        assertEquals(SyncOutcome.Finished, stranger.sync(30_000L).outcome)
        assertTrue(stranger.notesForLesson("web-basics.what-happens").isEmpty())
        assertEquals(0L, stranger.lessonProgress("web-basics.what-happens").positionMs)
        assertTrue(stranger.rejectedSyncOps().isEmpty())
    }
}
