import Foundation
import SatchelFFI
import XCTest
@testable import Satchel

/// The mirror of android/satchel/src/test/kotlin/org/satchel/ContentTest.kt. Needs a reference
/// server with the packed sample course: set SATCHEL_CONTENT_URL and SATCHEL_PUBLISHER_KEY
/// (`satchel-server sample-course`, `keygen`, `pack`, `serve`, as cargo xtask test does).
final class ContentTests: XCTestCase {
    private var dir: URL!
    private var contentUrl: String!
    private var publisherKey: String!

    override func setUpWithError() throws {
        let env = ProcessInfo.processInfo.environment
        guard let url = env["SATCHEL_CONTENT_URL"], let key = env["SATCHEL_PUBLISHER_KEY"] else {
            XCTFail("SATCHEL_CONTENT_URL and SATCHEL_PUBLISHER_KEY must be set")
            return
        }
        contentUrl = url
        publisherKey = key
        dir = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    func testFetchesAVerifiedCourseAndALiteLecture() async throws {
        let satchel = try await SatchelAccounts.open(
            accountDir: dir, config: SatchelConfig(deviceName: "", trustedPublisherKeys: [publisherKey]))
        let outcome = try await satchel.fetchCourse(baseUrl: contentUrl, courseId: "web-basics")
        XCTAssertEqual(outcome.lessonCount, 10)
        let sizes = try await satchel.courseOutline(courseId: "web-basics").course.sizes
        XCTAssertLessThan(sizes.liteBytes * 20, sizes.fullBytes)

        let lecture = "web-basics.what-happens"
        let before = try await satchel.renditionFiles(lessonId: lecture, rendition: .lite)
        XCTAssertNil(before)
        satchel.setNetwork(network: .unmetered)
        let files = try await satchel.downloadRendition(lessonId: lecture, rendition: .lite)
        let after = try await satchel.renditionFiles(lessonId: lecture, rendition: .lite)
        XCTAssertEqual(after, files)
        let lite = try await satchel.liteLecture(lessonId: lecture)
        XCTAssertTrue(lite?.cues.first?.text.hasPrefix("Welcome to the first lecture") ?? false)
        XCTAssertGreaterThanOrEqual(lite?.slides.count ?? 0, 5)
        try await satchel.shutdown()
    }

    /// What an app branches on, without parsing text: the kind and the host's status.
    func testAMissingCourseIsANetworkErrorWithItsHttpStatusAsANumber() async throws {
        let satchel = try await SatchelAccounts.open(
            accountDir: dir, config: SatchelConfig(deviceName: "", trustedPublisherKeys: [publisherKey]))
        do {
            _ = try await satchel.fetchCourse(baseUrl: contentUrl, courseId: "no-such-course")
            XCTFail("a course the host does not have must fail")
        } catch let SatchelError.Network(kind, httpStatus, _, _) {
            XCTAssertEqual(kind, .httpStatus)
            XCTAssertEqual(httpStatus, 404)
        }
        try await satchel.shutdown()
    }

    func testAnUntrustedPublisherIsATypedError() async throws {
        let stranger = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
        let satchel = try await SatchelAccounts.open(
            accountDir: dir, config: SatchelConfig(deviceName: "", trustedPublisherKeys: [stranger]))
        do {
            _ = try await satchel.fetchCourse(baseUrl: contentUrl, courseId: "web-basics")
            XCTFail("a course signed by another key must be refused")
        } catch SatchelError.Integrity(let reason) {
            XCTAssertTrue(reason.contains("does not trust"), reason)
        }
        try await satchel.shutdown()
    }
}
