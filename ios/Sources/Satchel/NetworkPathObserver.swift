// The NWPathMonitor adapter: every path change becomes `setNetwork(NetworkTypes.of(facts))`.
// Apple-only (the Network framework), so the Linux build skips it; the decision is
// `NetworkTypes` (tested on Linux).
#if canImport(Network)
import Foundation
import Network

/// Feeds the current network path to the core. Start it when the account opens and cancel it
/// when it closes. Updates arrive on the observer's own queue; `setNetwork` only stores the
/// value and wakes a waiting run, so it is safe there.
public final class NetworkPathObserver: @unchecked Sendable {
    private let monitor = NWPathMonitor()
    private let queue = DispatchQueue(label: "org.satchel.network-path")
    private let satchel: Satchel

    public init(satchel: Satchel) {
        self.satchel = satchel
    }

    public func start() {
        monitor.pathUpdateHandler = { [satchel] path in
            satchel.setNetwork(network: NetworkTypes.of(Self.facts(path)))
        }
        monitor.start(queue: queue)
    }

    public func cancel() {
        monitor.cancel()
        satchel.setNetwork(network: .none)
    }

    private static func facts(_ path: NWPath) -> NetworkPathFacts {
        let status: NetworkPathFacts.Status
        switch path.status {
        case .satisfied: status = .satisfied
        case .requiresConnection: status = .requiresConnection
        default: status = .unsatisfied
        }
        let kinds: [(NWInterface.InterfaceType, Interface)] = [
            (.wifi, .wifi), (.cellular, .cellular), (.wiredEthernet, .wiredEthernet), (.loopback, .loopback), (.other, .other),
        ]
        let interfaces = Set(kinds.filter { path.usesInterfaceType($0.0) }.map(\.1))
        return NetworkPathFacts(
            status: status, interfaces: interfaces, isExpensive: path.isExpensive, isConstrained: path.isConstrained)
    }
}
#endif
