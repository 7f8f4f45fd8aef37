import Foundation
import SatchelFFI
import XCTest
@testable import Satchel

/// The mirror of android/satchel/src/test/kotlin/org/satchel/ShareTest.kt: one account fetches
/// the sample course from the reference server `cargo xtask test` starts, downloads a reading
/// and exports the course to a file; a second account with no network imports it. Bad files are
/// typed errors. Needs SATCHEL_CONTENT_URL and SATCHEL_PUBLISHER_KEY.
final class ShareTests: XCTestCase {
    private var dir: URL!
    private var url: String!
    private var publisherKey: String!
    private let reading = "web-basics.reading-urls"

    private final class Recorder: ShareListener, @unchecked Sendable {
        private let lock = NSLock()
        private var seen: [ShareProgress] = []

        var events: [ShareProgress] {
            lock.lock()
            defer { lock.unlock() }
            return seen
        }

        func onProgress(progress: ShareProgress) {
            lock.lock()
            seen.append(progress)
            lock.unlock()
        }
    }

    override func setUpWithError() throws {
        let env = ProcessInfo.processInfo.environment
        guard let url = env["SATCHEL_CONTENT_URL"], let key = env["SATCHEL_PUBLISHER_KEY"] else {
            XCTFail("SATCHEL_CONTENT_URL and SATCHEL_PUBLISHER_KEY must be set: run these tests through cargo xtask test")
            return
        }
        self.url = url
        publisherKey = key
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("satchel-share-swift-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    private func account(_ name: String, keys: [String]) async throws -> Satchel {
        try await SatchelAccounts.open(
            accountDir: dir.appendingPathComponent(name),
            config: SatchelConfig(deviceName: "", trustedPublisherKeys: keys))
    }

    private func exported() async throws -> URL {
        let sender = try await account("sender", keys: [publisherKey])
        sender.setNetwork(network: .unmetered)
        _ = try await sender.fetchCourse(baseUrl: url, courseId: "web-basics")
        _ = try await sender.downloadRendition(lessonId: reading, rendition: .text)
        let file = dir.appendingPathComponent("web-basics.satchel")
        let recorder = Recorder()
        let size = try await sender.exportCourse(
            courseId: "web-basics", rendition: .text, path: file.path, listener: recorder)
        let onDisk = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int64
        XCTAssertEqual(onDisk, size)
        XCTAssertFalse(recorder.events.isEmpty)
        try await sender.shutdown()
        return file
    }

    func testACourseTravelsByFileToAPhoneWithNoNetwork() async throws {
        let file = try await exported()
        let receiver = try await account("receiver", keys: [publisherKey])
        receiver.setNetwork(network: .none)
        let recorder = Recorder()
        let imported = try await receiver.importCourse(path: file.path, listener: recorder)
        XCTAssertEqual(imported.outcome.courseId, "web-basics")
        XCTAssertGreaterThanOrEqual(imported.blobsAdded, 1)
        let files = try await receiver.renditionFiles(lessonId: reading, rendition: .text)
        let first = try XCTUnwrap(files?.first)
        XCTAssertFalse(try String(contentsOfFile: first.path, encoding: .utf8).isEmpty)
        let last = try XCTUnwrap(recorder.events.last)
        XCTAssertEqual(last.bytesDone, last.bytesTotal)
        try await receiver.shutdown()
    }

    func testABadOrUntrustedFileIsATypedErrorAndChangesNothing() async throws {
        let file = try await exported()
        let receiver = try await account("receiver", keys: [publisherKey])
        let whole = try Data(contentsOf: file)
        let truncated = dir.appendingPathComponent("truncated.satchel")
        try whole.prefix(whole.count / 2).write(to: truncated)
        let garbage = dir.appendingPathComponent("garbage.satchel")
        try Data("not a course".utf8).write(to: garbage)
        for bad in [truncated, garbage] {
            do {
                _ = try await receiver.importCourse(path: bad.path, listener: nil)
                XCTFail("\(bad.lastPathComponent) must be refused")
            } catch SatchelError.Integrity(let reason) {
                XCTAssertTrue(reason.contains("shared course file"), reason)
            }
        }
        let none = try await receiver.listCourses()
        XCTAssertTrue(none.isEmpty)
        try await receiver.shutdown()

        let stranger = try await account("stranger", keys: ["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="])
        do {
            _ = try await stranger.importCourse(path: file.path, listener: nil)
            XCTFail("a course signed by an untrusted key must be refused")
        } catch SatchelError.Integrity(let reason) {
            XCTAssertTrue(reason.contains("does not trust"), reason)
        }
        let nothing = try await stranger.listCourses()
        XCTAssertTrue(nothing.isEmpty)
        try await stranger.shutdown()
    }
}
