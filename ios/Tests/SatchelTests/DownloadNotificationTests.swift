import Foundation
import Satchel
import XCTest

/// The mirror of android/satchel/src/test/kotlin/org/satchel/DownloadNotificationTest.kt: the
/// download progress view's numbers and text, from the events the core sends.
final class DownloadNotificationTests: ServedCourseFixture {
    private func event(
        _ id: Int64, _ state: DownloadState, _ done: Int64, _ total: Int64, rate: Int64 = 0,
        kind: DownloadEventKind? = nil
    ) -> DownloadEvent {
        DownloadEvent(
            kind: kind ?? (rate > 0 ? .progress : .stateChanged), downloadId: id, lessonId: "lesson-\(id)",
            rendition: .lite, state: state, bytesDone: done, bytesTotal: total, bytesPerSecond: rate,
            etaMs: nil, failure: nil)
    }

    func testARealCourseDownloadClimbsToExactlyOneHundredPercent() async throws {
        let queued = try await satchel.enqueueDownload(target: .course(courseId: "web-basics"), rendition: .lite, priority: 0)
        let count = queued.count
        let stream = satchel.downloadEvents()
        let (firstSeen, firstSignal) = AsyncStream<Void>.makeStream()
        let collected = Task { () -> (DownloadProgress, [Int]) in
            let tracker = DownloadProgressTracker()
            var percents: [Int] = []
            var progress = tracker.progress()
            for await event in stream {
                firstSignal.yield()
                progress = tracker.onEvent(event)
                percents.append(progress.percent ?? -1)
                if progress.done == count { break }
            }
            return (progress, percents)
        }
        // The snapshot of the queued downloads came first: the tracker covers all of them.
        for await _ in firstSeen { break }
        satchel.setNetwork(network: .unmetered)
        let summary = try await satchel.runDownloads(maxDurationMs: 60_000)
        XCTAssertEqual(summary.outcome, .finished)
        let (end, percents) = await collected.value
        XCTAssertEqual(end.downloads, count)
        XCTAssertEqual(end.percent, 100)
        XCTAssertTrue(end.settled)
        XCTAssertEqual(end.bytesDone, end.bytesTotal)
        XCTAssertEqual(end.bytesTotal, queued.reduce(0) { $0 + $1.bytesTotal })
        XCTAssertTrue(percents.allSatisfy { (0...100).contains($0) } && percents == percents.sorted(), "\(percents)")
        XCTAssertTrue(percents.dropLast().allSatisfy { $0 < 100 }, "\(percents)")
        XCTAssertEqual(DownloadNotificationText.title(end), "Downloads complete")
        XCTAssertTrue(DownloadNotificationText.text(end).hasPrefix("\(count) of \(count) lessons"))
    }

    func testPercentNeverPassesOneHundredAndHoldsAtNinetyNineUntilDone() {
        let tracker = DownloadProgressTracker()
        tracker.onEvent(event(1, .running, 0, 1_000))
        // A file longer than announced: the count is capped at the download's total.
        let over = tracker.onEvent(event(1, .running, 5_000, 1_000, rate: 100))
        XCTAssertEqual(over.percent, 99)
        XCTAssertEqual(over.bytesDone, 1_000)
        XCTAssertNil(over.etaMs)
        XCTAssertEqual(tracker.onEvent(event(1, .done, 1_000, 1_000)).percent, 100)
    }

    func testFinishedDownloadsKeepCountingAndPausedOnesLeaveTheBar() {
        let tracker = DownloadProgressTracker()
        tracker.onEvent(event(1, .done, 500, 500))  // done before: not in this batch
        tracker.onEvent(event(2, .running, 0, 1_000))
        tracker.onEvent(event(3, .queued, 0, 3_000))
        tracker.onEvent(event(4, .running, 0, 6_000))
        let half = tracker.onEvent(event(2, .done, 1_000, 1_000))
        XCTAssertEqual(half.downloads, 3)
        XCTAssertEqual(half.percent, 10)
        tracker.onEvent(event(4, .paused, 3_000, 6_000))
        XCTAssertEqual(tracker.progress().percent, 25)
        XCTAssertEqual(tracker.progress().paused, 1)
        tracker.onEvent(event(3, .running, 1_500, 3_000, rate: 500))
        XCTAssertEqual(tracker.progress().percent, 62)
        XCTAssertEqual(tracker.progress().etaMs, 3_000)
        let removed = tracker.onEvent(event(3, .running, 0, 0, kind: .removed))
        XCTAssertEqual(removed.downloads, 2)
        XCTAssertEqual(tracker.onEvent(event(4, .failed, 3_000, 6_000)).percent, 100)
        XCTAssertEqual(DownloadNotificationText.title(tracker.progress()), "Downloads finished, 1 failed")
    }

    func testARunningDownloadKeepsItsRateAcrossStateEventsAndUnknownSizesAreIndeterminate() {
        let tracker = DownloadProgressTracker()
        tracker.onEvent(event(1, .running, 100, 10_100, rate: 1_000))
        XCTAssertEqual(tracker.onEvent(event(1, .running, 100, 10_100)).etaMs, 10_000)
        XCTAssertNil(tracker.onEvent(event(1, .waitingForNetwork, 100, 10_100)).etaMs)
        XCTAssertEqual(DownloadNotificationText.title(tracker.progress()), "Waiting for a network")
        tracker.onEvent(event(2, .queued, 0, 0))
        XCTAssertNil(tracker.progress().percent)
    }

    func testEtaAndSizesReadWell() {
        XCTAssertEqual(DownloadNotificationText.formatEta(59_999), "less than a minute")
        XCTAssertEqual(DownloadNotificationText.formatEta(60_000), "1 min")
        XCTAssertEqual(DownloadNotificationText.formatEta(60_001), "2 min")
        XCTAssertEqual(DownloadNotificationText.formatEta(59 * 60_000), "59 min")
        XCTAssertEqual(DownloadNotificationText.formatEta(65 * 60_000), "1 h 05 min")
        XCTAssertEqual(DownloadNotificationText.formatEta(25 * 3_600_000), "more than a day")
        XCTAssertEqual(DownloadNotificationText.formatBytes(999), "999 B")
        XCTAssertEqual(DownloadNotificationText.formatBytes(12_345), "12 kB")
        XCTAssertEqual(DownloadNotificationText.formatBytes(4_480_000), "4.5 MB")
        XCTAssertEqual(DownloadNotificationText.formatBytes(1_250_000_000), "1.25 GB")
        let tracker = DownloadProgressTracker()
        let progress = tracker.onEvent(event(1, .running, 1_200_000, 4_500_000, rate: 20_000))
        XCTAssertEqual(DownloadNotificationText.title(progress), "Downloading lessons")
        XCTAssertEqual(DownloadNotificationText.text(progress), "0 of 1 lessons · 1.2 MB of 4.5 MB · 3 min left")
    }
}
