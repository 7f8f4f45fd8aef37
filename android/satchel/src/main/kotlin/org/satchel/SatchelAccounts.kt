package org.satchel

import java.io.File
import org.satchel.core.Satchel
import org.satchel.core.SatchelConfig

/**
 * Hand-written conveniences over the generated bindings (package `org.satchel.core`).
 *
 * The generated `Satchel.open`, `pause` and `shutdown` are suspend functions that run on the
 * core's own threads: call them from any coroutine, the main thread's included.
 */
object SatchelAccounts {
    /**
     * Opens (creating if needed) the account stored in [accountDir]. Opening a directory that is
     * already open in this process (the UI and a Worker) returns the same account.
     */
    suspend fun open(accountDir: File, config: SatchelConfig = SatchelConfig()): Satchel =
        Satchel.open(accountDir.absolutePath, config)

    /**
     * Where an account lives inside the app's private files directory (`Context.filesDir` on
     * Android). One directory, and so one database, per account: accounts never share data.
     */
    fun accountDir(filesDir: File, accountId: String): File {
        require(accountId.isNotEmpty() && accountId.all { it.isLetterOrDigit() || it == '-' || it == '_' }) {
            "account ids are letters, digits, '-' and '_'"
        }
        return File(File(filesDir, "satchel"), accountId)
    }
}
