import CSodium
import Foundation
import RPCTransport

/// Encrypts values kept at rest in the notification database (webhook signing secrets) with
/// libsodium's `crypto_secretbox` (XSalsa20-Poly1305) under a key ring from the configuration: the
/// current 32-byte key seals, the current and any previous keys open, so the key can be rotated.
///
/// A sealed value is text: `sb2:<key id>:` followed by the hex of a random 24-byte nonce and the
/// ciphertext with its 16-byte tag; the key id (8 hex characters, from a BLAKE2b hash of the
/// key) names the key that sealed it. Values `sb1:<hex>` of earlier versions carry no key id (every
/// key of the ring is tried). Values without a prefix are legacy clear text (read as they are, and
/// sealed at start-up by ``NotificationService``). ``reseal(_:)`` and the `ResealSecrets` RPC
/// move values sealed under previous keys to the current one.
///
/// ```swift
/// let box = try SecretBox.load(environment: env, dataDirectory: "/var/lib/ocorrencias")
/// let stored = box.seal("webhook-secret")   // "sb2:1a2b3c4d:…"
/// let secret = try box.open(stored)         // "webhook-secret"
/// ```
public struct SecretBox: Sendable {
    static let legacyPrefix = "sb1:"
    static let prefix = "sb2:"
    private let key: [UInt8]
    /// Previous keys (for opening only), with their ids.
    private let previous: [(id: String, key: [UInt8])]
    /// The id of the key that seals (`sb2:<id>:`).
    public let currentKeyID: String

    /// - Parameters:
    ///   - key: the current key, exactly 32 bytes.
    ///   - previous: keys that sealed values before (32 bytes each), still accepted for opening.
    public init(key: [UInt8], previous: [[UInt8]] = []) {
        precondition(key.count == Int(crypto_secretbox_keybytes()), "the secrets key must have 32 bytes")
        precondition(previous.allSatisfy { $0.count == Int(crypto_secretbox_keybytes()) }, "the secrets keys must have 32 bytes")
        _ = sodium_init()
        self.key = key
        currentKeyID = Self.keyID(key)
        var seen: Set<String> = [currentKeyID]
        self.previous = previous.compactMap { old in
            let id = Self.keyID(old)
            return seen.insert(id).inserted ? (id, old) : nil
        }
    }

    /// The ids of the keys this box opens, the current one first.
    public var keyIDs: [String] { [currentKeyID] + previous.map(\.id) }

    /// A key's public name: the first 4 bytes (8 hex) of BLAKE2b-128 of the key keyed by a fixed
    /// context; it says which key sealed a value without revealing the key.
    static func keyID(_ key: [UInt8]) -> String {
        var out = [UInt8](repeating: 0, count: 16)
        // The context is BLAKE2b's key (16–64 bytes), the secrets key the message.
        let context = Array("ocorrencias.notification.secretbox.key-id".utf8)
        _ = crypto_generichash(&out, out.count, key, UInt64(key.count), context, context.count)
        return Digest.hex(Array(out.prefix(4)))
    }

    /// The current key from `NOTIFICATION_SECRETS_KEY` (64 hex characters), else from the file
    /// named by `NOTIFICATION_SECRETS_KEY_FILE`, else a random key kept in
    /// `<dataDirectory>/notification-secrets.key` (created on first use, mode 0600), like the
    /// local deployment secret. Previous keys, still read, from `NOTIFICATION_SECRETS_OLD_KEYS`
    /// (64-hex keys separated by commas or spaces) and the file named by
    /// `NOTIFICATION_SECRETS_OLD_KEYS_FILE` (one key per line, `#` comments). Instances sharing a
    /// database must share the keys.
    /// - Throws: ``NotificationConfigurationError`` when a configured key is malformed or unreadable.
    public static func load(environment: [String: String], dataDirectory: String) throws -> SecretBox {
        try SecretBox(key: currentKey(environment: environment, dataDirectory: dataDirectory),
                      previous: previousKeys(environment: environment))
    }

