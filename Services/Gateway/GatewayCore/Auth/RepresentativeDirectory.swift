import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit
import Synchronization

/// The organizations each representative acts for, asked of intake (which owns representatives)
/// and kept for a short while, so a representative's requests do not each cost an extra call.
/// An inactive or unknown representative represents nobody, and an inactive organization is
/// nobody's to act for (``OrganizationAccess``: the representative keeps its other ones).
/// Intake's `RepresentativeAccessChanged` event (watched by every gateway instance) drops a
/// representative's answer at once (``forget(_:)``), and a `DirectoryChanged` of an organization
/// it acts for, active or not, the answers that name it (``forget(organization:)``).
public final class RepresentativeDirectory: Sendable {
    let lifetimeNanoseconds: UInt64
    private struct State {
        var entries: [String: (at: UInt64, organizations: [String], named: Set<String>)] = [:]
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
    /// - Parameter lookup: the representative's organizations, each with whether it is active.
    public func organizations(of representativeID: String, lookup: (String) throws -> [(id: String, active: Bool)]) throws -> [String] {
        guard !representativeID.isEmpty else { return [] }
        let now = MonotonicClock.nanoseconds()
        let (cached, forgets) = cache.withLock { ($0.entries[representativeID], $0.forgets) }
        if let cached, now - cached.at < lifetimeNanoseconds {
            return cached.organizations
        }
        let listed = try lookup(representativeID)
        let organizations = listed.filter(\.active).map(\.id)
        cache.withLock { state in
            // A change announced while intake was being asked may postdate this answer.
            guard state.forgets == forgets else { return }
            if state.entries.count > 10_000 { state.entries.removeAll() }
            state.entries[representativeID] = (now, organizations, Set(listed.map(\.id)))
        }
        return organizations
    }

    /// Drops the answers naming `organizationID` (active or not): it may have been activated or
    /// deactivated. Keys of other entries (a contact's `DirectoryChanged`) match nothing.
    public func forget(organization organizationID: String) {
        cache.withLock { state in
            let named = state.entries.filter { $0.value.named.contains(organizationID) }.map(\.key)
            guard !named.isEmpty else { return }
            state.forgets &+= 1
            for representativeID in named { state.entries[representativeID] = nil }
        }
    }

    /// Drops what is known of `representativeID` (its organizations changed in intake); the next
    /// request of its people asks intake again.
    public func forget(_ representativeID: String) {
        cache.withLock { state in
            state.forgets &+= 1
            state.entries[representativeID] = nil
        }
    }

    /// Asks intake's `GetRepresentative` as the gateway itself, then (an active one) its
    /// organizations with their state (`ListRepresentativeOrganizations`).
    static func intakeLookup(_ gateway: Gateway) -> (String) throws -> [(id: String, active: Bool)] {
        { representativeID in
            var request = IntakeV1.RepresentativeRequest()
            request.representativeID = representativeID
            let options = CallOptions(timeoutMilliseconds: 5_000, metadata: gateway.signer.metadata(for: PrincipalSigner.service("gateway")))
            do {
                let bytes = try gateway.forward(service: "intake", path: IntakeV1.Intake.getRepresentative.path,
                                                payload: request.serializedBytes(), options: options)
                let representative = try IntakeV1.Representative(serializedBytes: bytes)
                guard representative.active, !representative.organizationIDs.isEmpty else { return [] }
                request.includeInactive = true
                let listed = try IntakeV1.ListOrganizationsResponse(serializedBytes: try gateway.forward(
                    service: "intake", path: IntakeV1.Intake.listRepresentativeOrganizations.path, payload: request.serializedBytes(), options: options))
                return listed.organizations.map { ($0.id, $0.active) }
            } catch let error as RPCError where error.code == .notFound {
                return []
            }
        }
    }
}
