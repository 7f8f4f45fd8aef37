// The BGTaskScheduler adapter: downloads in a BGProcessingTask, sync in a BGAppRefreshTask.
// Apple-only (BackgroundTasks exists on iOS, not on Linux or macOS), so the Linux build skips it;
// its decisions are `downloadWork` / `syncWork` and `WorkDecisions` (tested on Linux).
#if canImport(BackgroundTasks) && os(iOS)
import BackgroundTasks
import Foundation

/// Registers and schedules Satchel's background tasks. List both identifiers under
/// `BGTaskSchedulerPermittedIdentifiers` in the app's Info.plist, enable the "Background
/// processing" and "Background fetch" modes, and call `register()` before the app finishes
/// launching (`application(_:didFinishLaunchingWithOptions:)`), as BGTaskScheduler requires.
public final class SatchelBackgroundTasks: @unchecked Sendable {
    public static let downloadsIdentifier = "org.satchel.downloads"
    public static let syncIdentifier = "org.satchel.sync"

    /// How long one task may run: iOS expires it earlier when it must (the expiration handler
    /// then cancels the run, which stops at its next safe point), and usually grants processing
    /// tasks minutes and refresh tasks about 30 seconds.
    public static let downloadRunMs: Int64 = 10 * 60_000
    public static let syncRunMs: Int64 = 25_000

    private let satchel: @Sendable () async -> Satchel?

    /// `satchel` returns the open account (the same instance the app uses), or nil when nobody
    /// is signed in.
    public init(satchel: @escaping @Sendable () async -> Satchel?) {
        self.satchel = satchel
    }

    public func register() {
        BGTaskScheduler.shared.register(forTaskWithIdentifier: Self.downloadsIdentifier, using: nil) { task in
            self.run(task, reschedule: { try? self.scheduleDownloads(after: $0) }) { satchel in
                await satchel.downloadWork(maxDurationMs: Self.downloadRunMs)
            }
        }
        BGTaskScheduler.shared.register(forTaskWithIdentifier: Self.syncIdentifier, using: nil) { task in
            self.run(task, reschedule: { try? self.scheduleSync(after: $0) }) { satchel in
                await satchel.syncWork(maxDurationMs: Self.syncRunMs)
            }
        }
    }

    /// After the learner queues downloads, and whenever a run ends with work left.
    public func scheduleDownloads(after delay: TimeInterval = 0) throws {
        let request = BGProcessingTaskRequest(identifier: Self.downloadsIdentifier)
        request.requiresNetworkConnectivity = true
        request.requiresExternalPower = false
        request.earliestBeginDate = Date(timeIntervalSinceNow: delay)
        try BGTaskScheduler.shared.submit(request)
    }

    public func scheduleSync(after delay: TimeInterval = 15 * 60) throws {
        let request = BGAppRefreshTaskRequest(identifier: Self.syncIdentifier)
        request.earliestBeginDate = Date(timeIntervalSinceNow: delay)
        try BGTaskScheduler.shared.submit(request)
    }

    /// Runs `work` for `task`: the expiration handler cancels it (the shell's wrappers turn that
    /// into the core's Cancellation), and the decision completes the task and schedules the next.
    private func run(
        _ task: BGTask, reschedule: @escaping @Sendable (TimeInterval) -> Void,
        work: @escaping @Sendable (Satchel) async -> WorkDecision
    ) {
        let job = Task {
            guard let satchel = await self.satchel() else {
                task.setTaskCompleted(success: true)
                return
            }
            let decision = await work(satchel)
            switch decision.result {
            case .success:
                task.setTaskCompleted(success: true)
            case .retry:
                // A server's Retry-After, else a minute: iOS decides the real time anyway.
                reschedule(TimeInterval(decision.retryAfterMs ?? 60_000) / 1000)
                task.setTaskCompleted(success: false)
            case .failure:
                task.setTaskCompleted(success: false)
            }
        }
        task.expirationHandler = { job.cancel() }
    }
}
#endif