    static func previousKeys(environment: [String: String]) throws -> [[UInt8]] {
        var keys: [[UInt8]] = []
        if let text = environment["NOTIFICATION_SECRETS_OLD_KEYS"], !text.isEmpty {
            for item in text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\n" }) where !item.isEmpty {
                keys.append(try parse(String(item), source: "NOTIFICATION_SECRETS_OLD_KEYS"))
            }
        }
        if let path = environment["NOTIFICATION_SECRETS_OLD_KEYS_FILE"], !path.isEmpty {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw NotificationConfigurationError("chaves antigas ilegíveis / old keys unreadable: \(path)")
            }
            for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
                let item = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
                guard !item.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
                keys.append(try parse(item, source: path))
            }
        }
        return keys
    }

    static func currentKey(environment: [String: String], dataDirectory: String) throws -> [UInt8] {
        if let text = environment["NOTIFICATION_SECRETS_KEY"], !text.isEmpty {
            return try parse(text, source: "NOTIFICATION_SECRETS_KEY")
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
        return try parse(String(decoding: data, as: UTF8.self), source: path)
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
    static func isSealed(_ stored: String) -> Bool { stored.hasPrefix(prefix) || stored.hasPrefix(legacyPrefix) }

    /// Whether `stored` is sealed under the current key (nothing to re-seal).
    public func isCurrent(_ stored: String) -> Bool { stored.hasPrefix("\(Self.prefix)\(currentKeyID):") }

    /// Encrypts `plain` under the current key with a fresh random nonce.
    public func seal(_ plain: String) -> String {
        let message = Array(plain.utf8)
        var nonce = [UInt8](repeating: 0, count: Int(crypto_secretbox_noncebytes()))
        randombytes_buf(&nonce, nonce.count)
        var cipher = [UInt8](repeating: 0, count: message.count + Int(crypto_secretbox_macbytes()))
        _ = crypto_secretbox_easy(&cipher, message, UInt64(message.count), nonce, key)
        return "\(Self.prefix)\(currentKeyID):" + Digest.hex(nonce + cipher)
    }

    /// Decrypts a value made by ``seal(_:)`` under any key of the ring; legacy clear text comes
    /// back as it is.
    /// - Throws: ``SecretBoxError`` when the value was sealed under a key not in the ring, or altered.
    public func open(_ stored: String) throws -> String {
        if stored.hasPrefix(Self.prefix) {
            let rest = stored.dropFirst(Self.prefix.count)
            guard let colon = rest.firstIndex(of: ":") else { throw SecretBoxError() }
            let id = String(rest[..<colon])
            let keys = id == currentKeyID ? [key] : previous.filter { $0.id == id }.map(\.key)
            guard let chosen = keys.first else { throw SecretBoxError(keyID: id) }
            return try Self.open(hex: rest[rest.index(after: colon)...], key: chosen)
        }
        guard stored.hasPrefix(Self.legacyPrefix) else { return stored }
        // `sb1:` values name no key: the current one, then the previous ones.
        for candidate in [key] + previous.map(\.key) {
            if let plain = try? Self.open(hex: stored.dropFirst(Self.legacyPrefix.count), key: candidate) { return plain }
        }
        throw SecretBoxError()
    }

    private static func open(hex text: Substring, key: [UInt8]) throws -> String {
        let nonceBytes = Int(crypto_secretbox_noncebytes()), macBytes = Int(crypto_secretbox_macbytes())
        guard let bytes = hex(String(text)), bytes.count >= nonceBytes + macBytes else { throw SecretBoxError() }
        let nonce = Array(bytes[..<nonceBytes]), cipher = Array(bytes[nonceBytes...])
        var plain = [UInt8](repeating: 0, count: cipher.count - macBytes)
        guard crypto_secretbox_open_easy(&plain, cipher, UInt64(cipher.count), nonce, key) == 0 else { throw SecretBoxError() }
        return String(decoding: plain, as: UTF8.self)
    }

    /// `stored` sealed under the current key: nil when it already is; clear text is sealed.
    /// - Throws: ``SecretBoxError`` when it does not open with any key of the ring.
    public func reseal(_ stored: String) throws -> String? {
        guard !isCurrent(stored) else { return nil }
        return seal(try open(stored))
    }

    /// A random secret for a subscriber (32 bytes as hex).
    static func randomSecret() -> String {
        var bytes = [UInt8](repeating: 0, count: 32)
        randombytes_buf(&bytes, bytes.count)
        return Digest.hex(bytes)
    }
}

/// A sealed value that does not open with the configured keys (another key, or altered).
public struct SecretBoxError: Error, CustomStringConvertible {
    /// The key id the value names, when it names one that is not in the ring.
    public var keyID: String = ""

    public var description: String {
        keyID.isEmpty
            ? "segredo ilegível com as chaves configuradas (NOTIFICATION_SECRETS_KEY difere?) / secret unreadable with the configured keys (NOTIFICATION_SECRETS_KEY differs?)"
            : "segredo selado com a chave \(keyID), que não está configurada (NOTIFICATION_SECRETS_KEY / _OLD_KEYS) / secret sealed with key \(keyID), which is not configured (NOTIFICATION_SECRETS_KEY / _OLD_KEYS)"
    }
}
