import CCurl
import Foundation
import Synchronization

/// Set when the owner is stopping: transfers in progress abort at libcurl's next progress call.
package final class CurlCancellation: Sendable {
    private let flag = Atomic<Bool>(false)
    var isCancelled: Bool { flag.load(ordering: .relaxed) }
    package init() {}
    package func cancel() { flag.store(true, ordering: .relaxed) }
}

/// Bytes libcurl reads from (uploads) and the text it writes back (response body, server lines).
final class CurlExchange {
    var upload: [UInt8] = []
    var offset = 0
    /// More upload bytes when `upload` is used up (a message stored in pieces); nil at the end.
    var more: (() -> [UInt8]?)?
    var response: [UInt8] = []
    var lines: [String] = []
    var cancellation: CurlCancellation?
    static let responseLimit = 4_096
}

/// The C callbacks libcurl calls, defined in a type of this library (never in main.swift); each
/// receives the ``CurlExchange`` as its user pointer.
enum CurlCallbacks {
    static func read(_ buffer: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ user: UnsafeMutableRawPointer?) -> Int {
        guard let buffer, let user else { return 0 }
        let exchange = Unmanaged<CurlExchange>.fromOpaque(user).takeUnretainedValue()
        while exchange.offset == exchange.upload.count, let more = exchange.more {
            guard let piece = more(), !piece.isEmpty else {
                exchange.more = nil
                break
            }
            exchange.upload = piece
            exchange.offset = 0
        }
        let n = min(size * count, exchange.upload.count - exchange.offset)
        guard n > 0 else { return 0 }
        exchange.upload.withUnsafeBufferPointer { source in
            UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + exchange.offset, byteCount: n)
        }
        exchange.offset += n
        return n
    }

    static func write(_ buffer: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ user: UnsafeMutableRawPointer?) -> Int {
        let n = size * count
        guard let buffer, let user else { return n }
        let exchange = Unmanaged<CurlExchange>.fromOpaque(user).takeUnretainedValue()
        let room = max(0, CurlExchange.responseLimit - exchange.response.count)
        if room > 0 {
            exchange.response += UnsafeRawBufferPointer(start: buffer, count: min(n, room)).map { $0 }
        }
        return n
    }

    static func progress(_ user: UnsafeMutableRawPointer?, _ dlTotal: curl_off_t, _ dlNow: curl_off_t, _ ulTotal: curl_off_t,
                         _ ulNow: curl_off_t) -> Int32 {
        guard let user else { return 0 }
        let exchange = Unmanaged<CurlExchange>.fromOpaque(user).takeUnretainedValue()
        return exchange.cancellation?.isCancelled == true ? 1 : 0
    }

    static func header(_ buffer: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ user: UnsafeMutableRawPointer?) -> Int {
        let n = size * count
        guard let buffer, let user else { return n }
        let exchange = Unmanaged<CurlExchange>.fromOpaque(user).takeUnretainedValue()
        // Trimmed by hand: Foundation's trimming costs more than the rest of the callback.
        let bytes = UnsafeRawBufferPointer(start: buffer, count: n)
        var start = 0, end = n
        func blank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0d || byte == 0x0a }
        while start < end && blank(bytes[start]) { start += 1 }
        while end > start && blank(bytes[end - 1]) { end -= 1 }
        if end > start {
            let line = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
            exchange.lines.append(line)
            if exchange.lines.count > 64 { exchange.lines.removeFirst() }
        }
        return n
    }
}

