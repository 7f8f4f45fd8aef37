import Foundation
import SatchelFFI

/// Hand-written conveniences over the generated bindings; the mirror of the Android shell's
/// `SatchelAccounts` (android/satchel/src/main/kotlin/org/satchel/SatchelAccounts.kt).
///
/// The generated `Satchel.open` blocks while it opens and may migrate a database, so apps call
/// `SatchelAccounts.open` instead, which keeps it off the main actor.
public enum SatchelAccounts {
    /// Opens (creating if needed) the account stored in `accountDir`, off the calling thread.
    public static func open(accountDir: URL, config: SatchelConfig = SatchelConfig()) async throws -> Satchel {
        try await Task.detached(priority: .userInitiated) {
            try Satchel.open(accountDir: accountDir.path, config: config)
        }.value
    }

    /// Where an account lives inside the app's Application Support directory. One directory, and
    /// so one database, per account: accounts never share data.
    public static func accountDir(appSupport: URL, accountId: String) throws -> URL {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_"))
        guard !accountId.isEmpty, accountId.unicodeScalars.allSatisfy(allowed.contains) else {
            throw SatchelAccountsError.invalidAccountId
        }
        return appSupport.appendingPathComponent("satchel").appendingPathComponent(accountId)
    }
}

/// Errors of the hand-written shell (the core's own errors are `SatchelError`).
public enum SatchelAccountsError: Error {
    /// Account ids are letters, digits, "-" and "_".
    case invalidAccountId
}
