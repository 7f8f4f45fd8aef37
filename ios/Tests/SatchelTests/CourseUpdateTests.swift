import Foundation
import SatchelFFI
import XCTest
@testable import Satchel

/// The mirror of android/satchel/src/test/kotlin/org/satchel/CourseUpdateTest.kt: a phone that
/// downloaded version 1 of a small text course fetches version 2 (published by `cargo xtask
/// test` under `update-v1/` and `update-v2/`); the changed readings arrive as patches and change
/// in place, and highlights move with their passage or are flagged orphaned. Needs
/// SATCHEL_CONTENT_URL and SATCHEL_PUBLISHER_KEY.
final class CourseUpdateTests: XCTestCase {
    private var dir: URL!
    private var url: String!
    private var satchel: Satchel!
    private let course = "shell-update"
    private let kept = "shell-update.alpha"
    private let cut = "shell-update.beta"

    override func setUp() async throws {
        let env = ProcessInfo.processInfo.environment
        guard let url = env["SATCHEL_CONTENT_URL"], let key = env["SATCHEL_PUBLISHER_KEY"] else {
            XCTFail("SATCHEL_CONTENT_URL and SATCHEL_PUBLISHER_KEY must be set: run these tests through cargo xtask test")
            return
        }
        self.url = url
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("satchel-update-swift-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        satchel = try await SatchelAccounts.open(
            accountDir: dir, config: SatchelConfig(deviceName: "", trustedPublisherKeys: [key]))
        satchel.setNetwork(network: .unmetered)
    }

    override func tearDown() async throws {
        if let satchel { try await satchel.shutdown() }
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    private func text(_ lesson: String) async throws -> String {
        let files = try await satchel.renditionFiles(lessonId: lesson, rendition: .text)
        let file = try XCTUnwrap(files?.first, "\(lesson) is not on the phone")
        return try String(contentsOfFile: file.path, encoding: .utf8)
    }

    private func highlight(_ lesson: String, _ quote: String) async throws -> String {
        let text = try await text(lesson) as NSString
        let range = text.range(of: quote)
        XCTAssertNotEqual(range.location, NSNotFound, "\"\(quote)\" is not in \(lesson)")
        let prefixStart = max(0, range.location - 20)
        let prefix = text.substring(with: NSRange(location: prefixStart, length: range.location - prefixStart))
        let suffix = text.substring(with: NSRange(location: NSMaxRange(range), length: min(20, text.length - NSMaxRange(range))))
        let anchor = NoteAnchor.text(
            quote: quote, prefix: prefix, suffix: suffix, start: Int32(range.location), end: Int32(NSMaxRange(range)))
        let note = NewNote(lessonId: lesson, kind: .highlight, body: "", anchor: anchor, color: nil, tags: [])
        return try await satchel.addNote(note: note).id
    }

    func testAnUpdateArrivesAsPatchesAndChangesTheDownloadedReadingsInPlace() async throws {
        let v1 = try await satchel.fetchCourse(baseUrl: url + "update-v1/", courseId: course)
        XCTAssertEqual(v1.status, .installed)
        XCTAssertEqual(v1.version, 1)
        _ = try await satchel.enqueueDownload(target: .course(courseId: course), rendition: .text, priority: 0)
        let first = try await satchel.runDownloads(maxDurationMs: 60_000)
        XCTAssertEqual(first.outcome, .finished)
        let firstDownload = try await satchel.dataUsage().unmeteredBytes
        let keptMark = try await highlight(kept, "The resolver asks the root servers first.")
        let cutMark = try await highlight(cut, "This sentence leaves in version two.")

        let v2 = try await satchel.fetchCourse(baseUrl: url + "update-v2/", courseId: course)
        XCTAssertEqual(v2.status, .updated)
        XCTAssertEqual(v2.version, 2)
        let requeued = try await satchel.listDownloads(courseId: course)
        XCTAssertEqual(requeued.count, 2)
        XCTAssertTrue(requeued.allSatisfy { $0.state == .queued }, "\(requeued)")
        let stale = try await satchel.renditionFiles(lessonId: kept, rendition: .text)
        XCTAssertNil(stale, "an updated reading is not offered offline until it is patched")

        let summary = try await satchel.runDownloads(maxDurationMs: 60_000)
        XCTAssertEqual(summary.outcome, .finished)
        XCTAssertEqual(summary.completed, 2)
        // What the queue showed before the run (patches, not whole readings) is what moved.
        let update = try await satchel.dataUsage().unmeteredBytes - firstDownload
        XCTAssertEqual(update, requeued.map(\.bytesTotal).reduce(0, +))
        XCTAssertTrue(update > 0 && update <= firstDownload / 4, "the update moved \(update) bytes; the first download \(firstDownload)")

        let keptText = try await text(kept)
        XCTAssertTrue(keptText.contains("A sentence new in version two."))
        let cutText = try await text(cut)
        XCTAssertFalse(cutText.contains("This sentence leaves in version two."))
        let marks = Dictionary(uniqueKeysWithValues: try await satchel.notesForCourse(courseId: course).map { ($0.id, $0) })
        let moved = try XCTUnwrap(marks[keptMark])
        XCTAssertFalse(moved.orphaned)
        guard case let .text(_, _, _, start, end) = moved.anchor else {
            return XCTFail("a text highlight became \(moved.anchor)")
        }
        let found = (keptText as NSString).substring(with: NSRange(location: Int(start), length: Int(end - start)))
        XCTAssertEqual(found, "The resolver asks the root servers first.")
        XCTAssertEqual(marks[cutMark]?.orphaned, true, "an orphaned highlight is kept, flagged")
    }

    func testCheckingAgainFindsNothingNew() async throws {
        _ = try await satchel.fetchCourse(baseUrl: url + "update-v2/", courseId: course)
        let again = try await satchel.fetchCourse(baseUrl: url + "update-v2/", courseId: course)
        XCTAssertEqual(again.status, .unchanged)
        XCTAssertEqual(again.version, 2)
    }
}
