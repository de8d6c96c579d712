import CSodium

/// Hashes from libsodium.
public enum Digest {
    /// SHA-256 of `bytes`.
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        DeploymentSecret.initializeSodium()
        var out = [UInt8](repeating: 0, count: 32)
        _ = crypto_hash_sha256(&out, bytes, UInt64(bytes.count))
        return out
    }

    /// Whether `a` and `b` are equal, in time that depends only on their length (for comparing
    /// secrets such as tokens and MACs). Empty strings are never equal.
    public static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count, !x.isEmpty else { return false }
        return sodium_memcmp(x, y, x.count) == 0
    }

    /// Lower-case hex of `bytes`.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// SHA-256 over bytes given piece by piece (files, uploads, mail read in chunks).
    public struct SHA256Stream {
        private var state = crypto_hash_sha256_state()

        public init() {
            DeploymentSecret.initializeSodium()
            _ = crypto_hash_sha256_init(&state)
        }

        /// Adds `bytes` to the hash.
        public mutating func update(_ bytes: UnsafeRawBufferPointer) {
            guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
            _ = crypto_hash_sha256_update(&state, base.assumingMemoryBound(to: UInt8.self), UInt64(bytes.count))
        }

        /// Adds `bytes` to the hash.
        public mutating func update(_ bytes: [UInt8]) {
            bytes.withUnsafeBytes { update($0) }
        }

        /// The 32-byte digest of everything added (the stream must not be used afterwards).
        public mutating func finish() -> [UInt8] {
            var digest = [UInt8](repeating: 0, count: 32)
            _ = crypto_hash_sha256_final(&state, &digest)
            return digest
        }
    }
}
