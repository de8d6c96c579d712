import Foundation
import Messages
import ServiceKit

/// The signed `principal` metadata of the callers seen lately, by the principal's encoded bytes:
/// the same principal signs to the same metadata (base64 and HMAC of the same bytes), so the
/// gateway signs each caller once instead of once per call. A principal that changes (role,
/// organizations represented, name) has other bytes and is signed anew; nothing else is reused.
final class SignedPrincipals: Sendable {
    private let signer: PrincipalSigner
    private let limit: Int
    /// A plain mutex (waiters sleep): taken on every call by many HTTP threads (see GatewayMetrics).
    private let entries = PlainLock<[[UInt8]: [String: String]]>([:])

    /// - Parameter limit: principals kept; past it the cache starts over (bounded memory).
    init(signer: PrincipalSigner, limit: Int = 4096) {
        self.signer = signer
        self.limit = limit
    }

    /// What ``PrincipalSigner/metadata(for:)`` answers for `principal`.
    func metadata(for principal: AuthV1.Principal) -> [String: String] {
        let bytes = principal.serializedBytes()
        if let known = entries.withLock({ $0[bytes] }) { return known }
        let signed = signer.metadata(forEncoded: bytes)
        entries.withLock { entries in
            if entries.count >= limit { entries.removeAll(keepingCapacity: true) }
            entries[bytes] = signed
        }
        return signed
    }
}
