import Foundation
import Satchel
import XCTest

/// The mirror of android/satchel/src/test/kotlin/org/satchel/NetworkTypesTest.kt: path facts →
/// the core's network type, and what the core does with it. Imports only `Satchel`: the
/// generated types come with it.
final class NetworkTypesTests: ServedCourseFixture {
    private let homeWifi = NetworkPathFacts(status: .satisfied, interfaces: [.wifi])
    private let cellular = NetworkPathFacts(status: .satisfied, interfaces: [.cellular], isExpensive: true)

    func testWifiAndEthernetAreUnmeteredCellularAndHotspotsAreMetered() {
        XCTAssertEqual(NetworkTypes.of(homeWifi), .unmetered)
        XCTAssertEqual(NetworkTypes.of(NetworkPathFacts(status: .satisfied, interfaces: [.wiredEthernet])), .unmetered)
        XCTAssertEqual(NetworkTypes.of(cellular), .metered)
        // A personal hotspot is Wi-Fi that iOS reports as expensive.
        XCTAssertEqual(NetworkTypes.of(NetworkPathFacts(status: .satisfied, interfaces: [.wifi], isExpensive: true)), .metered)
    }

    func testLowDataModeIsMeteredEvenOnWifi() {
        var saving = homeWifi
        saving.isConstrained = true
        XCTAssertEqual(NetworkTypes.of(saving), .metered)
    }

    func testNoPathAnUnsatisfiedOneOrOnlyLoopbackIsNone() {
        XCTAssertEqual(NetworkTypes.of(nil), NetworkType.none)
        XCTAssertEqual(NetworkTypes.of(NetworkPathFacts(status: .unsatisfied, interfaces: [.wifi])), NetworkType.none)
        XCTAssertEqual(NetworkTypes.of(NetworkPathFacts(status: .requiresConnection, interfaces: [.cellular])), NetworkType.none)
        XCTAssertEqual(NetworkTypes.of(NetworkPathFacts(status: .satisfied, interfaces: [.loopback])), NetworkType.none)
        XCTAssertEqual(NetworkTypes.of(NetworkPathFacts(status: .satisfied, interfaces: [])), NetworkType.none)
    }

    func testTheCoreHoldsWifiOnlyDownloadsOnTheMappedCellularAndRunsThemOnWifi() async throws {
        let lesson = DownloadTarget.lesson(lessonId: "web-basics.dns")
        let id = try await satchel.enqueueDownload(target: lesson, rendition: .lite, priority: 0)[0].id
        satchel.setNetwork(network: NetworkTypes.of(cellular))
        let held = try await satchel.runDownloads(maxDurationMs: 10_000)
        XCTAssertEqual(held.outcome, .blocked)
        let waiting = try await satchel.listDownloads(courseId: nil).first { $0.id == id }
        XCTAssertEqual(waiting?.state, .waitingForNetwork)

        satchel.setNetwork(network: NetworkTypes.of(homeWifi))
        let ran = try await satchel.runDownloads(maxDurationMs: 30_000)
        XCTAssertEqual(ran.outcome, .finished)
        let done = try await satchel.listDownloads(courseId: nil).first { $0.id == id }
        XCTAssertEqual(done?.state, .done)
    }
}
