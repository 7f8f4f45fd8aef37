import Foundation
import Satchel
import XCTest

/// The mirror of android/satchel/src/test/kotlin/org/satchel/LogTagTest.kt: core log targets →
/// os_log categories (logcat tags on Android).
final class LogTagTests: XCTestCase {
    func testCoreLinesAreGroupedByTheirTopModule() {
        XCTAssertEqual(LogTags.category("satchel_core::downloads::runner"), "downloads")
        XCTAssertEqual(LogTags.category("satchel_core::sync"), "sync")
        XCTAssertEqual(LogTags.category("satchel_core"), "core")
    }

    func testLibraryLinesGoUnderTheLibraryAndOddTargetsStillGetACategory() {
        XCTAssertEqual(LogTags.category("hyper_util::client::legacy"), "hyper_util")
        XCTAssertEqual(LogTags.category("rustls"), "rustls")
        XCTAssertEqual(LogTags.category(""), "core")
        XCTAssertEqual(LogTags.category("::"), "core")
    }
}
