import Foundation
import SatchelFFI
import XCTest
@testable import Satchel

/// The mirror of android/satchel/src/test/kotlin/org/satchel/SyncTest.kt: two accounts syncing
/// through the loopback reference sync server. Needs the server `cargo xtask test` starts
/// (SATCHEL_CONTENT_URL, SATCHEL_PUBLISHER_KEY) and two learners' tokens (SATCHEL_SYNC_TOKEN,
/// SATCHEL_OTHER_SYNC_TOKEN), minted for the Swift run only so the Kotlin run's data never shows.
final class SyncTests: XCTestCase {
    private var url: String!
    private var publisherKey: String!
    private var amina: String!
    private var bilal: String!
    private var dirs: [URL] = []
    private var accounts: [Satchel] = []

    /// What a shell's sign-in session hands the core.
    private final class Session: TokenProvider, @unchecked Sendable {
        private let current: String
        private(set) var refreshes = 0

        init(token: String) {
            current = token
        }

        func token() -> String? {
            current
        }

        func refresh() -> String? {
            refreshes += 1
            return nil
        }
    }

    override func setUpWithError() throws {
        let env = ProcessInfo.processInfo.environment
        guard let url = env["SATCHEL_CONTENT_URL"], let key = env["SATCHEL_PUBLISHER_KEY"],
              let amina = env["SATCHEL_SYNC_TOKEN"], let bilal = env["SATCHEL_OTHER_SYNC_TOKEN"] else {
            XCTFail("SATCHEL_CONTENT_URL, SATCHEL_PUBLISHER_KEY, SATCHEL_SYNC_TOKEN and SATCHEL_OTHER_SYNC_TOKEN must be set: run these tests through cargo xtask test")
            return
        }
        self.url = url
        publisherKey = key
        self.amina = amina
        self.bilal = bilal
    }

    override func tearDown() async throws {
        for account in accounts {
            try await account.shutdown()
        }
        for dir in dirs {
            try? FileManager.default.removeItem(at: dir)
        }
    }

    private func device(_ token: String) async throws -> Satchel {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("satchel-sync-swift-" + UUID().uuidString)
        dirs.append(dir)
        let satchel = try await SatchelAccounts.open(
            accountDir: dir, config: SatchelConfig(deviceName: "", trustedPublisherKeys: [publisherKey]))
        accounts.append(satchel)
        _ = try await satchel.fetchCourse(baseUrl: url, courseId: "web-basics")
        satchel.setNetwork(network: .unmetered)
        try satchel.configureSync(baseUrl: url, tokens: Session(token: token))
        return satchel
    }

    /// A cancelled `Task` stops its sync (cancelled before it starts, so the outcome is certain);
    /// nothing is lost, and the next sync sends it all.
    func testCancellingTheTaskStopsTheSyncAndLosesNothing() async throws {
        let phone = try await device(amina)
        _ = try await phone.recordPlayback(lessonId: "web-basics.dns", positionMs: 5_000)
        let waiting = try await phone.pendingChanges()
        XCTAssertGreaterThan(waiting, 0)
        let task = Task {
            // Wakes at once when cancelled, so the sync below starts in a cancelled Task.
            try? await Task.sleep(nanoseconds: 10_000_000_000)
            return try await phone.syncUntilCancelled(maxDurationMs: 30_000)
        }
        task.cancel()
        let stopped = try await task.value
        XCTAssertEqual(stopped.outcome, .stopped)
        XCTAssertEqual(stopped.remaining, waiting)
        XCTAssertEqual(stopped.pushed, 0)

        let synced = try await phone.syncUntilCancelled(maxDurationMs: 30_000)
        XCTAssertEqual(synced.outcome, .finished)
        XCTAssertEqual(synced.remaining, 0)
    }

