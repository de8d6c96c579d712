import CStemmer
import Synchronization

/// The Snowball Portuguese stemmer from libstemmer (Debian's `libstemmer-dev`).
///
/// A libstemmer handle is not thread-safe, so handles are kept in a small pool and each call
/// borrows one.
///
/// ```swift
/// PortugueseStemmer.shared.stem("emitindo")   // "emit"
/// ```
public final class PortugueseStemmer: Sendable {
    /// The process-wide stemmer pool.
    public static let shared = PortugueseStemmer()

    private struct Handle: @unchecked Sendable { let pointer: OpaquePointer }
    private let pool = Mutex<[Handle]>([])

    private init() {}

    /// The stem of `word` (lower-case UTF-8); the word itself when libstemmer is unavailable.
    public func stem(_ word: String) -> String {
        guard !word.isEmpty else { return word }
        let handle = pool.withLock { $0.popLast() } ?? sb_stemmer_new("portuguese", "UTF_8").map(Handle.init)
        guard let handle else { return word }
        defer { pool.withLock { $0.append(handle) } }
        var utf8 = Array(word.utf8)
        return utf8.withUnsafeMutableBufferPointer { buffer -> String in
            guard let result = sb_stemmer_stem(handle.pointer, buffer.baseAddress, Int32(buffer.count)) else { return word }
            let length = Int(sb_stemmer_length(handle.pointer))
            return String(decoding: UnsafeBufferPointer(start: result, count: length), as: UTF8.self)
        }
    }
}
