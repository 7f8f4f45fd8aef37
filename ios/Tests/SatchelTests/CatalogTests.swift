import Foundation
import SatchelFFI
import XCTest
@testable import Satchel

/// The mirror of android/satchel/src/test/kotlin/org/satchel/CatalogTest.kt, run with `swift test`
/// on macOS after ./build-xcframework.sh, and on Linux by `cargo xtask swift` (docs/mobile.md).
final class CatalogTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }


    func testImportsAManifestAndReadsTheOutlineBack() async throws {
        let satchel = try await SatchelAccounts.open(
            accountDir: dir.appendingPathComponent("learner"), config: SatchelConfig(deviceName: "Swift test"))
        let outcome = try await satchel.importManifest(manifestJson: TestCourses.small)
        XCTAssertEqual(outcome.status, .installed)
        XCTAssertEqual(outcome.lessonCount, 3)

        let outline = try await satchel.courseOutline(courseId: "kt-course")
        XCTAssertEqual(outline.course.title, "Kotlin test course")
        XCTAssertEqual(outline.modules.first?.lessons.map(\.id), ["kt.video", "kt.reading", "kt.quiz"])
        XCTAssertEqual(outline.course.sizes.liteBytes, 1_200_000)

        let video = try await satchel.lesson(lessonId: "kt.video")
        XCTAssertEqual(video.kind, .video)
        XCTAssertEqual(video.renditions.map(\.kind), [.full, .lite])

        let linked = try await satchel.linkedLectures(lessonId: "kt.video")
        XCTAssertEqual(linked.map(\.lesson.id), ["kt.reading"])
        let again = try await satchel.importManifest(manifestJson: TestCourses.small)
        XCTAssertEqual(again.status, .unchanged)
        try await satchel.shutdown()
    }

    func testABadManifestIsATypedErrorAndChangesNothing() async throws {
        let satchel = try await SatchelAccounts.open(accountDir: dir)
        do {
            _ = try await satchel.importManifest(manifestJson: #"{"format": 1, "id": "x", "version": 1, "modules": []}"#)
            XCTFail("a manifest without a title must be refused")
        } catch SatchelError.InvalidInput(let reason) {
            XCTAssertTrue(reason.contains("title"), reason)
        }
        let courses = try await satchel.listCourses()
        XCTAssertTrue(courses.isEmpty)
        try await satchel.shutdown()
    }

    func testAShutDownInstanceRefusesWork() async throws {
        let satchel = try await SatchelAccounts.open(accountDir: dir)
        try await satchel.shutdown()
        try await satchel.shutdown()
        do {
            _ = try await satchel.listCourses()
            XCTFail("expected Closed")
        } catch SatchelError.Closed {}
    }

    func testAForeignFileIsRefusedAndKept() async throws {
        let account = dir.appendingPathComponent("acct")
        try FileManager.default.createDirectory(at: account, withIntermediateDirectories: true)
        let db = account.appendingPathComponent("satchel.db")
        try "not a database, and not ours to wipe".write(to: db, atomically: true, encoding: .utf8)
        do {
            _ = try await Satchel.open(accountDir: account.path, config: SatchelConfig())
            XCTFail("expected IncompatibleStore")
        } catch SatchelError.IncompatibleStore {}
        XCTAssertEqual(try String(contentsOf: db, encoding: .utf8), "not a database, and not ours to wipe")
    }
}
