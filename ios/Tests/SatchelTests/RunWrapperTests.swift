import Foundation
import Satchel
import XCTest

/// The mirror of android/satchel/src/test/kotlin/org/satchel/RunWrapperTest.kt: a cancelled
/// `Task` always stops the core's run, through the caller's `Cancellation`.
final class RunWrapperTests: ServedCourseFixture {
    func testCancellingTheTaskSignalsTheCoreAndTheNextRunIsNotHeldUp() async throws {
        satchel.setNetwork(network: .unmetered)
        _ = try await satchel.enqueueDownload(target: .lesson(lessonId: "web-basics.what-happens"), rendition: .full, priority: 0)
        let satchel = self.satchel!
        let cancellation = Cancellation()
        let task = Task {
            // Wakes at once when cancelled, so the run below starts in a cancelled Task.
            try? await Task.sleep(nanoseconds: 10_000_000_000)
            return try await satchel.runDownloadsUntilCancelled(maxDurationMs: 600_000, cancellation: cancellation)
        }
        task.cancel()
        let stopped = try await task.value
        XCTAssertTrue(cancellation.isCancelled(), "the wrapper signalled the core")
        XCTAssertEqual(stopped.outcome, .stopped)
        XCTAssertEqual(stopped.remaining, 1)

        let next = try await satchel.runDownloadsUntilCancelled(maxDurationMs: 60_000)
        XCTAssertEqual(next.outcome, .finished)
        XCTAssertEqual(next.completed, 1)
    }

    func testARunThatEndsByItselfLeavesItsCancellationUntouched() async throws {
        satchel.setNetwork(network: .unmetered)
        _ = try await satchel.enqueueDownload(target: .lesson(lessonId: "web-basics.dns"), rendition: .lite, priority: 0)
        let cancellation = Cancellation()
        let summary = try await satchel.runDownloadsUntilCancelled(maxDurationMs: 30_000, cancellation: cancellation)
        XCTAssertEqual(summary.outcome, .finished)
        XCTAssertFalse(cancellation.isCancelled())
    }
}
