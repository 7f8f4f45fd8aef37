import Foundation

/// The interface types `NWPath` names (`NWInterface.InterfaceType`), as plain values: the adapter
/// (`NetworkPathObserver`, behind `#if canImport(Network)`) translates the platform's, so the
/// decision below is plain Swift tested on Linux. The mirror of android/…/NetworkTypes.kt.
public enum Interface: Hashable, Sendable {
    case wifi, cellular, wiredEthernet, loopback, other
}

/// What `NWPath` says about the current path.
public struct NetworkPathFacts: Equatable, Sendable {
    public enum Status: Sendable { case satisfied, unsatisfied, requiresConnection }

    public var status: Status
    public var interfaces: Set<Interface>
    /// `NWPath.isExpensive`: cellular, or a personal hotspot.
    public var isExpensive: Bool
    /// `NWPath.isConstrained`: the learner turned on Low Data Mode.
    public var isConstrained: Bool

    public init(status: Status, interfaces: Set<Interface>, isExpensive: Bool = false, isConstrained: Bool = false) {
        self.status = status
        self.interfaces = interfaces
        self.isExpensive = isExpensive
        self.isConstrained = isConstrained
    }
}

/// Path facts → the core's `NetworkType`: what `Satchel.setNetwork` is told.
public enum NetworkTypes {
    /// - `.none` unless the path is satisfied (`requiresConnection` is a VPN on demand or a
    ///   cellular radio not up yet: nothing reaches the host until it is). A path with only the
    ///   loopback interface is no network either.
    /// - `.unmetered` only when the system says it costs nothing and the learner did not ask to
    ///   save data: not expensive, not constrained (Low Data Mode is the iOS Data Saver).
    /// - `.metered` otherwise.
    public static func of(_ facts: NetworkPathFacts?) -> NetworkType {
        guard let facts, facts.status == .satisfied, !facts.interfaces.subtracting([.loopback]).isEmpty else {
            return .none
        }
        return facts.isExpensive || facts.isConstrained ? .metered : .unmetered
    }
}
