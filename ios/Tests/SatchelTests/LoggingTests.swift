import Foundation
import SatchelFFI
import XCTest
@testable import Satchel

/// The mirror of android/satchel/src/test/kotlin/org/satchel/LoggingTest.kt: the core's logs reach
/// a Swift logger (the iOS shell routes it to os_log), with no secrets.
final class LoggingTests: ServedCourseFixture {
    override func tearDown() async throws {
        removeLogger()
        try await super.tearDown()
    }

    func testASyncAndAFailedFetchAreLoggedWithoutTheTokenOrTheNote() async throws {
        // A learner of its own: the sync tests must not pull this test's note.
        guard let token = ProcessInfo.processInfo.environment["SATCHEL_LOGGING_SYNC_TOKEN"] else {
            return XCTFail("SATCHEL_LOGGING_SYNC_TOKEN must be set")
        }
        let captured = Captured()
        try installLogger(logger: captured, maxLevel: .debug)
        let secret = "Bilal's note nobody else may read"
        satchel.setNetwork(network: .unmetered)
        try satchel.configureSync(baseUrl: contentUrl, tokens: Session(token: token))
        _ = try await satchel.addNote(note: NewNote(
            lessonId: "web-basics.what-happens", kind: .note, body: secret,
            anchor: .time(startMs: 1_000, endMs: 2_000), color: nil, tags: []))
        let report = try await satchel.sync(maxDurationMs: 30_000)
        XCTAssertEqual(report.outcome, .finished)
        _ = try? await satchel.fetchCourse(baseUrl: contentUrl, courseId: "no-such-course")

        let lines = captured.records()
        XCTAssertTrue(lines.contains { $0.target.hasPrefix("satchel_core::sync") && $0.message.hasPrefix("sync ended") }, "\(lines)")
        XCTAssertTrue(lines.contains { $0.level == .debug }, "\(lines)")
        for line in lines {
            XCTAssertFalse(line.message.contains(token), "the token in \(line)")
            XCTAssertFalse(line.message.contains(secret), "the note in \(line)")
        }

        removeLogger()
        let before = captured.records().count
        _ = try await satchel.sync(maxDurationMs: 30_000)
        XCTAssertEqual(captured.records().count, before, "nothing after removeLogger")
    }
}

private final class Captured: SatchelLogger, @unchecked Sendable {
    private let lock = NSLock()
    private var received: [LogRecord] = []

    func log(record: LogRecord) {
        lock.lock()
        received.append(record)
        lock.unlock()
    }

    func records() -> [LogRecord] {
        lock.lock()
        defer { lock.unlock() }
        return received
    }
}

private final class Session: TokenProvider, @unchecked Sendable {
    private let value: String
    init(token: String) { value = token }
    func token() -> String? { value }
    func refresh() -> String? { nil }
}