/// One libcurl easy handle, used by one thread at a time. Kept between sends so the connection
/// to the same host is reused (by the handle itself, or by the ``CurlMulti`` it runs in).
package final class CurlEasy {
    let handle: UnsafeMutableRawPointer
    /// libcurl's error text for the transfer in progress (`CURLOPT_ERRORBUFFER`): allocated once,
    /// so its address stays valid while a multi handle runs the transfer.
    private let errorBuffer: UnsafeMutablePointer<CChar>
    /// The exchange of the transfer prepared last, kept alive until ``finish(_:)`` (libcurl only
    /// holds an unretained pointer to it).
    private var exchange: CurlExchange?

    /// Connections opened so far by all handles (reuse check for the benchmark).
    package static let newConnections = Atomic<Int>(0)

    static let globalInit: Bool = { ccurl_global_init_all() == CURLE_OK }()

    let cancellation: CurlCancellation?

    package init(cancellation: CurlCancellation? = nil) {
        _ = Self.globalInit
        handle = curl_easy_init()
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        self.cancellation = cancellation
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// The outcome of one transfer.
    struct Result {
        var code: CURLcode
        var responseCode: Int
        var message: String
    }

    /// Resets options (keeping connections), wires `exchange` to the callbacks and runs
    /// `configure`: the handle is then ready for `curl_easy_perform` or a ``CurlMulti``, and
    /// ``finish(_:)`` reads its result.
    func prepare(_ exchange: CurlExchange, configure: (UnsafeMutableRawPointer) -> Void) {
        curl_easy_reset(handle)
        errorBuffer[0] = 0
        self.exchange = exchange
        let user = Unmanaged.passUnretained(exchange).toOpaque()
        _ = ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_setopt_read_function(handle) { CurlCallbacks.read($0, $1, $2, $3) }
        _ = ccurl_setopt_pointer(handle, CURLOPT_READDATA, user)
        _ = ccurl_setopt_write_function(handle) { CurlCallbacks.write($0, $1, $2, $3) }
        _ = ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, user)
        _ = ccurl_setopt_header_function(handle) { CurlCallbacks.header($0, $1, $2, $3) }
        _ = ccurl_setopt_pointer(handle, CURLOPT_HEADERDATA, user)
        if let cancellation {
            exchange.cancellation = cancellation
            _ = ccurl_setopt_long(handle, CURLOPT_NOPROGRESS, 0)
            _ = ccurl_setopt_xferinfo_function(handle) { CurlCallbacks.progress($0, $1, $2, $3, $4) }
            _ = ccurl_setopt_pointer(handle, CURLOPT_XFERINFODATA, user)
        }
        configure(handle)
        _ = ccurl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
    }

    /// The result of the prepared transfer, which ended with `code`.
    func finish(_ code: CURLcode) -> Result {
        exchange = nil
        var response: Int = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &response)
        var connects: Int = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_NUM_CONNECTS, &connects)
        Self.newConnections.add(connects, ordering: .relaxed)
        var message = String(cString: errorBuffer)
        if message.isEmpty { message = String(cString: curl_easy_strerror(code)) }
        return Result(code: code, responseCode: response, message: message)
    }

    /// A curl_slist from strings; free with `curl_slist_free_all`.
    static func list(_ items: [String]) -> UnsafeMutablePointer<curl_slist>? {
        var list: UnsafeMutablePointer<curl_slist>?
        for item in items { list = curl_slist_append(list, item) }
        return list
    }
}

/// A send set up on a handle (``CurlEasy/prepare(_:configure:)``), to be run by
/// ``run()`` on the caller's thread or by a ``CurlMulti`` beside others; ``complete(_:)``
/// turns how it ended into the send's outcome and frees what the transfer needed (header lists).
/// Every prepared transfer is completed exactly once.
package struct CurlTransfer {
    let curl: CurlEasy
    private let outcome: (CurlEasy.Result) -> SendOutcome

    init(curl: CurlEasy, outcome: @escaping (CurlEasy.Result) -> SendOutcome) {
        self.curl = curl
        self.outcome = outcome
    }

    /// Runs the transfer to its end on this thread (`curl_easy_perform`).
    func run() -> SendOutcome { complete(curl_easy_perform(curl.handle)) }

    /// The outcome of the transfer, which ended with `code`.
    func complete(_ code: CURLcode) -> SendOutcome { outcome(curl.finish(code)) }
}
