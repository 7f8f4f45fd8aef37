import Foundation
import SatchelFFI
import XCTest
@testable import Satchel

/// Base for tests that need an account which fetched the sample course from the reference server
/// `cargo xtask swift` runs on loopback (SATCHEL_CONTENT_URL, SATCHEL_PUBLISHER_KEY); the mirror
/// of android/satchel/src/test/kotlin/org/satchel/ServedCourseFixture.kt.
class ServedCourseFixture: XCTestCase {
    var dir: URL!
    var satchel: Satchel!
    var contentUrl: String!

    override func setUp() async throws {
        guard let (url, key) = servedCourse() else { return }
        contentUrl = url
        dir = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        satchel = try await SatchelAccounts.open(
            accountDir: dir, config: SatchelConfig(deviceName: "", trustedPublisherKeys: [key]))
        _ = try await satchel.fetchCourse(baseUrl: url, courseId: "web-basics")
    }

    override func tearDown() async throws {
        try await satchel?.shutdown()
        satchel = nil
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }
}

/// The loopback reference server's URL and publisher key, or nil (after failing the test) when
/// the test was not started by `cargo xtask swift`.
func servedCourse() -> (url: String, publisherKey: String)? {
    let env = ProcessInfo.processInfo.environment
    guard let url = env["SATCHEL_CONTENT_URL"], let key = env["SATCHEL_PUBLISHER_KEY"] else {
        XCTFail("SATCHEL_CONTENT_URL and SATCHEL_PUBLISHER_KEY must be set: run through cargo xtask swift")
        return nil
    }
    return (url, key)
}
