package org.satchel

/**
 * Where a core log line goes on each platform: a logcat tag on Android, an os_log category on
 * iOS (the Swift shell mirrors this). `tracing` targets are Rust module paths
 * (`satchel_core::downloads::runner`): the core's lines are grouped by their top module, lines of
 * libraries under the library's name, so a filter on one feature catches all of its lines.
 */
object LogTags {
    /** logcat refuses tags over 23 characters before Android 8 (API 26); minSdk is 24. */
    const val MAX_TAG_LENGTH = 23

    /** `satchel_core::downloads::runner` → `downloads`; `hyper_util::client` → `hyper_util`. */
    fun category(target: String): String {
        val parts = target.split("::").filter { it.isNotEmpty() }
        val first = parts.firstOrNull() ?: return "core"
        return if (first.startsWith("satchel")) parts.getOrNull(1) ?: "core" else first
    }

    /** The logcat tag: `Satchel/downloads`, cut to [MAX_TAG_LENGTH]. */
    fun tag(target: String): String = "Satchel/${category(target)}".take(MAX_TAG_LENGTH)
}
