import Foundation
import Messages
import ServiceKit

/// The signed `principal` metadata of the callers seen lately, by the principal's encoded bytes:
/// the same principal signs to the same metadata for a while, so the gateway signs each caller
/// about once a minute instead of once per call. A principal that changes (role, organizations
/// represented, name) has other bytes and is signed anew. Signatures are dated
/// (``PrincipalSigner/metadata(for:)``): one older than ``refreshMilliseconds`` is made again, so
/// what a service receives is always valid for most of its lifetime.
final class SignedPrincipals: Sendable {
    private let signer: PrincipalSigner
    private let limit: Int
    /// How old a kept signature may be before it is made again (a minute).
    let refreshMilliseconds: Int64
    /// A plain mutex (waiters sleep): taken on every call by many HTTP threads (see GatewayMetrics).
    private let entries = PlainLock<[[UInt8]: (signedAt: Int64, metadata: [String: String])]>([:])

    /// - Parameter limit: principals kept; past it the cache starts over (bounded memory).
    init(signer: PrincipalSigner, limit: Int = 4096, refreshMilliseconds: Int64 = 60_000) {
        self.signer = signer
        self.limit = limit
        self.refreshMilliseconds = min(refreshMilliseconds, signer.lifetimeMilliseconds / 2)
    }

    /// What ``PrincipalSigner/metadata(for:)`` answers for `principal` (made at most
    /// ``refreshMilliseconds`` ago).
    func metadata(for principal: AuthV1.Principal) -> [String: String] {
        let bytes = principal.serializedBytes()
        let now = signer.clock()
        if let known = entries.withLock({ $0[bytes] }), now - known.signedAt < refreshMilliseconds, now >= known.signedAt {
            return known.metadata
        }
        let signed = signer.metadata(for: principal)
        entries.withLock { entries in
            if entries.count >= limit { entries.removeAll(keepingCapacity: true) }
            entries[bytes] = (now, signed)
        }
        return signed
    }
}
