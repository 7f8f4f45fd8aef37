import Foundation
import SatchelFFI

/// The mirror of the Android shell's `syncEvents()` flow
/// (android/satchel/src/main/kotlin/org/satchel/SatchelSync.kt).
extension Satchel {
    /// Sync status as an `AsyncStream`: the current status at once, then every change. Iterating
    /// subscribes; ending the iteration (or cancelling its task) unsubscribes.
    public func syncEvents() -> AsyncStream<SyncEvent> {
        AsyncStream(bufferingPolicy: .unbounded) { continuation in
            let subscription = self.subscribeSync(listener: SyncStreamListener(continuation: continuation))
            continuation.onTermination = { _ in subscription.cancel() }
        }
    }
}

extension Satchel {
    /// `sync` that stops at its next safe point when the awaiting `Task` is cancelled. Call this
    /// one from Swift (see `runDownloadsUntilCancelled` for why).
    public func syncUntilCancelled(maxDurationMs: Int64) async throws -> SyncReport {
        try await syncUntilCancelled(maxDurationMs: maxDurationMs, cancellation: Cancellation())
    }

    /// `syncUntilCancelled` with a `cancellation` the caller owns (and may cancel itself).
    public func syncUntilCancelled(maxDurationMs: Int64, cancellation: Cancellation) async throws -> SyncReport {
        try await withTaskCancellationHandler {
            try await syncCancellable(maxDurationMs: maxDurationMs, cancellation: cancellation)
        } onCancel: {
            cancellation.cancel()
        }
    }
}

/// Forwards core callbacks (on a core thread) into the stream.
private final class SyncStreamListener: SyncListener, @unchecked Sendable {
    private let continuation: AsyncStream<SyncEvent>.Continuation

    init(continuation: AsyncStream<SyncEvent>.Continuation) {
        self.continuation = continuation
    }

    func onEvent(event: SyncEvent) {
        continuation.yield(event)
    }
}
