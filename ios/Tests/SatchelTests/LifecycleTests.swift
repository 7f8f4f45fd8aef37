import Foundation
import SatchelFFI
import XCTest
@testable import Satchel

/// The mirror of android/satchel/src/test/kotlin/org/satchel/LifecycleTest.kt: one account per
/// directory (the app and a background task share one object), and shutdown during a run.
final class LifecycleTests: XCTestCase {
    private var dir: URL!
    private var contentUrl: String!
    private var trusting: SatchelConfig!

    override func setUp() async throws {
        guard let (url, key) = servedCourse() else { return }
        contentUrl = url
        trusting = SatchelConfig(deviceName: "", trustedPublisherKeys: [key])
        dir = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
    }

    override func tearDown() async throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    func testTheAppAndABackgroundTaskOpeningOneAccountShareIt() async throws {
        let folder = dir.appendingPathComponent("amina")
        let app = try await SatchelAccounts.open(accountDir: folder, config: trusting)
        _ = try await app.fetchCourse(baseUrl: contentUrl, courseId: "web-basics")
        _ = try await app.enqueueDownload(target: .lesson(lessonId: "web-basics.dns"), rendition: .lite, priority: 0)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("x"), withIntermediateDirectories: true)
        let task = try await SatchelAccounts.open(accountDir: dir.appendingPathComponent("x/../amina"), config: trusting)
        XCTAssertEqual(app.deviceId(), task.deviceId())

        // The network the app reported is the one the background task's run sees.
        app.setNetwork(network: .unmetered)
        let summary = try await task.runDownloads(maxDurationMs: 60_000)
        XCTAssertEqual(summary.outcome, .finished)
        XCTAssertEqual(summary.completed, 1)

        do {
            _ = try await SatchelAccounts.open(accountDir: folder, config: SatchelConfig())
            XCTFail("opening it again with other trusted keys must fail")
        } catch let SatchelError.InvalidInput(reason) {
            XCTAssertTrue(reason.contains("already open"), reason)
        }

        try await task.shutdown()
        do {
            _ = try await app.listCourses()
            XCTFail("expected Closed")
        } catch SatchelError.Closed {}
        let reopened = try await SatchelAccounts.open(
            accountDir: folder, config: SatchelConfig(deviceName: "Amina's phone", trustedPublisherKeys: trusting.trustedPublisherKeys))
        let courses = try await reopened.listCourses()
        XCTAssertEqual(courses.count, 1)
        try await reopened.shutdown()
    }

    func testShutdownDuringARunStopsItAndLosesNothing() async throws {
        let folder = dir.appendingPathComponent("bilal")
        let satchel = try await SatchelAccounts.open(accountDir: folder, config: trusting)
        _ = try await satchel.fetchCourse(baseUrl: contentUrl, courseId: "web-basics")
        satchel.setNetwork(network: .unmetered)
        _ = try await satchel.enqueueDownload(target: .course(courseId: "web-basics"), rendition: .full, priority: 0)
        let run = Task { try? await satchel.runDownloads(maxDurationMs: 600_000) }
        let started = Date()
        while try await satchel.listDownloads(courseId: nil).allSatisfy({ $0.state != .running }),
            Date().timeIntervalSince(started) < 10 {
            try await Task.sleep(nanoseconds: 5_000_000)
        }
        let shutdownStarted = Date()
        try await satchel.shutdown()
        XCTAssertLessThan(Date().timeIntervalSince(shutdownStarted), 6, "bounded by 5 s")
        _ = await run.value

        let again = try await SatchelAccounts.open(accountDir: folder, config: trusting)
        let downloads = try await again.listDownloads(courseId: nil)
        XCTAssertFalse(downloads.isEmpty)
        XCTAssertTrue(downloads.allSatisfy { $0.state != .running }, "\(downloads.map(\.state))")
        again.setNetwork(network: .unmetered)
        let finished = try await again.runDownloads(maxDurationMs: 60_000)
        XCTAssertEqual(finished.outcome, .finished)
        let after = try await again.listDownloads(courseId: nil)
        XCTAssertTrue(after.allSatisfy { $0.state == .done })
        try await again.shutdown()
    }
}
