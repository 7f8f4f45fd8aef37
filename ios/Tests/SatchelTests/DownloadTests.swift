import Foundation
import SatchelFFI
import XCTest
@testable import Satchel

/// The mirror of android/satchel/src/test/kotlin/org/satchel/DownloadTest.kt. Needs the same
/// reference server as ContentTests (SATCHEL_CONTENT_URL, SATCHEL_PUBLISHER_KEY).
final class DownloadTests: ServedCourseFixture {
    func testACourseInLiteDownloadsWithEventsThroughAStream() async throws {
        let course = DownloadTarget.course(courseId: "web-basics")
        let estimate = try await satchel.downloadEstimate(target: course, rendition: .lite)
        XCTAssertEqual(estimate.lessons, 8)
        XCTAssertTrue(estimate.bytesToFetch > 400_000 && estimate.bytesTotal > 400_000)
        XCTAssertEqual(estimate.lessonsAlreadyDownloaded, 0)

        let queued = try await satchel.enqueueDownload(target: course, rendition: .lite, priority: 0)
        XCTAssertTrue(queued.allSatisfy { $0.state == .queued })
        let ids = Set(queued.map(\.id))
        let stream = satchel.downloadEvents()
        let collected = Task { () -> [DownloadEvent] in
            var done = Set<Int64>()
            var seen: [DownloadEvent] = []
            for await event in stream {
                seen.append(event)
                if event.kind == .stateChanged && event.state == .done { done.insert(event.downloadId) }
                if done == ids { break }
            }
            return seen
        }
        satchel.setNetwork(network: .unmetered)
        let summary = try await satchel.runDownloads(maxDurationMs: 60_000)
        XCTAssertEqual(summary.outcome, .finished)
        XCTAssertEqual(Int(summary.completed), ids.count)
        let seen = await collected.value
        XCTAssertTrue(seen.contains { $0.kind == .stateChanged && $0.state == .running })
        let all = try await satchel.listDownloads(courseId: "web-basics")
        XCTAssertTrue(all.allSatisfy { $0.state == .done })
        let usage = try await satchel.dataUsage()
        XCTAssertGreaterThan(usage.savedByLiteBytes, 50_000_000)
    }

    func testWifiOnlyHoldsOnCellularAndABudgetReleasesIt() async throws {
        let lesson = DownloadTarget.lesson(lessonId: "web-basics.dns")
        let id = try await satchel.enqueueDownload(target: lesson, rendition: .lite, priority: 0)[0].id
        satchel.setNetwork(network: .metered)
        let blocked = try await satchel.runDownloads(maxDurationMs: 10_000)
        XCTAssertEqual(blocked.outcome, .blocked)
        let waiting = try await satchel.listDownloads(courseId: nil).first { $0.id == id }
        XCTAssertEqual(waiting?.state, .waitingForNetwork)

        let settings = try await satchel.downloadSettings()
        XCTAssertTrue(settings.wifiOnly)
        // Records are values: a changed copy goes back.
        try await satchel.setDownloadSettings(settings: DownloadSettings(
            wifiOnly: false,
            monthlyCellularBudgetBytes: 10_000_000,
            storageQuotaBytes: settings.storageQuotaBytes,
            maxConcurrentDownloads: settings.maxConcurrentDownloads))
        let done = try await satchel.runDownloads(maxDurationMs: 30_000)
        XCTAssertEqual(done.outcome, .finished)
        let usage = try await satchel.dataUsage()
        XCTAssertGreaterThan(usage.meteredBytes, 40_000)
        XCTAssertEqual(usage.unmeteredBytes, 0)
    }

    func testPauseResumeAndCancel() async throws {
        satchel.setNetwork(network: .unmetered)
        let lesson = DownloadTarget.lesson(lessonId: "web-basics.dns")
        let id = try await satchel.enqueueDownload(target: lesson, rendition: .full, priority: 5)[0].id
        try await satchel.pauseDownload(downloadId: id)
        let paused = try await satchel.runDownloads(maxDurationMs: 10_000)
        XCTAssertEqual(paused.outcome, .finished)
        let pausedState = try await satchel.listDownloads(courseId: nil).first { $0.id == id }?.state
        XCTAssertEqual(pausedState, .paused)

        try await satchel.resumeDownload(downloadId: id)
        _ = try await satchel.runDownloads(maxDurationMs: 60_000)
        let local = try await satchel.playbackSource(lessonId: "web-basics.dns", preferred: .lite)
        XCTAssertTrue(local.offline)
        XCTAssertEqual(local.rendition, .full)
        XCTAssertTrue(local.files.allSatisfy { FileManager.default.fileExists(atPath: $0.location) })

        try await satchel.cancelDownload(downloadId: id)
        let left = try await satchel.listDownloads(courseId: nil)
        XCTAssertTrue(left.isEmpty)
        let remote = try await satchel.playbackSource(lessonId: "web-basics.dns", preferred: .lite)
        XCTAssertFalse(remote.offline)
        XCTAssertTrue(remote.files.first { $0.role == "audio" }!.location.hasPrefix(contentUrl))
    }

    /// The mirror of cancellingTheCoroutineStopsTheRunAndTheNextRunIsNotHeldUp: a cancelled
    /// `Task` stops its run (here cancelled before the run starts, so the outcome is certain).
    func testCancellingTheTaskStopsTheRunAndTheNextRunIsNotHeldUp() async throws {
        satchel.setNetwork(network: .unmetered)
        _ = try await satchel.enqueueDownload(
            target: .lesson(lessonId: "web-basics.what-happens"), rendition: .full, priority: 0)
        let satchel = self.satchel!
        let task = Task {
            // Wakes at once when cancelled, so the run below starts in a cancelled Task.
            try? await Task.sleep(nanoseconds: 10_000_000_000)
            return try await satchel.runDownloadsUntilCancelled(maxDurationMs: 600_000)
        }
        task.cancel()
        let stopped = try await task.value
        XCTAssertEqual(stopped.outcome, .stopped)
        XCTAssertEqual(stopped.remaining, 1)
        let held = try await satchel.listDownloads(courseId: nil)
        XCTAssertEqual(held.first?.state, .queued)

        let next = try await satchel.runDownloadsUntilCancelled(maxDurationMs: 60_000)
        XCTAssertEqual(next.outcome, .finished)
        XCTAssertEqual(next.completed, 1)
    }

    func testStopDownloadsEndsARunEarly() async throws {
        satchel.setNetwork(network: .unmetered)
        let lesson = DownloadTarget.lesson(lessonId: "web-basics.what-happens")
        _ = try await satchel.enqueueDownload(target: lesson, rendition: .full, priority: 0)
        let satchel = self.satchel!
        let run = Task { try await satchel.runDownloads(maxDurationMs: 60_000) }
        try await Task.sleep(nanoseconds: 30_000_000)
        satchel.stopDownloads()
        let summary = try await run.value
        XCTAssertEqual(summary.outcome, .stopped)
        XCTAssertEqual(summary.remaining, 1)
        _ = try await satchel.runDownloads(maxDurationMs: 60_000)
        let state = try await satchel.listDownloads(courseId: nil).first?.state
        XCTAssertEqual(state, .done)
    }
}
