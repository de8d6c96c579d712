import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit
import Synchronization

/// The organizations each representative acts for, asked of intake (which owns representatives)
/// and kept for a short while, so a representative's requests do not each cost an extra call.
/// An inactive or unknown representative represents nobody.
public final class RepresentativeDirectory: Sendable {
    let lifetimeNanoseconds: UInt64
    private let cache = Mutex<[String: (at: UInt64, organizations: [String])]>([:])

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
        if let cached = cache.withLock({ $0[representativeID] }), now - cached.at < lifetimeNanoseconds {
            return cached.organizations
        }
        let organizations = try lookup(representativeID)
        cache.withLock { entries in
            if entries.count > 10_000 { entries.removeAll() }
            entries[representativeID] = (now, organizations)
        }
        return organizations
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
