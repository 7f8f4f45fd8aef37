import Foundation
import Satchel
import XCTest

/// The mirror of android/satchel/src/test/kotlin/org/satchel/WorkDecisionTest.kt: a run's
/// result, a sync's outcome or an error → what the BGTask does next, on the real core.
final class WorkDecisionTests: ServedCourseFixture {
    private var publisherKey: String { ProcessInfo.processInfo.environment["SATCHEL_PUBLISHER_KEY"] ?? "" }

    func testAFinishedRunSucceedsAndARunWithNoNetworkRetries() async throws {
        _ = try await satchel.enqueueDownload(target: .lesson(lessonId: "web-basics.dns"), rendition: .lite, priority: 0)
        // No setNetwork yet: the core assumes no network, as a task started before its monitor.
        let blocked = await satchel.downloadWork(maxDurationMs: 10_000)
        XCTAssertEqual(blocked.result, .retry, blocked.reason)
        satchel.setNetwork(network: .unmetered)
        let done = await satchel.downloadWork(maxDurationMs: 30_000)
        XCTAssertEqual(done, WorkDecision(.success, "finished"))
    }

    /// What a BGTask's expiration handler does: cancel the task awaiting the run.
    func testAnExpiredTaskRetriesWithItsWorkLeftAndTheRetryFinishesIt() async throws {
        satchel.setNetwork(network: .unmetered)
        _ = try await satchel.enqueueDownload(target: .lesson(lessonId: "web-basics.what-happens"), rendition: .full, priority: 0)
        let satchel = self.satchel!
        let task = Task { () -> WorkDecision in
            try? await Task.sleep(nanoseconds: 10_000_000_000)
            return await satchel.downloadWork(maxDurationMs: 600_000)
        }
        task.cancel()
        let expired = await task.value
        XCTAssertEqual(expired, WorkDecision(.retry, "stopped with 1 left"))
        let next = await satchel.downloadWork(maxDurationMs: 60_000)
        XCTAssertEqual(next.result, .success, next.reason)
    }

    func testRealNetworkErrorsRetryWhenTimeCanHelpAndFailWhenItCannot() async throws {
        do {
            _ = try await satchel.fetchCourse(baseUrl: "http://127.0.0.1:9/", courseId: "web-basics")
            XCTFail("nothing listens on port 9")
        } catch {
            guard case SatchelError.Network(.unreachable, _, _, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(WorkDecisions.forError(error).result, .retry)
        }
        do {
            _ = try await satchel.fetchCourse(baseUrl: contentUrl, courseId: "no-such-course")
            XCTFail("a course the host does not have must fail")
        } catch {
            XCTAssertEqual(WorkDecisions.forError(error), WorkDecision(.failure, "HTTP 404"))
        }
        // Sync never configured: the app must configure it, retrying cannot help.
        let unconfigured = await satchel.syncWork(maxDurationMs: 5_000)
        XCTAssertEqual(unconfigured.result, .failure, unconfigured.reason)
        satchel.setNetwork(network: .unmetered)
        try satchel.configureSync(baseUrl: contentUrl, tokens: RefusedToken())
        let refused = await satchel.syncWork(maxDurationMs: 10_000)
        XCTAssertEqual(refused, WorkDecision(.failure, "the learner must sign in"))
    }

    func testStorageErrorsFailExceptPassingIoAndHttpWaitsKeepRetryAfter() {
        func storage(_ kind: StorageErrorKind) -> WorkResult {
            WorkDecisions.forError(SatchelError.Storage(kind: kind, reason: "")).result
        }
        XCTAssertEqual(storage(.diskFull), .failure)
        XCTAssertEqual(storage(.quotaFull), .failure)
        XCTAssertEqual(storage(.corrupt), .failure)
        XCTAssertEqual(storage(.io), .retry)
        XCTAssertEqual(WorkDecisions.forError(SatchelError.Integrity(reason: "")).result, .retry)
        XCTAssertEqual(WorkDecisions.forError(SatchelError.Closed).result, .failure)
        XCTAssertEqual(WorkDecisions.forError(CancellationError()).result, .failure)

        func http(_ status: Int32?, _ retryAfterMs: Int64? = nil) -> WorkDecision {
            WorkDecisions.forError(SatchelError.Network(kind: .httpStatus, httpStatus: status, retryAfterMs: retryAfterMs, reason: ""))
        }
        XCTAssertEqual(http(429, 30_000), WorkDecision(.retry, "HTTP 429", retryAfterMs: 30_000))
        XCTAssertEqual(http(503), WorkDecision(.retry, "HTTP 503"))
        XCTAssertEqual(http(408).result, .retry)
        XCTAssertEqual(http(410).result, .failure)
        XCTAssertEqual(http(403).result, .failure)
        XCTAssertEqual(http(nil).result, .retry)
        XCTAssertEqual(WorkDecisions.forNetwork(.budgetExhausted, httpStatus: nil, retryAfterMs: nil).result, .failure)
        XCTAssertEqual(WorkDecisions.forNetwork(.notAllowed, httpStatus: nil, retryAfterMs: nil).result, .retry)
        XCTAssertEqual(WorkDecisions.forNetwork(.certificateRejected, httpStatus: nil, retryAfterMs: nil).result, .retry)
    }

    func testOutcomesWithNothingLeftSucceedAndOthersRetry() {
        func run(_ outcome: RunOutcome, remaining: Int32, failed: Int32 = 0) -> WorkDecision {
            WorkDecisions.forDownloads(RunSummary(outcome: outcome, completed: 1, failed: failed, remaining: remaining))
        }
        XCTAssertEqual(run(.deadlineReached, remaining: 0).result, .success)
        XCTAssertEqual(run(.stopped, remaining: 2).result, .retry)
        XCTAssertEqual(run(.stopped, remaining: 0).result, .success)
        let withFailures = run(.finished, remaining: 0, failed: 2)
        XCTAssertEqual(withFailures.result, .success)
        XCTAssertTrue(withFailures.reason.contains("2 failed"), withFailures.reason)

        func sync(_ outcome: SyncOutcome, remaining: Int32) -> WorkResult {
            WorkDecisions.forSync(SyncReport(outcome: outcome, pushed: 0, pulled: 0, rejected: 0, remaining: remaining)).result
        }
        XCTAssertEqual(sync(.deadlineReached, remaining: 3), .retry)
        XCTAssertEqual(sync(.deadlineReached, remaining: 0), .success)
        XCTAssertEqual(sync(.blocked, remaining: 3), .retry)
        XCTAssertEqual(sync(.failed(kind: .interrupted, httpStatus: nil, reason: ""), remaining: 3), .retry)
    }
}

/// A sign-in session whose token the server refuses.
private final class RefusedToken: TokenProvider, @unchecked Sendable {
    func token() -> String? { "not-a-token" }
    func refresh() -> String? { nil }
}