    /// The app shows its sign-in screen from the failure's kind, not from its text.
    func testARefusedTokenFailsTheSyncAskingForASignInAndKeepsTheChange() async throws {
        let phone = try await device("not-a-token")
        _ = try await phone.recordPlayback(lessonId: "web-basics.what-happens", positionMs: 5_000)
        let report = try await phone.sync(maxDurationMs: 30_000)
        guard case let .failed(kind, _, _) = report.outcome else {
            return XCTFail("a refused token fails the sync: \(report)")
        }
        XCTAssertEqual(kind, .signInRequired)
        let waiting = try await phone.pendingChanges()
        XCTAssertGreaterThanOrEqual(waiting, 1)
    }

    func testTwoDevicesOfOneLearnerConvergeAndAnotherLearnerSeesNothing() async throws {
        let phone = try await device(amina)
        let tablet = try await device(amina)
        let lecture = "web-basics.what-happens"
        _ = try await phone.recordPlayback(lessonId: lecture, positionMs: 0)
        _ = try await phone.recordPlayback(lessonId: lecture, positionMs: 42_000)
        _ = try await phone.recordReading(lessonId: "web-basics.reading-urls", scrollFraction: 1.0)
        let note = try await phone.addNote(note: NewNote(
            lessonId: lecture, kind: .note, body: "DNS first",
            anchor: .time(startMs: 1_000, endMs: 2_000), color: nil, tags: ["dns"]))

        // The status stream reports the sync as it happens and ends idle. Subscribing is
        // synchronous, so no event of the sync below is missed.
        let events = phone.syncEvents()
        let idle = Task { () -> SyncEvent? in
            for await event in events where event.status == .idle && event.lastSyncedAtMs != nil {
                return event
            }
            return nil
        }
        let pushed = try await phone.sync(maxDurationMs: 30_000)
        XCTAssertEqual(pushed.outcome, .finished)
        XCTAssertEqual(pushed.remaining, 0)
        XCTAssertGreaterThanOrEqual(pushed.pushed, 3, "\(pushed)")
        let pending = try await phone.pendingChanges()
        XCTAssertEqual(pending, 0)
        let idleEvent = await idle.value
        XCTAssertGreaterThan(idleEvent?.lastSyncedAtMs ?? 0, 0)

        let pulled = try await tablet.sync(maxDurationMs: 30_000)
        XCTAssertEqual(pulled.outcome, .finished)
        let position = try await tablet.lessonProgress(lessonId: lecture).positionMs
        XCTAssertEqual(position, 42_000)
        let reading = try await tablet.lessonProgress(lessonId: "web-basics.reading-urls")
        XCTAssertTrue(reading.completed)
        let notes = try await tablet.notesForLesson(lessonId: lecture)
        XCTAssertEqual(notes.map(\.id), [note.id])
        XCTAssertEqual(notes.first?.body, "DNS first")

        // Concurrent edits: both texts are kept, one shown, the other a revision.
        _ = try await phone.updateNote(noteId: note.id, body: "phone's text", color: nil, tags: ["dns"])
        _ = try await tablet.updateNote(noteId: note.id, body: "tablet's text", color: nil, tags: ["dns"])
        for satchel in [phone, tablet, phone] {
            let report = try await satchel.sync(maxDurationMs: 30_000)
            XCTAssertEqual(report.outcome, .finished)
        }
        let shown = try await phone.notesForLesson(lessonId: lecture).first?.body
        let shownOnTablet = try await tablet.notesForLesson(lessonId: lecture).first?.body
        XCTAssertEqual(shown, shownOnTablet)
        let revisions = try await phone.noteRevisions(noteId: note.id)
        XCTAssertEqual(revisions.count, 1)
        XCTAssertEqual(Set([shown, revisions.first?.text]), Set(["phone's text", "tablet's text"]))

        let stranger = try await device(bilal)
        let strangers = try await stranger.sync(maxDurationMs: 30_000)
        XCTAssertEqual(strangers.outcome, .finished)
        let strangerNotes = try await stranger.notesForLesson(lessonId: lecture)
        XCTAssertTrue(strangerNotes.isEmpty)
        let strangerPosition = try await stranger.lessonProgress(lessonId: lecture).positionMs
        XCTAssertEqual(strangerPosition, 0)
        let rejected = try await stranger.rejectedSyncOps()
        XCTAssertTrue(rejected.isEmpty)
    }
}
