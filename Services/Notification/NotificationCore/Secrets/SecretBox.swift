import CSodium
import Foundation
import RPCTransport

/// Encrypts values kept at rest in the notification database (webhook signing secrets) with
/// libsodium's `crypto_secretbox` (XSalsa20-Poly1305) under a 32-byte key from the configuration.
///
/// A sealed value is text: `sb1:` followed by the hex of a random 24-byte nonce and the
/// ciphertext with its 16-byte tag. Values without the prefix are legacy clear text (read as they
/// are, and sealed at start-up by ``NotificationService``).
///
/// ```swift
/// let box = try SecretBox.load(environment: env, dataDirectory: "/var/lib/ocorrencias")
/// let stored = box.seal("webhook-secret")   // "sb1:…"
/// let secret = try box.open(stored)         // "webhook-secret"
/// ```
public struct SecretBox: Sendable {
    static let prefix = "sb1:"
    private let key: [UInt8]

    /// - Parameter key: exactly 32 bytes.
    public init(key: [UInt8]) {
        precondition(key.count == Int(crypto_secretbox_keybytes()), "the secrets key must have 32 bytes")
        _ = sodium_init()
        self.key = key
    }

    /// The key from `NOTIFICATION_SECRETS_KEY` (64 hex characters), else from the file named by
    /// `NOTIFICATION_SECRETS_KEY_FILE`, else a random key kept in
    /// `<dataDirectory>/notification-secrets.key` (created on first use, mode 0600), like the
    /// local deployment secret. Instances sharing a database must share the key.
    /// - Throws: ``NotificationConfigurationError`` when a configured key is malformed or unreadable.
    public static func load(environment: [String: String], dataDirectory: String) throws -> SecretBox {
        if let text = environment["NOTIFICATION_SECRETS_KEY"], !text.isEmpty {
            return SecretBox(key: try parse(text, source: "NOTIFICATION_SECRETS_KEY"))
        }
        var path = environment["NOTIFICATION_SECRETS_KEY_FILE"] ?? ""
        if path.isEmpty {
            path = (dataDirectory as NSString).appendingPathComponent("notification-secrets.key")
            try? FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
            if !FileManager.default.fileExists(atPath: path) {
                var fresh = [UInt8](repeating: 0, count: 32)
                randombytes_buf(&fresh, fresh.count)
                // Written aside and linked into place: instances starting together agree on one key.
                let temporary = path + ".\(getpid())"
                _ = FileManager.default.createFile(atPath: temporary, contents: Data(Digest.hex(fresh).utf8),
                                                   attributes: [.posixPermissions: 0o600])
                _ = link(temporary, path)
                unlink(temporary)
            }
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw NotificationConfigurationError("chave de segredos ilegível / secrets key unreadable: \(path)")
        }
        return SecretBox(key: try parse(String(decoding: data, as: UTF8.self), source: path))
    }

    static func parse(_ text: String, source: String) throws -> [UInt8] {
        guard let key = hex(text.trimmingCharacters(in: .whitespacesAndNewlines)), key.count == 32 else {
            throw NotificationConfigurationError(
                "\(source): a chave deve ter 64 caracteres hexadecimais / the key must be 64 hex characters")
        }
        return key
    }

    static func hex(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(digits.count / 2)
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var index = 0
        while index < digits.count {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    /// Whether `stored` is sealed (as opposed to legacy clear text).
    static func isSealed(_ stored: String) -> Bool { stored.hasPrefix(prefix) }

    /// Encrypts `plain` with a fresh random nonce.
    public func seal(_ plain: String) -> String {
        let message = Array(plain.utf8)
        var nonce = [UInt8](repeating: 0, count: Int(crypto_secretbox_noncebytes()))
        randombytes_buf(&nonce, nonce.count)
        var cipher = [UInt8](repeating: 0, count: message.count + Int(crypto_secretbox_macbytes()))
        _ = crypto_secretbox_easy(&cipher, message, UInt64(message.count), nonce, key)
        return Self.prefix + Digest.hex(nonce + cipher)
    }

    /// Decrypts a value made by ``seal(_:)``; legacy clear text comes back as it is.
    /// - Throws: ``SecretBoxError`` when the value was sealed under another key or altered.
    public func open(_ stored: String) throws -> String {
        guard Self.isSealed(stored) else { return stored }
        let nonceBytes = Int(crypto_secretbox_noncebytes()), macBytes = Int(crypto_secretbox_macbytes())
        guard let bytes = Self.hex(String(stored.dropFirst(Self.prefix.count))), bytes.count >= nonceBytes + macBytes else {
            throw SecretBoxError()
        }
        let nonce = Array(bytes[..<nonceBytes]), cipher = Array(bytes[nonceBytes...])
        var plain = [UInt8](repeating: 0, count: cipher.count - macBytes)
        guard crypto_secretbox_open_easy(&plain, cipher, UInt64(cipher.count), nonce, key) == 0 else { throw SecretBoxError() }
        return String(decoding: plain, as: UTF8.self)
    }

    /// A random secret for a subscriber (32 bytes as hex).
    static func randomSecret() -> String {
        var bytes = [UInt8](repeating: 0, count: 32)
        randombytes_buf(&bytes, bytes.count)
        return Digest.hex(bytes)
    }
}

/// A sealed value that does not open with this key (another key, or altered).
public struct SecretBoxError: Error, CustomStringConvertible {
    public var description: String {
        "segredo ilegível com a chave configurada (NOTIFICATION_SECRETS_KEY difere?) / secret unreadable with the configured key (NOTIFICATION_SECRETS_KEY differs?)"
    }
}
