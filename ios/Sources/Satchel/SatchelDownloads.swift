import Foundation
import SatchelFFI

/// The mirror of the Android shell's `downloadEvents()` flow
/// (android/satchel/src/main/kotlin/org/satchel/SatchelDownloads.kt).
extension Satchel {
    /// Download events as an `AsyncStream`: iterating subscribes, ending the iteration (or
    /// cancelling its task) unsubscribes. State changes are never dropped; progress comes at most
    /// a few times a second per download.
    public func downloadEvents() -> AsyncStream<DownloadEvent> {
        AsyncStream(bufferingPolicy: .unbounded) { continuation in
            let subscription = self.subscribeDownloads(listener: StreamListener(continuation: continuation))
            continuation.onTermination = { _ in subscription.cancel() }
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
