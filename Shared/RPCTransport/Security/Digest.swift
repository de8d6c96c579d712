import CCrypto
import CSodium

/// Hashes: SHA-256 from OpenSSL's libcrypto (it uses the CPU's SHA extensions; libsodium's is
/// portable C, about five times slower here), constant-time comparison from libsodium.
public enum Digest {
    /// SHA-256 of `bytes`.
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBytes { sha256($0) }
    }

    /// SHA-256 of `bytes`.
    public static func sha256(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let ok = EVP_Digest(bytes.baseAddress, bytes.count, &out, &length, SHA256Algorithm.shared.md, nil)
        precondition(ok == 1 && length == 32, "SHA-256 failed")
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

    /// SHA-256 over bytes given piece by piece (files, uploads, mail read in chunks). A value:
    /// a copy goes on from where the original was, independently of it.
    public struct SHA256Stream {
        private var context = SHA256Context()

        public init() {}

        /// Adds `bytes` to the hash.
        public mutating func update(_ bytes: UnsafeRawBufferPointer) {
            guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
            if !isKnownUniquelyReferenced(&context) { context = SHA256Context(copying: context) }
            precondition(EVP_DigestUpdate(context.pointer, base, bytes.count) == 1, "SHA-256 failed")
        }

        /// Adds `bytes` to the hash.
        public mutating func update(_ bytes: [UInt8]) {
            bytes.withUnsafeBytes { update($0) }
        }

        /// The 32-byte digest of everything added (the stream must not be used afterwards).
        public mutating func finish() -> [UInt8] {
            if !isKnownUniquelyReferenced(&context) { context = SHA256Context(copying: context) }
            var digest = [UInt8](repeating: 0, count: 32)
            var length: UInt32 = 0
            precondition(EVP_DigestFinal_ex(context.pointer, &digest, &length) == 1 && length == 32, "SHA-256 failed")
            return digest
        }
    }
}

/// OpenSSL's SHA-256, fetched once per process (fetching it for every hash costs about as much
/// as hashing a small message).
private struct SHA256Algorithm: @unchecked Sendable {
    /// An `EVP_MD`, immutable and shared by all threads once fetched.
    let md: OpaquePointer

    static let shared: SHA256Algorithm = {
        guard let md = EVP_MD_fetch(nil, "SHA256", nil) else { fatalError("OpenSSL has no SHA-256") }
        return SHA256Algorithm(md: md)
    }()
}

/// One `EVP_MD_CTX` hashing with SHA-256, freed with its owner.
private final class SHA256Context {
    let pointer: OpaquePointer

    init() {
        guard let context = EVP_MD_CTX_new(), EVP_DigestInit_ex(context, SHA256Algorithm.shared.md, nil) == 1 else {
            fatalError("OpenSSL could not start a SHA-256")
        }
        pointer = context
    }

    init(copying other: SHA256Context) {
        guard let context = EVP_MD_CTX_new(), EVP_MD_CTX_copy_ex(context, other.pointer) == 1 else {
            fatalError("OpenSSL could not copy a SHA-256")
        }
        pointer = context
    }

    deinit { EVP_MD_CTX_free(pointer) }
}
