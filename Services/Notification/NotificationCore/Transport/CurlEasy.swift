import CCurl
import Foundation
import Synchronization

/// Bytes libcurl reads from (uploads) and the text it writes back (response body, server lines).
final class CurlExchange {
    var upload: [UInt8] = []
    var offset = 0
    /// More upload bytes when `upload` is used up (a message stored in pieces); nil at the end.
    var more: (() -> [UInt8]?)?
    var response: [UInt8] = []
    /// The last line the server sent (an SMTP reply, an HTTP status or header line), trimmed.
    var lastLine: [UInt8] = []
    /// The last line that began with a 4xx or 5xx code (an SMTP refusal), trimmed: after a
    /// refusal libcurl ends the session, so ``lastLine`` is the `221` answer to its `QUIT`.
    var lastRefusal: [UInt8] = []
    /// Replies (SMTP: a reply's last line) counted so far in this transfer.
    var replies = 0
    /// Which of them (0: the first) held ``lastRefusal``: on a new connection, 0 is the
    /// server's greeting.
    var refusalReply = -1
    /// Whether ``replyLines`` is kept (an e-mail to several recipients, whose answers to each
    /// `RCPT TO` are read from it): off, no line is copied.
    var keepsReplies = false
    /// The last line of each reply, in order (while ``keepsReplies``).
    var replyLines: [[UInt8]] = []
    /// Networks this transfer may not connect to (webhooks: ``CurlCallbacks/openSocket(_:_:_:)``).
    var blocked: BlockedNetworks?
    /// The first address refused because it was in ``blocked``.
    var refusedAddress: String?
    /// Whether a socket was made for an address outside ``blocked`` (then a failed transfer is
    /// that address's failure, not the block's).
    var allowedAddress = false
    /// Whether the response body was cut at ``responseLimit`` (the transfer then ends with
    /// `CURLE_WRITE_ERROR`, the status line already read).
    var responseCut = false
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
        // Past the limit the rest is not read: the status line is the answer, and a receiver
        // streaming a huge (or endless) body would otherwise hold the transfer until its timeout.
        if n > room {
            exchange.responseCut = true
            return 0
        }
        return n
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
            // Only the last line is kept (the final reply): no string per line.
            exchange.lastLine.removeAll(keepingCapacity: true)
            exchange.lastLine.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
            if end - start >= 3, (0x30...0x39).contains(bytes[start]),
               (0x30...0x39).contains(bytes[start + 1]), (0x30...0x39).contains(bytes[start + 2]) {
                if bytes[start] == 0x34 || bytes[start] == 0x35 {
                    exchange.lastRefusal = exchange.lastLine
                    exchange.refusalReply = exchange.replies
                }
                // `250-…` continues a reply; `250 …` (or `250`) ends it.
                if end - start == 3 || bytes[start + 3] != 0x2d {
                    exchange.replies += 1
                    if exchange.keepsReplies { exchange.replyLines.append(exchange.lastLine) }
                }
            }
        }
        return n
    }

    /// `CURLOPT_OPENSOCKETFUNCTION`: makes the socket for an address libcurl resolved, unless the
    /// exchange's ``CurlExchange/blocked`` networks hold it (checked at every connection, so a name
    /// re-pointed at an internal address after registration is refused too): then the address is
    /// noted and no socket made (libcurl tries the name's other addresses, else fails with
    /// `CURLE_COULDNT_CONNECT`). An address family other than IPv4/IPv6 is refused then too.
    static func openSocket(_ user: UnsafeMutableRawPointer?, _ purpose: curlsocktype,
                           _ address: UnsafeMutablePointer<curl_sockaddr>?) -> curl_socket_t {
        guard let address else { return CURL_SOCKET_BAD }
        if let user, case let exchange = Unmanaged<CurlExchange>.fromOpaque(user).takeUnretainedValue(), let blocked = exchange.blocked {
            let bytes = addressBytes(address)
            if bytes.map(blocked.blocks) ?? true {
                if exchange.refusedAddress == nil {
                    exchange.refusedAddress = bytes.map(IPAddress.text) ?? "família \(address.pointee.family) / family \(address.pointee.family)"
                }
                return CURL_SOCKET_BAD
            }
            exchange.allowedAddress = true
        }
        return socket(address.pointee.family, address.pointee.socktype, address.pointee.`protocol`)
    }

    /// The IP address in a `curl_sockaddr` (16 bytes, ``IPAddress``); nil for other families.
    static func addressBytes(_ address: UnsafeMutablePointer<curl_sockaddr>) -> [UInt8]? {
        // libcurl's `curl_sockaddr` ends in room for any socket address (its `addr` is only the
        // generic header): read the family's own structure from there.
        let raw = UnsafeRawPointer(address) + MemoryLayout<curl_sockaddr>.offset(of: \curl_sockaddr.addr)!
        let length = Int(address.pointee.addrlen)
        switch address.pointee.family {
        case AF_INET where length >= MemoryLayout<sockaddr_in>.size:
            return IPAddress.mapped(raw.loadUnaligned(as: sockaddr_in.self).sin_addr)
        case AF_INET6 where length >= MemoryLayout<sockaddr_in6>.size:
            return withUnsafeBytes(of: raw.loadUnaligned(as: sockaddr_in6.self).sin6_addr) { Array($0) }
        default:
            return nil
        }
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

    package init() {
        _ = Self.globalInit
        handle = curl_easy_init()
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// The outcome of one transfer.
    struct Result {
        var code: CURLcode
        var responseCode: Int
        /// libcurl's error text; empty when the transfer succeeded (`code` is `CURLE_OK`).
        var message: String
        /// Connections the transfer opened (0: it reused one).
        var connects: Int = 0
    }

    /// What the options left on the handle were set for (see ``prepare(_:profile:configure:each:)``).
    private var configuredFor: String?

    /// Readies the handle for one transfer wired to `exchange`, for `curl_easy_perform` or a
    /// ``CurlMulti``; ``finish(_:)`` then reads its result. libcurl keeps options from one
    /// transfer to the next, so the options that do not change (`configure`) are set only when
    /// the handle was last set up for another `profile` (or none: then its options are reset
    /// first, keeping its connections); `each` sets this transfer's own options every time.
    /// - Parameter profile: names everything `configure` sets (e.g. the relay's URL, TLS and
    ///   credentials); nil when the options differ from one transfer to the next.
    func prepare(_ exchange: CurlExchange, profile: String? = nil, configure: (UnsafeMutableRawPointer) -> Void,
                 each: (UnsafeMutableRawPointer) -> Void = { _ in }) {
        errorBuffer[0] = 0
        self.exchange = exchange
        if profile == nil || profile != configuredFor {
            curl_easy_reset(handle)
            _ = ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
            _ = ccurl_setopt_read_function(handle) { CurlCallbacks.read($0, $1, $2, $3) }
            _ = ccurl_setopt_write_function(handle) { CurlCallbacks.write($0, $1, $2, $3) }
            _ = ccurl_setopt_header_function(handle) { CurlCallbacks.header($0, $1, $2, $3) }
            _ = ccurl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
            configure(handle)
            configuredFor = profile
        }
        let user = Unmanaged.passUnretained(exchange).toOpaque()
        _ = ccurl_setopt_pointer(handle, CURLOPT_READDATA, user)
        _ = ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, user)
        _ = ccurl_setopt_pointer(handle, CURLOPT_HEADERDATA, user)
        each(handle)
    }

    /// The result of the prepared transfer, which ended with `code`.
    func finish(_ code: CURLcode) -> Result {
        exchange = nil
        var response: Int = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &response)
        var connects: Int = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_NUM_CONNECTS, &connects)
        Self.newConnections.add(connects, ordering: .relaxed)
        // The error text only for a failed transfer (its readers look at it only then): no
        // string made per message sent.
        var message = ""
        if code != CURLE_OK {
            message = String(cString: errorBuffer)
            if message.isEmpty { message = String(cString: curl_easy_strerror(code)) }
        }
        return Result(code: code, responseCode: response, message: message, connects: connects)
    }

    /// Shuts down the connection the last transfer left in libcurl's cache, if any, so it is
    /// never used again (libcurl finds it dead and opens another). Called after a failed
    /// transfer, while the handle is still in its multi handle (once taken out, libcurl no
    /// longer names the connection): libcurl 7.88 keeps an SMTP connection whose answer to the
    /// message's end timed out, and gave the next message that session, still waiting for the
    /// relay's late answer to the previous one — the new message's commands were answered with
    /// the old one's replies, or timed out in turn without reaching the relay.
    func shutDownKeptConnection() {
        var socket: curl_socket_t = CURL_SOCKET_BAD
        guard ccurl_getinfo_socket(handle, CURLINFO_ACTIVESOCKET, &socket) == CURLE_OK, socket != CURL_SOCKET_BAD else { return }
        _ = shutdown(socket, Int32(SHUT_RDWR))
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
    func run() -> SendOutcome {
        let code = curl_easy_perform(curl.handle)
        ended(code)
        return complete(code)
    }

    /// The transfer ended with `code` and its handle is still where it ran (before
    /// `curl_multi_remove_handle`): a failed transfer's connection is not reused
    /// (``CurlEasy/shutDownKeptConnection()``).
    func ended(_ code: CURLcode) {
        if code != CURLE_OK { curl.shutDownKeptConnection() }
    }

    /// The outcome of the transfer, which ended with `code`.
    func complete(_ code: CURLcode) -> SendOutcome { outcome(curl.finish(code)) }
}
