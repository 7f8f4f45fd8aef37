import Foundation

/// Where the downloads of one progress view stand, summed over them; the mirror of the Android
/// shell's `DownloadProgress` (android/satchel/src/main/kotlin/org/satchel/DownloadProgress.kt).
public struct DownloadProgress: Equatable, Sendable {
    public var downloads = 0
    public var done = 0
    public var running = 0
    public var queued = 0
    public var waitingForNetwork = 0
    public var waitingForBudget = 0
    public var paused = 0
    public var failed = 0
    /// Bytes of the downloads still counted (not paused or failed), each at most its total.
    public var bytesDone: Int64 = 0
    public var bytesTotal: Int64 = 0
    /// 0–100, and 100 only when every counted download is done; nil when sizes are unknown.
    public var percent: Int?
    /// Time left at the current rate of all running downloads together; nil when unknown.
    public var etaMs: Int64?

    /// Nothing counted is left to move (done, or paused or failed by the learner).
    public var settled: Bool { done + paused + failed == downloads }
}

/// Folds `DownloadEvent`s into a `DownloadProgress`, by the same rules as the Android tracker:
/// it covers the downloads it has seen not yet done, and keeps a finished one counting until it
/// is removed. Not thread-safe: feed it from one task.
public final class DownloadProgressTracker {
    private struct Row {
        var state: DownloadState
        var bytesDone: Int64
        var bytesTotal: Int64
        var bytesPerSecond: Int64
    }

    private var rows: [Int64: Row] = [:]

    public init() {}

    /// Applies `event` and returns the progress after it.
    @discardableResult
    public func onEvent(_ event: DownloadEvent) -> DownloadProgress {
        if event.kind == .removed {
            rows[event.downloadId] = nil
        } else if var row = rows[event.downloadId] {
            row.state = event.state
            row.bytesDone = event.bytesDone
            row.bytesTotal = event.bytesTotal
            // State events carry no rate: a running download keeps its last measured one.
            if event.kind == .progress || event.state != .running {
                row.bytesPerSecond = Self.rate(of: event)
            }
            rows[event.downloadId] = row
        } else if event.state != .done {
            rows[event.downloadId] = Row(
                state: event.state, bytesDone: event.bytesDone, bytesTotal: event.bytesTotal,
                bytesPerSecond: Self.rate(of: event))
        }
        return progress()
    }

    public func progress() -> DownloadProgress {
        var out = DownloadProgress()
        var rate: Int64 = 0
        var unknownSize = false
        for row in rows.values {
            out.downloads += 1
            switch row.state {
            case .done: out.done += 1
            case .running: out.running += 1
            case .queued: out.queued += 1
            case .waitingForNetwork: out.waitingForNetwork += 1
            case .waitingForBudget: out.waitingForBudget += 1
            case .paused: out.paused += 1
            case .failed: out.failed += 1
            }
            if row.state == .paused || row.state == .failed { continue }
            let total = max(row.bytesTotal, 0)
            if total == 0 && row.state != .done { unknownSize = true }
            out.bytesTotal += total
            out.bytesDone += row.state == .done ? total : min(max(row.bytesDone, 0), total)
            if row.state == .running { rate += row.bytesPerSecond }
        }
        let left = out.bytesTotal - out.bytesDone
        if rows.isEmpty {
            out.percent = nil
        } else if out.settled {
            out.percent = 100
        } else if !unknownSize && out.bytesTotal > 0 {
            // Rounded down and held at 99 until the last download is verified and done.
            out.percent = min(max(Int(out.bytesDone * 100 / out.bytesTotal), 0), 99)
        }
        out.etaMs = left > 0 && rate > 0 ? (left * 1000 + rate - 1) / rate : nil
        return out
    }

    private static func rate(of event: DownloadEvent) -> Int64 {
        event.state == .running ? max(event.bytesPerSecond, 0) : 0
    }
}

/// The English text of a download progress view; the mirror of DownloadNotificationText.kt.
public enum DownloadNotificationText {
    public static func title(_ progress: DownloadProgress) -> String {
        if progress.downloads == 0 { return "No downloads" }
        if progress.settled && progress.failed > 0 { return "Downloads finished, \(progress.failed) failed" }
        if progress.settled { return "Downloads complete" }
        if progress.running > 0 { return "Downloading lessons" }
        if progress.waitingForBudget > 0 && progress.queued == 0 { return "Cellular data budget used up" }
        if progress.waitingForNetwork > 0 && progress.queued == 0 { return "Waiting for a network" }
        return "Waiting to download"
    }

    /// "3 of 8 lessons · 1.2 MB of 4.5 MB · 3 min left" (the parts that are known).
    public static func text(_ progress: DownloadProgress) -> String {
        var parts = ["\(progress.done) of \(progress.downloads) lessons"]
        if progress.bytesTotal > 0 { parts.append("\(formatBytes(progress.bytesDone)) of \(formatBytes(progress.bytesTotal))") }
        if let eta = progress.etaMs { parts.append("\(formatEta(eta)) left") }
        return parts.joined(separator: " · ")
    }

    /// Minutes rounded up (never "0 min" while bytes are left); hours past the hour.
    public static func formatEta(_ ms: Int64) -> String {
        let minutes = (max(ms, 0) + 59_999) / 60_000
        if ms < 60_000 { return "less than a minute" }
        if minutes < 60 { return "\(minutes) min" }
        if minutes < 24 * 60 { return String(format: "%d h %02d min", Int(minutes / 60), Int(minutes % 60)) }
        return "more than a day"
    }

    /// Decimal units, as the system's storage screens use.
    public static func formatBytes(_ bytes: Int64) -> String {
        let b = max(bytes, 0)
        if b < 1_000 { return "\(b) B" }
        if b < 1_000_000 { return "\(b / 1_000) kB" }
        if b < 1_000_000_000 { return String(format: "%.1f MB", Double(b) / 1e6) }
        return String(format: "%.2f GB", Double(b) / 1e9)
    }
}
