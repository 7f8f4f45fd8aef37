import Foundation
import SatchelFFI

/// The mirror of the Android shell's `downloadEvents()` flow
/// (android/satchel/src/main/kotlin/org/satchel/SatchelDownloads.kt).
extension Satchel {
    /// Download events as an `AsyncStream`: iterating subscribes, ending the iteration (or
    /// cancelling its task) unsubscribes. First the current state of every download, then live
    /// events. State changes are never dropped; progress comes at most a few times a second per
    /// download.
    public func downloadEvents() -> AsyncStream<DownloadEvent> {
        AsyncStream(bufferingPolicy: .unbounded) { continuation in
            let subscription = self.subscribeDownloads(listener: StreamListener(continuation: continuation))
            continuation.onTermination = { _ in subscription.cancel() }
        }
    }
}

extension Satchel {
    /// `runDownloads` that stops at its next safe point when the awaiting `Task` is cancelled
    /// (a BGProcessingTask expiring, a view going away). Call this one from Swift: the generated
    /// `runDownloads` keeps going after its `Task` is cancelled, because Swift's async bindings
    /// never drop the Rust future. It stops only this run, not another one running.
    public func runDownloadsUntilCancelled(maxDurationMs: Int64) async throws -> RunSummary {
        try await runDownloadsUntilCancelled(maxDurationMs: maxDurationMs, cancellation: Cancellation())
    }

    /// `runDownloadsUntilCancelled` with a `cancellation` the caller owns (and may cancel itself).
    public func runDownloadsUntilCancelled(maxDurationMs: Int64, cancellation: Cancellation) async throws -> RunSummary {
        try await withTaskCancellationHandler {
            try await runDownloadsCancellable(maxDurationMs: maxDurationMs, cancellation: cancellation)
        } onCancel: {
            cancellation.cancel()
        }
    }
}

/// Forwards core callbacks (on a core thread) into the stream.
private final class StreamListener: DownloadListener, @unchecked Sendable {
    private let continuation: AsyncStream<DownloadEvent>.Continuation

    init(continuation: AsyncStream<DownloadEvent>.Continuation) {
        self.continuation = continuation
    }

    func onEvent(event: DownloadEvent) {
        continuation.yield(event)
    }
}
