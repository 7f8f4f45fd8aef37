import Foundation
import SatchelFFI
import XCTest
@testable import Satchel

/// Base for tests that need an open account with the small test course imported; the mirror of
/// android/satchel/src/test/kotlin/org/satchel/AccountFixture.kt.
class AccountFixture: XCTestCase {
    var dir: URL!
    var satchel: Satchel!

    override func setUp() async throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        satchel = try await SatchelAccounts.open(accountDir: dir)
        _ = try await satchel.importManifest(manifestJson: TestCourses.small)
    }

    override func tearDown() async throws {
        try await satchel.shutdown()
        try? FileManager.default.removeItem(at: dir)
    }
}
