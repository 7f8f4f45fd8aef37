import Foundation
import SatchelFFI
import XCTest
@testable import Satchel

/// The mirror of android/satchel/src/test/kotlin/org/satchel/ListenerTest.kt: a snapshot on
/// subscribe, no state change lost to a slow listener, and stuck listeners stalling no transfer.
final class ListenerTests: ServedCourseFixture {
    override func setUp() async throws {
        try await super.setUp()
        satchel.setNetwork(network: .unmetered)
    }

    private func enqueueCourse() async throws -> Set<Int64> {
        let queued = try await satchel.enqueueDownload(
            target: .course(courseId: "web-basics"), rendition: .lite, priority: 0)
        return Set(queued.map(\.id))
    }

    func testBlockedListenersStallNoDownloadAndThenGetEveryStateChange() async throws {
        let ids = try await enqueueCourse()
        let gate = DispatchSemaphore(value: 0)
        // More stuck listeners than the core has async workers.
        let recorders = (0..<3).map { _ in Recorder(gate: gate) }
        let subscriptions = recorders.map { satchel.subscribeDownloads(listener: $0) }
        defer { subscriptions.forEach { $0.cancel() } }

        let summary = try await satchel.runDownloads(maxDurationMs: 60_000)
        XCTAssertEqual(summary.outcome, .finished)
        XCTAssertEqual(Int(summary.completed), ids.count, "finished while the listeners were stuck")
        XCTAssertTrue(recorders.allSatisfy { $0.events().isEmpty })

        for _ in recorders { gate.signal() }
        for recorder in recorders {
            let events = try recorder.awaitDone(ids)
            // The snapshot comes first: every download's state when the delivery started.
            let snapshot = events.prefix(ids.count)
            XCTAssertTrue(snapshot.allSatisfy { $0.kind == .stateChanged }, "\(snapshot)")
            XCTAssertEqual(Set(snapshot.map(\.downloadId)), ids)
            let rank: [DownloadState] = [.queued, .running, .done]
            for (id, states) in statesOf(events) {
                let ranks = states.map { rank.firstIndex(of: $0) ?? rank.count }
                XCTAssertEqual(ranks, ranks.sorted(), "download \(id) went back: \(states)")
            }
        }
    }

    func testALaggingListenerMissesNoStateChange() async throws {
        let ids = try await enqueueCourse()
        let lagging = Recorder(delay: 0.04)
        let subscription = satchel.subscribeDownloads(listener: lagging)
        defer { subscription.cancel() }
        let summary = try await satchel.runDownloads(maxDurationMs: 60_000)
        XCTAssertEqual(Int(summary.completed), ids.count)
        let order: [DownloadState] = [.queued, .running, .done]
        for (id, states) in statesOf(try lagging.awaitDone(ids)) {
            var seen: [DownloadState] = []
            for state in states where order.contains(state) && !seen.contains(state) { seen.append(state) }
            XCTAssertEqual(seen, order, "download \(id): \(states)")
        }
    }

    func testALateSubscriberStartsWithTheStateOfEveryDownload() async throws {
        let ids = try await enqueueCourse()
        let paused = ids.min()!
        try await satchel.pauseDownload(downloadId: paused)
        let recorder = Recorder()
        let subscription = satchel.subscribeDownloads(listener: recorder)
        defer { subscription.cancel() }
        let deadline = Date().addingTimeInterval(10)
        while recorder.events().count < ids.count && Date() < deadline { try await Task.sleep(nanoseconds: 10_000_000) }
        let states = Dictionary(recorder.events().map { ($0.downloadId, $0.state) }, uniquingKeysWith: { $1 })
        XCTAssertEqual(Set(states.keys), ids)
        XCTAssertEqual(states[paused], .paused)
        XCTAssertTrue(ids.subtracting([paused]).allSatisfy { states[$0] == .queued }, "\(states)")
    }
}

/// Not every download reported `.done` within 30 s.
private struct NotDoneInTime: Error {
    let states: [Int64: [DownloadState]]
}

/// Each download's state changes in the order they arrived.
private func statesOf(_ events: [DownloadEvent]) -> [Int64: [DownloadState]] {
    var states: [Int64: [DownloadState]] = [:]
    for event in events where event.kind == .stateChanged { states[event.downloadId, default: []].append(event.state) }
    return states
}

/// Records events; each `onEvent` first waits on `gate` (when given), then sleeps `delay` s.
private final class Recorder: DownloadListener, @unchecked Sendable {
    private let gate: DispatchSemaphore?
    private let delay: TimeInterval
    private let lock = NSCondition()
    private var received: [DownloadEvent] = []

    init(gate: DispatchSemaphore? = nil, delay: TimeInterval = 0) {
        self.gate = gate
        self.delay = delay
    }

    func onEvent(event: DownloadEvent) {
        if let gate {
            gate.wait()
            gate.signal() // once open, it stays open for this listener's later events
        }
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        lock.lock()
        received.append(event)
        lock.broadcast()
        lock.unlock()
    }

    func events() -> [DownloadEvent] {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    /// Waits (at most 30 s) until every download in `ids` reported `.done`.
    func awaitDone(_ ids: Set<Int64>) throws -> [DownloadEvent] {
        let deadline = Date().addingTimeInterval(30)
        lock.lock()
        defer { lock.unlock() }
        while !ids.allSatisfy({ statesOf(received)[$0]?.last == .done }) {
            guard lock.wait(until: deadline) else { throw NotDoneInTime(states: statesOf(received)) }
        }
        return received
    }
}
