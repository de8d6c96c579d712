import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit
import Synchronization

/// The organizations each representative acts for, asked of intake (which owns representatives)
/// and kept for a short while, so a representative's requests do not each cost an extra call.
/// An inactive or unknown representative represents nobody. Intake's `RepresentativeAccessChanged`
/// event (watched by every gateway instance) drops a representative's answer at once
/// (``forget(_:)``).
public final class RepresentativeDirectory: Sendable {
    let lifetimeNanoseconds: UInt64
    private struct State {
        var entries: [String: (at: UInt64, organizations: [String])] = [:]
        /// Counts ``forget(_:)`` calls: an answer asked before one is not kept.
        var forgets: UInt64 = 0
    }
    private let cache = Mutex(State())

    /// - Parameter lifetimeSeconds: how long an answer is reused (a change in intake shows after it).
    public init(lifetimeSeconds: Int = 30) {
        self.lifetimeNanoseconds = UInt64(lifetimeSeconds) * 1_000_000_000
    }

    /// The organizations `representativeID` represents now (within the cache lifetime), asking
    /// `lookup` when the cache has no fresh answer.
    /// - Throws: what `lookup` throws (e.g. intake unavailable).
    public func organizations(of representativeID: String, lookup: (String) throws -> [String]) throws -> [String] {
        guard !representativeID.isEmpty else { return [] }
        let now = MonotonicClock.nanoseconds()
        let (cached, forgets) = cache.withLock { ($0.entries[representativeID], $0.forgets) }
        if let cached, now - cached.at < lifetimeNanoseconds {
            return cached.organizations
        }
        let organizations = try lookup(representativeID)
        cache.withLock { state in
            // A change announced while intake was being asked may postdate this answer.
            guard state.forgets == forgets else { return }
            if state.entries.count > 10_000 { state.entries.removeAll() }
            state.entries[representativeID] = (now, organizations)
        }
        return organizations
    }

    /// Drops what is known of `representativeID` (its organizations changed in intake); the next
    /// request of its people asks intake again.
    public func forget(_ representativeID: String) {
        cache.withLock { state in
            state.forgets &+= 1
            state.entries[representativeID] = nil
        }
    }

    /// Asks intake's `GetRepresentative` as the gateway itself.
    static func intakeLookup(_ gateway: Gateway) -> (String) throws -> [String] {
        { representativeID in
            var request = IntakeV1.RepresentativeRequest()
            request.representativeID = representativeID
            let options = CallOptions(timeoutMilliseconds: 5_000, metadata: gateway.signer.metadata(for: PrincipalSigner.service("gateway")))
            do {
                let bytes = try gateway.forward(service: "intake", path: IntakeV1.Intake.getRepresentative.path,
                                                payload: request.serializedBytes(), options: options)
                let representative = try IntakeV1.Representative(serializedBytes: bytes)
                return representative.active ? representative.organizationIDs : []
            } catch let error as RPCError where error.code == .notFound {
                return []
            }
        }
    }
}
