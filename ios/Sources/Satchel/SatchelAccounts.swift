import Foundation
import SatchelFFI

/// Hand-written conveniences over the generated bindings; the mirror of the Android shell's
/// `SatchelAccounts` (android/satchel/src/main/kotlin/org/satchel/SatchelAccounts.kt).
///
/// The generated `Satchel.open`, `pause` and `shutdown` are async and run on the core's own
/// threads: await them from any task, the main actor's included.
public enum SatchelAccounts {
    /// Opens (creating if needed) the account stored in `accountDir`. Opening a directory that is
    /// already open in this process (the app and a background task) returns the same account.
    public static func open(accountDir: URL, config: SatchelConfig = SatchelConfig()) async throws -> Satchel {
        try await Satchel.open(accountDir: accountDir.path, config: config)
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
