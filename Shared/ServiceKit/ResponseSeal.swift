import CSodium
import Foundation
import RPC
import RPCTransport

/// Seals the answers an idempotency key keeps when they carry a secret (a webhook's signing
/// secret, an API key, an invitation's link token), so the row in `storage_idempotency` never
/// holds the secret in clear while a retry still gets the very same answer back.
///
/// libsodium's `crypto_secretbox` (XSalsa20-Poly1305) under a key derived from the deployment
/// secret (`OCORRENCIAS_SECRET`): HMAC-SHA256 of a purpose label keyed by the secret, so the key
/// serves this purpose only and every instance of a deployment derives the same one. Sealed
/// bytes are a version byte (1), the random 24-byte nonce, then the ciphertext with its tag.
///
/// ```swift
/// let seal = ResponseSeal(secret: runtime.secret)
/// try Idempotent.write(database, context, caller: caller.id, request, sealing: seal) { tx in … }
/// ```
public struct ResponseSeal: Sendable {
    /// The purpose label of the derived key (another label gives another, unrelated key).
    public static let purpose = "ocorrencias.idempotency.response-seal.v1"
    private static let version: UInt8 = 1
    private let key: [UInt8]
    private let secret: DeploymentSecret
    private let fingerprintLabel: [UInt8]

    /// The seal of `secret`'s deployment for `purpose`.
    public init(secret: DeploymentSecret, purpose: String = ResponseSeal.purpose) {
        _ = sodium_init()
        key = secret.mac(Array(purpose.utf8))
        self.secret = secret
        fingerprintLabel = Array((purpose + ".fingerprint\u{0}").utf8)
    }

    /// A request's fingerprint keyed by the deployment secret (HMAC-SHA256 under another
    /// label), for requests that carry a secret or a password of their own: a plain SHA-256 of
    /// such a request could be tried against guesses by whoever reads the table.
    public func fingerprint(_ request: [UInt8]) -> [UInt8] {
        secret.mac(fingerprintLabel, request)
    }

    /// `plain` encrypted under the derived key with a fresh random nonce.
    public func seal(_ plain: [UInt8]) -> [UInt8] {
        var nonce = [UInt8](repeating: 0, count: Int(crypto_secretbox_noncebytes()))
        randombytes_buf(&nonce, nonce.count)
        var cipher = [UInt8](repeating: 0, count: plain.count + Int(crypto_secretbox_macbytes()))
        _ = crypto_secretbox_easy(&cipher, plain, UInt64(plain.count), nonce, key)
        return [Self.version] + nonce + cipher
    }

    /// The bytes ``seal(_:)`` sealed.
    /// - Throws: `FAILED_PRECONDITION` when they do not open (altered, or sealed under another
    ///   deployment secret: the secret changed since the first call); the client uses a new key.
    public func open(_ sealed: [UInt8]) throws -> [UInt8] {
        let nonceBytes = Int(crypto_secretbox_noncebytes()), macBytes = Int(crypto_secretbox_macbytes())
        guard sealed.count >= 1 + nonceBytes + macBytes, sealed[0] == Self.version else { throw Self.unopenable }
        let nonce = Array(sealed[1...nonceBytes]), cipher = Array(sealed[(1 + nonceBytes)...])
        var plain = [UInt8](repeating: 0, count: cipher.count - macBytes)
        guard crypto_secretbox_open_easy(&plain, cipher, UInt64(cipher.count), nonce, key) == 0 else { throw Self.unopenable }
        return plain
    }

    static let unopenable = RPCError(.failedPrecondition,
                                     "a resposta guardada para esta chave de idempotência não pode ser aberta (o segredo da implantação mudou?); use outra chave / the answer stored for this idempotency key cannot be opened (did the deployment secret change?); use another key")
}
