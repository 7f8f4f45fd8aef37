package org.satchel

import java.util.Collections
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Test
import org.satchel.core.LogLevel
import org.satchel.core.LogRecord
import org.satchel.core.NetworkType
import org.satchel.core.NewNote
import org.satchel.core.NoteAnchor
import org.satchel.core.NoteKind
import org.satchel.core.SatchelException
import org.satchel.core.SatchelLogger
import org.satchel.core.SyncOutcome
import org.satchel.core.TokenProvider
import org.satchel.core.installLogger
import org.satchel.core.removeLogger

/** The core's logs reach a Kotlin logger (the Android shell routes it to logcat), with no secrets. */
class LoggingTest : ServedCourseFixture() {
    // A learner of its own: the sync tests must not pull this test's note.
    private val token: String = TestServer.loggingSyncToken

    private class Captured : SatchelLogger {
        val records: MutableList<LogRecord> = Collections.synchronizedList(mutableListOf())
        override fun log(record: LogRecord) {
            records.add(record)
        }
    }

    private class Session(private val token: String) : TokenProvider {
        override fun token(): String? = token
        override fun refresh(): String? = null
    }

    @After fun uninstall() = removeLogger()

    @Test fun aSyncAndAFailedFetchAreLoggedWithoutTheTokenOrTheNote() = runBlocking {
        val captured = Captured()
        installLogger(captured, LogLevel.DEBUG)
        val secret = "Bilal's note nobody else may read"
        satchel.setNetwork(NetworkType.UNMETERED)
        satchel.configureSync(contentUrl, Session(token))
        satchel.addNote(NewNote("web-basics.what-happens", NoteKind.NOTE, secret, NoteAnchor.Time(1_000, 2_000), null, listOf()))
        assertEquals(SyncOutcome.Finished, satchel.sync(30_000L).outcome)
        try {
            satchel.fetchCourse(contentUrl, "no-such-course")
        } catch (e: SatchelException.Network) {
        }

        val lines = captured.records.toList()
        assertTrue("$lines", lines.any { it.target.startsWith("satchel_core::sync") && it.message.startsWith("sync ended") })
        assertTrue("$lines", lines.any { it.level == LogLevel.DEBUG })
        for (line in lines) {
            assertFalse("the token in $line", line.message.contains(token))
            assertFalse("the note in $line", line.message.contains(secret))
        }

        removeLogger()
        val before = captured.records.size
        satchel.sync(30_000L)
        assertEquals("nothing after removeLogger", before, captured.records.size)
    }
}
