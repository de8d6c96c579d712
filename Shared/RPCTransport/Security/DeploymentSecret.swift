import CSodium
import Foundation

/// The secret every process of one deployment shares; a connection proves it holds it with an
/// HMAC-SHA256 challenge before any call is accepted (see docs/PROTOCOL.md, "Authentication").
public struct DeploymentSecret: Sendable, Hashable {
    let key: [UInt8]

    /// - Parameter bytes: at least 16 bytes; longer secrets are hashed to 32 bytes.
    public init(bytes: [UInt8]) {
        precondition(bytes.count >= 16, "the deployment secret must have at least 16 bytes")
        key = Digest.sha256(bytes)
    }

    /// Reads `OCORRENCIAS_SECRET` (text, at least 16 characters) or the file named by
    /// `OCORRENCIAS_SECRET_FILE`.
    /// - Returns: `nil` when neither is set.
    /// - Throws: when both are set (``checkSources(_:)``), the file cannot be read, the secret is
    ///   too short, or it is still the placeholder of `deploy/ocorrencias.env.example`
    ///   (`change-me…`: anyone who read the example could call the services).
    public static func fromEnvironment(_ environment: [String: String]) throws -> DeploymentSecret? {
        try checkSources(environment)
        func checked(_ text: String) throws -> DeploymentSecret {
            guard text.utf8.count >= 16 else { throw SecretError.tooShort }
            guard !text.lowercased().hasPrefix("change-me") else { throw SecretError.placeholder }
            return DeploymentSecret(bytes: Array(text.utf8))
        }
        if let text = environment["OCORRENCIAS_SECRET"], !text.isEmpty {
            return try checked(text)
        }
        if let path = environment["OCORRENCIAS_SECRET_FILE"], !path.isEmpty {
            guard let data = FileManager.default.contents(atPath: path) else { throw SecretError.unreadable(path) }
            return try checked(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return nil
    }

    /// Refuses `OCORRENCIAS_SECRET` and `OCORRENCIAS_SECRET_FILE` both set (non-empty): one of
    /// them used to win silently, so a process could run with another secret than the one its
    /// operator changed, and every call between it and the others fail authentication.
    /// - Throws: ``SecretError/bothSet``.
    public static func checkSources(_ environment: [String: String]) throws {
        if environment["OCORRENCIAS_SECRET"]?.isEmpty == false, environment["OCORRENCIAS_SECRET_FILE"]?.isEmpty == false {
            throw SecretError.bothSet
        }
    }

    /// A fresh random secret (for tests and single-machine runs).
    public static func random() -> DeploymentSecret {
        DeploymentSecret(bytes: randomBytes(32))
    }

    /// HMAC-SHA256 of `parts` concatenated.
    public func mac(_ parts: [UInt8]...) -> [UInt8] {
        var state = crypto_auth_hmacsha256_state()
        var out = [UInt8](repeating: 0, count: 32)
        key.withUnsafeBufferPointer { _ = crypto_auth_hmacsha256_init(&state, $0.baseAddress!, 32) }
        for part in parts { _ = crypto_auth_hmacsha256_update(&state, part, UInt64(part.count)) }
        _ = crypto_auth_hmacsha256_final(&state, &out)
        return out
    }

    /// Constant-time comparison of `mac` with the HMAC of `parts`.
    public func verify(_ mac: [UInt8], _ parts: [UInt8]...) -> Bool {
        var state = crypto_auth_hmacsha256_state()
        var expected = [UInt8](repeating: 0, count: 32)
        key.withUnsafeBufferPointer { _ = crypto_auth_hmacsha256_init(&state, $0.baseAddress!, 32) }
        for part in parts { _ = crypto_auth_hmacsha256_update(&state, part, UInt64(part.count)) }
        _ = crypto_auth_hmacsha256_final(&state, &expected)
        guard mac.count == 32 else { return false }
        return sodium_memcmp(mac, expected, 32) == 0
    }

    /// Cryptographically random bytes.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        initializeSodium()
        var bytes = [UInt8](repeating: 0, count: count)
        randombytes_buf(&bytes, count)
        return bytes
    }

    static func initializeSodium() {
        _ = sodiumReady
    }

    private static let sodiumReady: Bool = sodium_init() >= 0

    public enum SecretError: Error, CustomStringConvertible {
        case tooShort
        case unreadable(String)
        case placeholder
        case bothSet

        public var description: String {
            switch self {
            case .tooShort: "OCORRENCIAS_SECRET precisa de ao menos 16 caracteres / must have at least 16 characters"
            case .unreadable(let path): "não foi possível ler / cannot read OCORRENCIAS_SECRET_FILE at \(path)"
            case .bothSet:
                "OCORRENCIAS_SECRET e OCORRENCIAS_SECRET_FILE estão ambas definidas; use só uma / are both set; use only one"
            case .placeholder:
                "OCORRENCIAS_SECRET ainda é o exemplo (change-me…); gere um / is still the example's placeholder; make one: head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n'"
            }
        }
    }
}

/// The connection handshake, shared by server and client so both compute the same MACs.
enum Handshake {
    static let clientLabel = Array("ocorrencias-rpc-v1 client".utf8)
    static let serverLabel = Array("ocorrencias-rpc-v1 server".utf8)
    static let nonceLength = 32
    /// The largest frame a server reads before its peer authenticated: HELLO/AUTH carry a nonce,
    /// a MAC, the caller's name and perhaps an API key, far below this.
    static let maxFrameBytes = 16 << 10
}
