package org.satchel

import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test
import org.satchel.core.NewNote
import org.satchel.core.NoteAnchor
import org.satchel.core.NoteKind
import org.satchel.core.SatchelException

/** Notes and highlights through the generated bindings; text offsets are Kotlin String indices. */
class NotesTest : AccountFixture() {
    private val reading = "A URL has a scheme, a host and a path. The host is looked up with DNS."

    private fun highlight(text: String, quote: String): NewNote {
        val start = text.indexOf(quote)
        return NewNote(
            lessonId = "kt.reading",
            kind = NoteKind.HIGHLIGHT,
            body = "",
            anchor = NoteAnchor.Text(quote, text.substring(maxOf(0, start - 10), start), text.substring(start + quote.length).take(10), start, start + quote.length),
            color = "yellow",
            tags = listOf("exam"),
        )
    }

    @Test fun addEditSearchDeleteAndExport() = runBlocking {
        val note = satchel.addNote(
            NewNote("kt.video", NoteKind.NOTE, "Caching saves data", NoteAnchor.Time(60_000, 65_000), null, listOf("http")),
        )
        val mark = satchel.addNote(highlight(reading, "looked up with DNS"))
        assertEquals(listOf(note.id), satchel.notesForLesson("kt.video").map { it.id })

        val edited = satchel.updateNote(note.id, "Caching saves data and time", "blue", listOf("http", "exam"))
        assertEquals("Caching saves data and time", edited.body)

        assertEquals(listOf(note.id), satchel.searchNotes("time", null, 10).map { it.id })
        assertEquals(2, satchel.searchNotes("exam", "kt-course", 10).size)
        assertEquals(listOf(mark.id), satchel.searchNotes("DNS", null, 10).map { it.id })
        for (nasty in listOf("\"", "(((", "NEAR(", "a*", "", "  ", "ዲኤንኤስ", "\u0000")) {
            satchel.searchNotes(nasty, null, 10) // never throws
        }

        val markdown = satchel.exportNotesMarkdown("kt-course")
        assertTrue(markdown, markdown.startsWith("# Notes: Kotlin test course"))
        assertTrue(markdown, markdown.contains("**Note** at 01:00–01:05"))
        assertTrue(markdown, markdown.contains("> looked up with DNS"))

        satchel.deleteNote(note.id)
        assertEquals(listOf(mark.id), satchel.notesForCourse("kt-course").map { it.id })
        assertTrue(satchel.searchNotes("caching", null, 10).isEmpty())
    }

    @Test fun highlightsReanchorAfterTheTextChanges() = runBlocking {
        val mark = satchel.addNote(highlight(reading, "looked up with DNS"))
        val changed = "Intro first. " + reading
        val resolved = satchel.resolveTextAnchors("kt.reading", changed).single { it.id == mark.id }
        val anchor = resolved.anchor as NoteAnchor.Text
        assertEquals("looked up with DNS", changed.substring(anchor.start, anchor.end))
        assertEquals(false, resolved.orphaned)
        val gone = satchel.resolveTextAnchors("kt.reading", "Completely rewritten.").single()
        assertEquals(true, gone.orphaned)
    }

    @Test fun invalidNotesAreTypedExceptions() = runBlocking {
        try {
            satchel.addNote(NewNote("kt.video", NoteKind.NOTE, "x", NoteAnchor.Time(0, 999_999_999), null, emptyList()))
            fail("expected InvalidInput")
        } catch (e: SatchelException.InvalidInput) {
            assertTrue(e.reason.contains("time range"))
        }
        try {
            satchel.addNote(NewNote("kt.video", NoteKind.NOTE, "x".repeat(10_001), NoteAnchor.Time(0, 1), null, emptyList()))
            fail("expected InvalidInput")
        } catch (e: SatchelException.InvalidInput) {
            // expected
        }
        assertTrue(satchel.notesForCourse("kt-course").isEmpty())
    }
}
