import Foundation

/// Where a core log line goes: its os_log category; the mirror of the Android shell's logcat
/// tags (android/satchel/src/main/kotlin/org/satchel/LogTags.kt). The core's lines are grouped
/// by their top module (`satchel_core::downloads::runner` → `downloads`), a library's under its
/// name (`hyper_util::client` → `hyper_util`).
public enum LogTags {
    public static let subsystem = "org.satchel"

    public static func category(_ target: String) -> String {
        let parts = target.components(separatedBy: "::").filter { !$0.isEmpty }
        guard let first = parts.first else { return "core" }
        if first.hasPrefix("satchel") { return parts.count > 1 ? parts[1] : "core" }
        return first
    }
}
