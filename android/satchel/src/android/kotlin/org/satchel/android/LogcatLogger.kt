package org.satchel.android

import android.util.Log
import org.satchel.LogTags
import org.satchel.core.LogLevel
import org.satchel.core.LogRecord
import org.satchel.core.SatchelLogger
import org.satchel.core.installLogger

/**
 * The core's log lines in logcat, tagged `Satchel/<module>` (`LogTags`, tested on the JVM).
 * The core calls it on its own threads; `Log.println` is thread-safe. Lines carry no tokens or
 * learner text (the core's rule), so they are safe in a bug report.
 */
class LogcatLogger : SatchelLogger {
    override fun log(record: LogRecord) {
        Log.println(priority(record.level), LogTags.tag(record.target), record.message)
    }

    private fun priority(level: LogLevel): Int = when (level) {
        LogLevel.ERROR -> Log.ERROR
        LogLevel.WARN -> Log.WARN
        LogLevel.INFO -> Log.INFO
        LogLevel.DEBUG -> Log.DEBUG
        LogLevel.TRACE -> Log.VERBOSE
    }

    companion object {
        /** Once, in `Application.onCreate`: INFO for release builds, DEBUG while developing. */
        fun install(maxLevel: LogLevel) = installLogger(LogcatLogger(), maxLevel)
    }
}
