import Foundation

/// What a background job tells its scheduler; the mirror of the Android shell's `WorkResult`
/// (android/satchel/src/main/kotlin/org/satchel/WorkDecisions.kt). On iOS, `.success` completes
/// the BGTask and schedules nothing, `.retry` completes it and submits the next request, and
/// `.failure` completes it unsuccessfully and waits for the learner.
public enum WorkResult: Sendable {
    case success
    case retry
    case failure
}

/// A `WorkResult` with why (for logs), and how long the server asked to wait when it did.
public struct WorkDecision: Equatable, Sendable {
    public let result: WorkResult
    public let reason: String
    public let retryAfterMs: Int64?

    public init(_ result: WorkResult, _ reason: String, retryAfterMs: Int64? = nil) {
        self.result = result
        self.reason = reason
        self.retryAfterMs = retryAfterMs
    }
}

/// The one place a run's or a sync's result, or an error, becomes a `WorkDecision`; the same
/// rules as on Android, so both platforms retry the same things (see WorkDecisions.kt for why
/// each rule is what it is).
public enum WorkDecisions {
    public static func forDownloads(_ summary: RunSummary) -> WorkDecision {
        switch summary.outcome {
        case .finished:
            return WorkDecision(.success, summary.failed > 0 ? "finished; \(summary.failed) failed and wait for the learner" : "finished")
        case .blocked:
            return WorkDecision(.retry, "blocked: \(summary.remaining) wait for a network or budget")
        case .deadlineReached:
            return moreToDo(summary.remaining, "deadline reached")
        case .stopped:
            return moreToDo(summary.remaining, "stopped")
        }
    }

    public static func forSync(_ report: SyncReport) -> WorkDecision {
        switch report.outcome {
        case .finished:
            return WorkDecision(.success, "synced: \(report.pushed) sent, \(report.pulled) received")
        case .blocked:
            return WorkDecision(.retry, "blocked: \(report.remaining) changes wait for a network or budget")
        case .deadlineReached:
            return moreToDo(report.remaining, "deadline reached")
        case .stopped:
            return moreToDo(report.remaining, "stopped")
        case .failed(let kind, let httpStatus, _):
            return forNetwork(kind, httpStatus: httpStatus, retryAfterMs: nil)
        }
    }

    /// A thrown error; anything that is not a `SatchelError` is a bug: `.failure`.
    public static func forError(_ error: Error) -> WorkDecision {
        guard let error = error as? SatchelError else {
            return WorkDecision(.failure, "not a core error: \(type(of: error))")
        }
        switch error {
        case .Network(let kind, let httpStatus, let retryAfterMs, _):
            return forNetwork(kind, httpStatus: httpStatus, retryAfterMs: retryAfterMs)
        case .Storage(let kind, _):
            switch kind {
            case .diskFull: return WorkDecision(.failure, "the disk is full: the learner must free space")
            case .quotaFull: return WorkDecision(.failure, "the download quota is full: the learner must raise it or delete")
            case .corrupt: return WorkDecision(.failure, "stored data is damaged: report it")
            case .io: return WorkDecision(.retry, "an I/O error, possibly passing")
            }
        case .Integrity: return WorkDecision(.retry, "content failed verification")
        case .InvalidInput: return WorkDecision(.failure, "invalid input: a bug in the caller")
        case .NotFound: return WorkDecision(.failure, "not found")
        case .IncompatibleStore: return WorkDecision(.failure, "the account's store cannot be opened by this build")
        case .Closed: return WorkDecision(.failure, "the account was closed")
        case .Internal: return WorkDecision(.failure, "a bug in the core: report it")
        }
    }

    public static func forNetwork(_ kind: NetworkErrorKind, httpStatus: Int32?, retryAfterMs: Int64?) -> WorkDecision {
        switch kind {
        case .notAllowed: return WorkDecision(.retry, "the network or the Wi-Fi-only setting holds it")
        case .budgetExhausted: return WorkDecision(.failure, "the cellular data budget is used up")
        case .unreachable: return WorkDecision(.retry, "the host cannot be reached")
        case .certificateRejected: return WorkDecision(.retry, "the host's certificate was refused")
        case .interrupted: return WorkDecision(.retry, "the connection broke")
        case .httpStatus: return forHttpStatus(httpStatus, retryAfterMs: retryAfterMs)
        case .badReply: return WorkDecision(.retry, "an unusable reply")
        case .signInRequired: return WorkDecision(.failure, "the learner must sign in")
        case .notConfigured: return WorkDecision(.failure, "sync is not configured")
        case .other: return WorkDecision(.failure, "an unexpected network error: report it")
        }
    }

    private static func forHttpStatus(_ status: Int32?, retryAfterMs: Int64?) -> WorkDecision {
        guard let status else { return WorkDecision(.retry, "an HTTP error without a status") }
        if status == 408 || status == 425 || status == 429 || status >= 500 {
            return WorkDecision(.retry, "HTTP \(status)", retryAfterMs: retryAfterMs.map { max($0, 0) })
        }
        return WorkDecision(.failure, "HTTP \(status)")
    }

    private static func moreToDo(_ remaining: Int32, _ what: String) -> WorkDecision {
        remaining > 0 ? WorkDecision(.retry, "\(what) with \(remaining) left") : WorkDecision(.success, "\(what) with nothing left")
    }
}

extension Satchel {
    /// One background download job: runs until the deadline or until the awaiting `Task` is
    /// cancelled (a BGTask's expiration handler), and says what to schedule next. The mirror of
    /// the Android shell's `downloadWork`.
    public func downloadWork(maxDurationMs: Int64) async -> WorkDecision {
        do {
            return WorkDecisions.forDownloads(try await runDownloadsUntilCancelled(maxDurationMs: maxDurationMs))
        } catch {
            return WorkDecisions.forError(error)
        }
    }

    /// One background sync job (see `downloadWork`).
    public func syncWork(maxDurationMs: Int64) async -> WorkDecision {
        do {
            return WorkDecisions.forSync(try await syncUntilCancelled(maxDurationMs: maxDurationMs))
        } catch {
            return WorkDecisions.forError(error)
        }
    }
}
