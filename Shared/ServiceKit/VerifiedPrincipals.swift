import Messages
import Synchronization

/// The principals a service verified lately, by the exact `principal` and `principal-signature`
/// metadata texts they came with: the gateway signs each caller once, so the same caller's calls
/// carry the same two texts, and the HMAC, base64 and protobuf decoding of them are done once
/// rather than on every call. Only texts whose signature checked out are kept: a forged or
/// altered pair never matches an entry and is verified (and refused) as before.
final class VerifiedPrincipals: Sendable {
    private struct Key: Hashable {
        let encoded: String
        let signature: String
    }

    private let limit: Int
    private let entries = Mutex<[Key: AuthV1.Principal]>([:])

    /// - Parameter limit: entries kept; past it the cache starts over (bounded memory).
    init(limit: Int = 4096) {
        self.limit = limit
    }

    /// The principal verified earlier with exactly these texts, if any.
    func principal(encoded: String, signature: String) -> AuthV1.Principal? {
        let key = Key(encoded: encoded, signature: signature)
        return entries.withLock { $0[key] }
    }

    /// Records a principal whose texts were just verified.
    func remember(_ principal: AuthV1.Principal, encoded: String, signature: String) {
        let key = Key(encoded: encoded, signature: signature)
        entries.withLock { entries in
            if entries.count >= limit { entries.removeAll(keepingCapacity: true) }
            entries[key] = principal
        }
    }

    /// Entries held (for tests).
    var count: Int { entries.withLock { $0.count } }
}
