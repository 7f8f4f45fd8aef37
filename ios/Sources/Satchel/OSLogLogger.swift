// The os_log adapter: the core's log lines in the unified log, subsystem `org.satchel`, one
// category per core module (`LogTags`, tested on Linux). Apple-only, so the Linux build skips it.
#if canImport(os)
import Foundation
import os

/// Install once at launch: `try OSLogLogger.install(maxLevel: .info)`. The core calls it on its
/// own threads; `Logger` is thread-safe. Lines carry no tokens or learner text (the core's
/// rule), so they are logged as public: a sysdiagnose from a learner's phone shows them.
public final class OSLogLogger: SatchelLogger, @unchecked Sendable {
    private let lock = NSLock()
    private var loggers: [String: Logger] = [:]

    public init() {}

    public func log(record: LogRecord) {
        let logger = self.logger(LogTags.category(record.target))
        switch record.level {
        case .error: logger.error("\(record.message, privacy: .public)")
        case .warn: logger.warning("\(record.message, privacy: .public)")
        case .info: logger.info("\(record.message, privacy: .public)")
        case .debug, .trace: logger.debug("\(record.message, privacy: .public)")
        }
    }

    public static func install(maxLevel: LogLevel) throws {
        try installLogger(logger: OSLogLogger(), maxLevel: maxLevel)
    }

    private func logger(_ category: String) -> Logger {
        lock.lock()
        defer { lock.unlock() }
        if let logger = loggers[category] { return logger }
        let logger = Logger(subsystem: LogTags.subsystem, category: category)
        loggers[category] = logger
        return logger
    }
}
#endif
