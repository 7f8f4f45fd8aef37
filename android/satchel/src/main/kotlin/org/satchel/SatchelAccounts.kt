package org.satchel

import java.io.File
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext
import org.satchel.core.Satchel
import org.satchel.core.SatchelConfig

/**
 * Hand-written conveniences over the generated bindings (package `org.satchel.core`).
 *
 * The generated `Satchel.open` is a blocking call: it opens and may migrate a database. Apps call
 * these instead so that it never runs on the main thread.
 */
object SatchelAccounts {
    /** Opens (creating if needed) the account stored in [accountDir], on the IO dispatcher. */
    suspend fun open(accountDir: File, config: SatchelConfig = SatchelConfig()): Satchel =
        withContext(Dispatchers.IO) { Satchel.open(accountDir.absolutePath, config) }

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
