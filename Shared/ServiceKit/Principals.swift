import Foundation
import Messages
import RPC
import RPCTransport

/// Signs and verifies the principal a call is made on behalf of.
///
/// The gateway (or a service acting for someone) puts the principal in `principal` metadata as
/// base64 of `ocorrencias.auth.v1.Principal`, and `principal-signature` = hex HMAC-SHA256 of those
/// bytes with the deployment secret. Services never trust a principal without a valid signature.
///
/// Every signature is dated: ``metadata(for:)`` sets the principal's `issued_at_ms` and
/// `expires_at_ms` (``lifetimeMilliseconds`` later), and ``principal(of:)`` refuses one whose
/// dates are past (or ahead of this clock) by more than ``skewMilliseconds``, with
/// `UNAUTHENTICATED`, as a forged one. A principal captured off the service network (which is not
/// encrypted) is then worth minutes, not forever. Undated principals (signed by a release before
/// the dates) are refused unless ``acceptsUndated`` (`OCORRENCIAS_PRINCIPAL_ACCEPT_UNDATED=1`, for
/// the one rolling upgrade to this release). The principal a handler gets has the dates cleared.
///
/// ```swift
/// var metadata = PrincipalSigner(secret: secret).metadata(for: principal)
/// // in a handler:
/// let caller = try runtime.principals.require(context)
/// ```
public struct PrincipalSigner: Sendable {
    let secret: DeploymentSecret
    /// Principals this signer (and its copies) verified already (``principal(of:)``).
    let verified: VerifiedPrincipals
    static let label = Array("ocorrencias-principal-v1".utf8)
    /// How long a signature stays valid (15 minutes: longer than the longest call, 600 s, so a
    /// principal passed on from a call in progress is still valid at the service it reaches).
    public var lifetimeMilliseconds: Int64 = 15 * 60_000
    /// How far the dates may be off this host's clock (hosts' clocks differ a little).
    public var skewMilliseconds: Int64 = 60_000
    /// Whether principals without dates (an older release's signer) are accepted.
    public var acceptsUndated = false
    /// Now, in Unix epoch milliseconds (tests move it).
    public var clock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }

    /// The setting that lets undated principals in during a rolling upgrade.
    public static let acceptUndatedSetting = "OCORRENCIAS_PRINCIPAL_ACCEPT_UNDATED"

    public init(secret: DeploymentSecret) {
        self.secret = secret
        verified = VerifiedPrincipals()
    }

    /// A signer whose ``acceptsUndated`` follows `environment` (``acceptUndatedSetting``: `1` or `true`).
    public init(secret: DeploymentSecret, environment: [String: String]) {
        self.init(secret: secret)
        acceptsUndated = ["1", "true", "yes"].contains(environment[Self.acceptUndatedSetting]?.lowercased() ?? "")
    }

    /// The two metadata entries that carry `principal`, dated now to the minute (valid for
    /// ``lifetimeMilliseconds`` from the minute's start): one caller's signatures within a minute
    /// are the same texts, which services verify once (``VerifiedPrincipals``), whoever signs.
    public func metadata(for principal: AuthV1.Principal) -> [String: String] {
        var dated = principal
        let now = clock()
        dated.issuedAtMs = now - now % Self.dateGranularityMilliseconds
        dated.expiresAtMs = dated.issuedAtMs + lifetimeMilliseconds
        return signed(dated.serializedBytes())
    }

    /// Signatures are dated to the minute.
    public static let dateGranularityMilliseconds: Int64 = 60_000

    /// The two metadata entries that carry the principal encoded as `bytes`, as they are (their
    /// dates, if any, included): for tests that need an undated or a stale principal.
    public func metadata(forEncoded bytes: [UInt8]) -> [String: String] {
        signed(bytes)
    }

    private func signed(_ bytes: [UInt8]) -> [String: String] {
        [MetadataKey.principal: Data(bytes).base64EncodedString(),
         MetadataKey.principalSignature: Digest.hex(secret.mac(Self.label, bytes))]
    }

    /// The principal of a call, `nil` when the call carries none.
    ///
    /// The same two metadata texts verified before (by this signer or a copy) give the principal
    /// they gave then without checking the HMAC again (``VerifiedPrincipals``); their dates are
    /// checked every time. The principal is answered with its dates cleared.
    /// - Throws: `UNAUTHENTICATED` when a principal is present but its signature is wrong, or it
    ///   expired (or is undated, unless ``acceptsUndated``).
    public func principal(of metadata: [String: String]) throws -> AuthV1.Principal? {
        guard let encoded = metadata[MetadataKey.principal], !encoded.isEmpty else { return nil }
        if let signature = metadata[MetadataKey.principalSignature],
           let known = verified.principal(encoded: encoded, signature: signature) {
            return try current(known)
        }
        guard let data = Data(base64Encoded: encoded), let signature = metadata[MetadataKey.principalSignature],
              let mac = Self.unhex(signature), secret.verify(mac, Self.label, Array(data)) else {
            throw RPCError(.unauthenticated, "identidade do chamador inválida / invalid caller identity")
        }
        let principal: AuthV1.Principal
        do { principal = try AuthV1.Principal(serializedBytes: Array(data)) } catch {
            throw RPCError(.unauthenticated, "identidade do chamador inválida / invalid caller identity")
        }
        verified.remember(principal, encoded: encoded, signature: signature)
        return try current(principal)
    }

    /// `principal` without its dates, when they hold now.
    /// - Throws: `UNAUTHENTICATED` for an expired, future-dated or (unless ``acceptsUndated``) undated one.
    func current(_ principal: AuthV1.Principal) throws -> AuthV1.Principal {
        if principal.issuedAtMs == 0 && principal.expiresAtMs == 0 {
            guard acceptsUndated else {
                throw RPCError(.unauthenticated, "identidade do chamador sem validade / caller identity without an expiry")
            }
            return principal
        }
        let now = clock()
        guard principal.issuedAtMs <= now + skewMilliseconds, now <= principal.expiresAtMs + skewMilliseconds else {
            throw RPCError(.unauthenticated, "identidade do chamador expirada / caller identity expired")
        }
        var plain = principal
        plain.issuedAtMs = 0
        plain.expiresAtMs = 0
        return plain
    }

    /// The principal of a call that must act on someone's behalf.
    /// - Throws: `UNAUTHENTICATED` when absent or forged.
    public func require(_ context: ServerContext) throws -> AuthV1.Principal {
        guard let principal = try principal(of: context.metadata) else {
            throw RPCError(.unauthenticated, "chamada sem identidade / call without a principal")
        }
        return principal
    }

    /// The principal a service uses for work it does on its own (timers, event handlers).
    public static func service(_ name: String) -> AuthV1.Principal {
        var principal = AuthV1.Principal()
        principal.kind = .service
        principal.id = name
        principal.displayName = name
        principal.administrator = true
        principal.accessLevel = Int32.max
        return principal
    }

    /// The bytes of hexadecimal `text` (either case), nil when it is not an even number of hex
    /// digits. Reads the UTF-8 bytes directly (it runs for every call that carries a principal).
    static func unhex(_ text: String) -> [UInt8]? {
        func nibble(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit &- UInt8(ascii: "a") &+ 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit &- UInt8(ascii: "A") &+ 10
            default: nil
            }
        }
        let utf8 = text.utf8
        guard utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var high: UInt8?
        for digit in utf8 {
            guard let value = nibble(digit) else { return nil }
            if let first = high {
                bytes.append(first << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        return bytes
    }
}
