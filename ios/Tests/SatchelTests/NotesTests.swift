import Foundation
import SatchelFFI
import XCTest
@testable import Satchel

/// The mirror of android/satchel/src/test/kotlin/org/satchel/NotesTest.kt. Text offsets are
/// UTF-16 code units, as in NSRange.
final class NotesTests: AccountFixture {
    private let reading = "A URL has a scheme, a host and a path. The host is looked up with DNS."

    private func highlight(_ text: String, _ quote: String) -> NewNote {
        let range = (text as NSString).range(of: quote)
        let ns = text as NSString
        let prefixStart = max(0, range.location - 10)
        let prefix = ns.substring(with: NSRange(location: prefixStart, length: range.location - prefixStart))
        let suffixLength = min(10, ns.length - NSMaxRange(range))
        let suffix = ns.substring(with: NSRange(location: NSMaxRange(range), length: suffixLength))
        return NewNote(
            lessonId: "kt.reading", kind: .highlight, body: "",
            anchor: .text(quote: quote, prefix: prefix, suffix: suffix, start: Int32(range.location), end: Int32(NSMaxRange(range))),
            color: "yellow", tags: ["exam"])
    }

    func testAddEditSearchDeleteAndExport() async throws {
        let note = try await satchel.addNote(note: NewNote(
            lessonId: "kt.video", kind: .note, body: "Caching saves data",
            anchor: .time(startMs: 60_000, endMs: 65_000), color: nil, tags: ["http"]))
        let mark = try await satchel.addNote(note: highlight(reading, "looked up with DNS"))
        let edited = try await satchel.updateNote(noteId: note.id, body: "Caching saves data and time", color: "blue", tags: ["http", "exam"])
        XCTAssertEqual(edited.body, "Caching saves data and time")

        let byTime = try await satchel.searchNotes(query: "time", courseId: nil, limit: 10)
        XCTAssertEqual(byTime.map(\.id), [note.id])
        let byTag = try await satchel.searchNotes(query: "exam", courseId: "kt-course", limit: 10)
        XCTAssertEqual(byTag.count, 2)
        for nasty in ["\"", "(((", "NEAR(", "a*", "", "  ", "ዲኤንኤስ"] {
            _ = try await satchel.searchNotes(query: nasty, courseId: nil, limit: 10)
        }

        let markdown = try await satchel.exportNotesMarkdown(courseId: "kt-course")
        XCTAssertTrue(markdown.hasPrefix("# Notes: Kotlin test course"))
        XCTAssertTrue(markdown.contains("**Note** at 01:00–01:05"))
        XCTAssertTrue(markdown.contains("> looked up with DNS"))

        try await satchel.deleteNote(noteId: note.id)
        let remaining = try await satchel.notesForCourse(courseId: "kt-course")
        XCTAssertEqual(remaining.map(\.id), [mark.id])
    }

    func testHighlightsReanchorAfterTheTextChanges() async throws {
        let mark = try await satchel.addNote(note: highlight(reading, "looked up with DNS"))
        let changed = "Intro first. " + reading
        let resolved = try await satchel.resolveTextAnchors(lessonId: "kt.reading", text: changed)
        guard let moved = resolved.first(where: { $0.id == mark.id }),
              case let .text(_, _, _, start, end) = moved.anchor else { return XCTFail("missing") }
        let ns = changed as NSString
        XCTAssertEqual(ns.substring(with: NSRange(location: Int(start), length: Int(end - start))), "looked up with DNS")
        let gone = try await satchel.resolveTextAnchors(lessonId: "kt.reading", text: "Completely rewritten.")
        XCTAssertEqual(gone.first?.orphaned, true)
    }
}
