import CSodium
import Foundation
import RPCTransport

/// Argon2id password hashes through libsodium (`crypto_pwhash_str`, encoded with their
/// parameters and salt, so a change of cost keeps old hashes verifiable).
public struct PasswordHasher: Sendable {
    /// Operations and memory of Argon2id.
    public var opsLimit: UInt64
    public var memLimit: Int

    /// libsodium's "interactive" costs (2 passes, 64 MiB), or "minimal" (`GATEWAY_PWHASH=minimal`,
    /// tests only: 1 pass, 8 KiB).
    public init(environment: [String: String] = [:]) {
        _ = Self.ready
        if environment["GATEWAY_PWHASH"] == "minimal" {
            opsLimit = UInt64(crypto_pwhash_argon2id_opslimit_min())
            memLimit = Int(crypto_pwhash_argon2id_memlimit_min())
        } else {
            opsLimit = UInt64(crypto_pwhash_argon2id_opslimit_interactive())
            memLimit = Int(crypto_pwhash_argon2id_memlimit_interactive())
        }
    }

    private static let ready: Bool = sodium_init() >= 0

    /// The encoded Argon2id hash of `password` (`$argon2id$v=19$m=...`).
    public func hash(_ password: String) throws -> String {
        var out = [CChar](repeating: 0, count: Int(crypto_pwhash_argon2id_strbytes()))
        let bytes = Array(password.utf8)
        let result = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(1, bytes.count)) {
                crypto_pwhash_argon2id_str(&out, $0, UInt64(bytes.count), opsLimit, memLimit)
            }
        }
        guard result == 0 else { throw APIError(status: 503, code: "UNAVAILABLE", pt: "Sem memória para o hash.", en: "Out of memory hashing.") }
        return String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// True when `password` matches `encoded` (constant time inside libsodium).
    public func verify(_ password: String, against encoded: String) -> Bool {
        let bytes = Array(password.utf8) + [0]
        return bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) { pointer in
                crypto_pwhash_argon2id_str_verify(encoded, pointer, UInt64(bytes.count - 1)) == 0
            }
        }
    }

    /// A hash of a random password, verified against when the user does not exist, so an
    /// unknown e-mail takes as long as a wrong password.
    public func dummyHash() -> String { (try? hash(Tokens.random(16))) ?? "" }
}

/// Random tokens and their digests.
public enum Tokens {
    /// `bytes` random bytes as URL-safe base64 without padding.
    public static func random(_ bytes: Int = 32) -> String {
        var buffer = [UInt8](repeating: 0, count: bytes)
        randombytes_buf(&buffer, bytes)
        return Data(buffer).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Hex SHA-256: how tokens (sessions, API keys, reset links) are stored. They carry 256 bits
    /// of randomness, so a fast hash is enough; the database never holds a usable token.
    public static func digest(_ token: String) -> String {
        Digest.hex(Digest.sha256(Array(token.utf8)))
    }
}
