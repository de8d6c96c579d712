import CMicroHTTPD
import Foundation
import Observability
import RPCTransport
import Synchronization

/// An HTTP/1.1 server on libmicrohttpd: an internal pool of polling threads (epoll), each
/// reading requests and running the handler for the connections it owns.
///
/// One thread of its own accepts the connections and hands each to the pool, which deals them
/// out over its workers (by socket number): connections opened together land on different
/// workers. (Left to accept by themselves, the workers each took up to 10 connections per
/// wake-up, and since a handler blocks its worker while it waits for an RPC call, every other
/// connection of that worker waited too: 16 connections opened at once were served by 4–5 of the
/// 16 workers, docs/BENCHMARKS-gateway.md.)
///
/// Bodies are collected up to ``HTTPServerConfiguration/maxBodyBytes`` (413 beyond; decided from
/// the headers when `Content-Length` announces it, see ``refuse(_:pending:connection:)``), except on the routes ``HTTPBodyStreaming`` names, whose bodies
/// go piece by piece to an ``HTTPBodySink`` that sets its own limit; header size, connection
/// count and idle time are bounded by libmicrohttpd options.
///
/// ```swift
/// let server = HTTPServer(configuration: config, logger: logger) { request in
///     HTTPResponse.text("olá")
/// }
/// try server.start()
/// server.stop()
/// ```
public final class HTTPServer: @unchecked Sendable {
    public typealias Handler = @Sendable (HTTPRequest) -> HTTPResponse

    public let configuration: HTTPServerConfiguration
    let logger: Logger
    let handler: Handler
    /// Answers a request whose body was too large (a JSON 413 from the API layer).
    let tooLarge: @Sendable (HTTPRequest) -> HTTPResponse
    /// The routes whose bodies stream, if any.
    let streaming: HTTPBodyStreaming?
    private var daemon: OpaquePointer?
    private var boundPort = 0
    /// The listening socket (-1 when stopped) and its accepting thread's end.
    private var listener: Int32 = -1
    private let acceptorState = Acceptor.State()
    /// Requests begun and not yet completed (headers read, answer not yet sent): ``stop()`` waits
    /// for them.
    let requestsInProgress = Atomic(0)
    /// Set by ``stop()``: answers carry `Connection: close` while the server drains.
    let draining = Atomic(false)
    /// The longest ``stop()`` waits for requests in progress before closing their connections.
    static let drainSeconds = 10.0

    public init(configuration: HTTPServerConfiguration, logger: Logger,
                tooLarge: @escaping @Sendable (HTTPRequest) -> HTTPResponse, streaming: HTTPBodyStreaming? = nil,
                handler: @escaping Handler) {
        self.configuration = configuration
        self.streaming = streaming
        self.logger = logger
        self.handler = handler
        self.tooLarge = tooLarge
    }

    /// The bound port.
    public var port: Int { boundPort }

    /// Binds (unless `boundBefore` was bound already) and starts the thread pool.
    /// - Parameter boundBefore: a socket bound beforehand (before the gateway opened its
    ///   database), which the server takes over.
    /// - Throws: ``HTTPServerError`` when the address cannot be bound.
    public func start(listeningOn boundBefore: ListeningSocket? = nil) throws {
        let bound: ListeningSocket
        do { bound = try boundBefore ?? ListeningSocket(host: configuration.host, port: configuration.port, backlog: Self.backlog) } catch {
            throw HTTPServerError(description: "cannot listen for HTTP: \(error)")
        }
        // The acceptor thread blocks in `accept`.
        guard let socket = bound.take(blocking: true) else {
            throw HTTPServerError(description: "cannot listen for HTTP on \(bound.address): the socket was already taken")
        }
        let context = Unmanaged.passUnretained(self).toOpaque()
        let started = cmhd_start(UInt32(configuration.threads), UInt32(configuration.maxConnections), UInt32(configuration.timeoutSeconds),
                                 configuration.maxHeaderBytes, Callbacks.access, context, Callbacks.completed, context)
        guard let started else {
            close(socket)
            throw HTTPServerError(description: "cannot start the HTTP server on \(configuration.host):\(configuration.port)")
        }
        daemon = started
        listener = socket
        boundPort = bound.port
        let acceptor = Acceptor(daemon: started, socket: socket, limit: UInt32(configuration.maxConnections), state: acceptorState)
        let thread = Thread { acceptor.run() }
        thread.name = "http-accept"
        thread.start()
        logger.notice("http listening", ["address": "\(configuration.host):\(boundPort)", "threads": String(configuration.threads)])
    }

    /// Stops accepting, lets the requests in progress finish (their handlers run to the end and
    /// their answers, marked `Connection: close`, are sent; at most ``drainSeconds``), then closes
    /// the connections and joins the threads. Closing at once used to drop the answer of a
    /// request whose handler had already done its work (an open written, the client never told).
    public func stop() {
        if listener >= 0 {
            // Wakes the accepting thread (its `accept` fails), then waits for it to end before the
            // daemon it hands connections to goes away.
            acceptorState.stopping.store(true, ordering: .sequentiallyConsistent)
            shutdown(listener, Int32(SHUT_RDWR))
            acceptorState.ended.wait()
            close(listener)
            listener = -1
        }
        draining.store(true, ordering: .sequentiallyConsistent)
        let deadline = Date().addingTimeInterval(Self.drainSeconds)
        while requestsInProgress.load(ordering: .sequentiallyConsistent) > 0 && Date() < deadline { usleep(5_000) }
        if let daemon {
            MHD_stop_daemon(daemon)
            self.daemon = nil
        }
    }

    /// Connections waiting to be accepted (the kernel caps it at `net.core.somaxconn`).
    static let backlog = 4096

    /// Accepts connections on the listening socket and hands each to the daemon's pool until the
    /// socket is shut down.
    private struct Acceptor: @unchecked Sendable {
        let daemon: OpaquePointer
        let socket: Int32
        /// ``HTTPServerConfiguration/maxConnections``: while the daemon holds that many, further
        /// connections wait in the listen backlog.
        let limit: UInt32
        let state: State

        /// Set by ``HTTPServer/stop()``; the thread's end.
        final class State: Sendable {
            let stopping = Atomic(false)
            let ended = DispatchSemaphore(value: 0)
        }

        func run() {
            defer { state.ended.signal() }
            while !state.stopping.load(ordering: .sequentiallyConsistent) {
                switch cmhd_accept_into(daemon, socket, limit) {
                case 0, EINTR, ECONNABORTED, EAGAIN, EPROTO, EPERM:
                    continue
                case EBUSY:
                    usleep(5_000)  // at the connection limit: until one closes
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    usleep(10_000)  // out of descriptors or memory: let connections close first
                default:
                    return  // EINVAL once shut down (stop)
                }
            }
        }
    }

    deinit { stop() }

    /// Per-request state kept by libmicrohttpd between calls of the access handler.
    final class Pending {
        var body: [UInt8] = []
        /// The request is refused (too large, not allowed, malformed): what is left of its body is
        /// read and dropped, and the answer is ``refusal``, or 413 when that is nil.
        var dropsBody = false
        var answered = false
        /// The answer to a request refused from its headers, sent once its body has been dropped.
        var refusal: HTTPResponse?
        /// Bytes of a refused body read and dropped so far.
        var discarded = 0
        /// Where a streamed body goes (``HTTPBodyStreaming``); nil when the body is collected.
        var sink: (any HTTPBodySink)?
        /// Parses a form body into ``sink``'s fields (``HTTPBodyStart/streamForm(_:)``).
        var form: OpaquePointer?
        /// The form parser stopped: the sink refused a field (it answers its error) or, if not,
        /// the body is not a well-formed form (400).
        var formStopped = false

        /// A field whose value libmicrohttpd announced with no bytes at offset 0, held back.
        ///
        /// When a piece of the body ends at a field's start, or its first bytes could still be
        /// the boundary (`\r\n-`…), libmicrohttpd calls the iterator once with no bytes at offset
        /// 0 and then *again* at offset 0 with the first bytes. Sinks take offset 0 as a new
        /// field (``HTTPBodySink/write(part:offset:_:)``), so a form arriving in small pieces
        /// (a slow or mobile client) had its JSON field refused as sent twice, and a file got an
        /// empty twin of the same name. The empty call is passed on only when what follows is not
        /// that field's first bytes: it was an empty value (an empty file), delivered once.
        var emptyStart: HTTPFormPart?

        /// Hands one piece of a form field to ``sink`` (see ``emptyStart``); false when the sink
        /// stopped (or is gone).
        func deliver(_ part: HTTPFormPart, offset: UInt64, _ bytes: UnsafeRawBufferPointer) -> Bool {
            guard let sink else { return false }
            if let held = emptyStart {
                emptyStart = nil
                let continues = offset == 0 && !bytes.isEmpty && held == part
                if !continues && !sink.write(part: held, offset: 0, UnsafeRawBufferPointer(start: nil, count: 0)) { return false }
            }
            if offset == 0 && bytes.isEmpty {
                emptyStart = part
                return true
            }
            return sink.write(part: part, offset: offset, bytes)
        }

        /// Ends the form parser (its last field reaches the sink).
        func closeForm() {
            if let form { MHD_destroy_post_processor(form) }
            form = nil
        }

        /// Ends the form parser of a body that arrived whole: its last field, and an empty value
        /// still held, reach the sink. False when the sink stopped on them.
        func finishForm() -> Bool {
            closeForm()
            guard let held = emptyStart else { return true }
            emptyStart = nil
            return sink?.write(part: held, offset: 0, UnsafeRawBufferPointer(start: nil, count: 0)) ?? false
        }
    }

    /// The C callbacks, defined in a type of the library (never in `main.swift`).
    enum Callbacks {
        static let yes = MHD_Result(rawValue: UInt32(cmhd_yes()))!
        static let no = MHD_Result(rawValue: UInt32(cmhd_no()))!

        static let access: MHD_AccessHandlerCallback = { cls, connection, url, method, _, uploadData, uploadSize, state in
            guard let cls, let connection, let state else { return no }
            let server = Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue()
            return server.access(connection: connection, url: url, method: method, uploadData: uploadData,
                                 uploadSize: uploadSize, state: state) ? yes : no
        }

        static let read: MHD_ContentReaderCallback = { cls, _, buffer, max in
            guard let cls, let buffer else { return cmhd_end_with_error() }
            let source = Unmanaged<SourceBox>.fromOpaque(cls).takeUnretainedValue().source
            do {
                let count = try source.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: max))
                return count == 0 ? cmhd_end_of_stream() : count
            } catch {
                return cmhd_end_with_error()
            }
        }

        static let release: MHD_ContentReaderFreeCallback = { cls in
            guard let cls else { return }
            Unmanaged<SourceBox>.fromOpaque(cls).takeRetainedValue().source.close()
        }

        static let formField: MHD_PostDataIterator = { cls, _, key, fileName, contentType, _, data, offset, size in
            guard let cls else { return no }
            let pending = Unmanaged<Pending>.fromOpaque(cls).takeUnretainedValue()
            guard pending.sink != nil else { return no }
            let part = HTTPFormPart(name: key.map { String(cString: $0) } ?? "", fileName: fileName.map { String(cString: $0) },
                                    contentType: contentType.map { String(cString: $0) })
            // A refusal is recorded by the sink, which answers it at the end.
            return pending.deliver(part, offset: offset, UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)) ? yes : no
        }

        static let completed: MHD_RequestCompletedCallback = { cls, _, state, _ in
            guard let state, let pointer = state.pointee else { return }
            if let cls { Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue().requestsInProgress.subtract(1, ordering: .sequentiallyConsistent) }
            let pending = Unmanaged<Pending>.fromOpaque(pointer).takeUnretainedValue()
            // A streamed body that never reached its end (the client went away, timed out).
            pending.closeForm()
            if let sink = pending.sink, !pending.answered { sink.abandon() }
            pending.sink = nil
            Unmanaged<Pending>.fromOpaque(pointer).release()
            state.pointee = nil
        }
    }

    private func access(connection: OpaquePointer, url: UnsafePointer<CChar>?, method: UnsafePointer<CChar>?,
                        uploadData: UnsafePointer<CChar>?, uploadSize: UnsafeMutablePointer<Int>?,
                        state: UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> Bool {
        guard let pointer = state.pointee else {
            // First call: only headers are known.
            let pending = Pending()
            state.pointee = Unmanaged.passRetained(pending).toOpaque()
            requestsInProgress.add(1, ordering: .sequentiallyConsistent)
            if let streaming, let method, let url, strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0,
               streaming.streams(String(cString: method), String(cString: url), cmhd_header(connection, "Content-Type").map { String(cString: $0) }) {
                switch streaming.begin(makeRequest(connection: connection, url: url, method: method, body: [])) {
                case .stream(let sink):
                    pending.sink = sink
                    return true
                case .streamForm(let sink):
                    pending.sink = sink
                    FormContentType.normalize(connection)
                    pending.form = MHD_create_post_processor(connection, 64 << 10, Callbacks.formField, pointer(pending))
                    if pending.form == nil {
                        // Not a form encoding libmicrohttpd knows.
                        pending.sink = nil
                        return refuse(sink.malformed(), pending: pending, connection: connection)
                    }
                    return true
                case .answer(let response):
                    return refuse(response, pending: pending, connection: connection)
                }
            }
            if let length = cmhd_header(connection, "Content-Length"),
               let declared = Int(String(cString: length)), declared > configuration.maxBodyBytes {
                let request = makeRequest(connection: connection, url: url, method: method, body: [])
                return refuse(tooLarge(request), pending: pending, connection: connection)
            }
            return true
        }
        let pending = Unmanaged<Pending>.fromOpaque(pointer).takeUnretainedValue()
        if let uploadSize, uploadSize.pointee > 0 {
            let count = uploadSize.pointee
            uploadSize.pointee = 0
            if pending.dropsBody {
                // A refused body is read and dropped, up to a bound; past it the answer goes at
                // once and libmicrohttpd closes the connection.
                pending.discarded += count
                guard !pending.answered, pending.discarded > configuration.discardBodyMaxBytes else { return true }
                pending.answered = true
                return send(answer(refused: pending, connection: connection, url: url, method: method), on: connection)
            }
            if let sink = pending.sink {
                if !pending.answered, let uploadData {
                    if let form = pending.form {
                        // MHD_NO: the sink stopped (it failed) or the form is malformed; the rest is dropped.
                        if MHD_post_process(form, uploadData, count) != Callbacks.yes { pending.formStopped = true }
                    } else {
                        sink.write(UnsafeRawBufferPointer(start: uploadData, count: count))
                    }
                    if pending.formStopped || sink.refused {
                        // The answer is known: the rest of the body is dropped (up to the bound).
                        pending.closeForm()
                        pending.sink = nil
                        pending.dropsBody = true
                        pending.refusal = pending.formStopped ? sink.malformed() : sink.finish()
                    }
                }
            } else if let uploadData {
                if pending.body.count + count > configuration.maxBodyBytes {
                    pending.dropsBody = true
                    pending.discarded = pending.body.count + count
                    pending.body = []
                } else {
                    uploadData.withMemoryRebound(to: UInt8.self, capacity: count) {
                        pending.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: count))
                    }
                }
            }
            return true
        }
        if pending.answered { return true }
        pending.answered = true
        if let sink = pending.sink {
            if !pending.finishForm() { pending.formStopped = true }
            pending.sink = nil
            // A stopped form is malformed unless the sink refused a field (then it answers that).
            return send(pending.formStopped ? sink.malformed() : sink.finish(), on: connection)
        }
        if pending.dropsBody { return send(answer(refused: pending, connection: connection, url: url, method: method), on: connection) }
        let request = makeRequest(connection: connection, url: url, method: method, body: pending.body)
        pending.body = []
        return send(handler(request), on: connection)
    }

    /// The answer to a request whose body was dropped: the refusal decided earlier, else 413 (a
    /// collected body that grew past the limit).
    private func answer(refused pending: Pending, connection: OpaquePointer, url: UnsafePointer<CChar>?,
                        method: UnsafePointer<CChar>?) -> HTTPResponse {
        defer { pending.refusal = nil }
        return pending.refusal ?? tooLarge(makeRequest(connection: connection, url: url, method: method, body: []))
    }

    /// Answers a request refused from its headers alone (too large, not allowed, malformed).
    ///
    /// A client waiting for `100 Continue`, or sending no body, gets the answer at once and never
    /// sends the body. One that sends the body without waiting has it read and dropped first (up
    /// to ``HTTPServerConfiguration/discardBodyMaxBytes``), and is answered at its end: closing a
    /// connection with unread bytes makes the kernel reset it, and the client may then lose the
    /// answer before it reads it (libmicrohttpd 0.9.75 does not linger before closing).
    private func refuse(_ response: HTTPResponse, pending: Pending, connection: OpaquePointer) -> Bool {
        pending.dropsBody = true
        let declared = cmhd_header(connection, "Content-Length").flatMap { Int(String(cString: $0)) }
        let chunked = cmhd_header(connection, "Transfer-Encoding") != nil
        let waits = cmhd_header(connection, "Expect").map { strcasecmp($0, "100-continue") == 0 } ?? false
        let sendsBody = chunked || (declared ?? 0) > 0
        if waits || !sendsBody || (declared ?? 0) > configuration.discardBodyMaxBytes {
            pending.answered = true
            return send(response, on: connection)
        }
        pending.refusal = response
        return true
    }

    private func pointer(_ pending: Pending) -> UnsafeMutableRawPointer {
        Unmanaged.passUnretained(pending).toOpaque()
    }

    private func makeRequest(connection: OpaquePointer, url: UnsafePointer<CChar>?, method: UnsafePointer<CChar>?,
                             body: [UInt8]) -> HTTPRequest {
        var request = HTTPRequest(method: method.map { String(cString: $0) } ?? "GET",
                                  path: url.map { String(cString: $0) } ?? "/", body: body)
        request.headers = Self.collect(connection, kind: cmhd_header_kind(), lowercase: true)
        request.query = Self.collect(connection, kind: cmhd_query_kind(), lowercase: false)
        var address = [CChar](repeating: 0, count: 64)
        let length = cmhd_client_address(connection, &address, 64)
        request.clientAddress = length > 0 ? String(decoding: address.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self) : "unknown"
        return request
    }

    private static func collect(_ connection: OpaquePointer, kind: Int32, lowercase: Bool) -> [String: String] {
        // Small first (most requests carry well under 2 KiB of headers), in uninitialised
        // temporary memory: cmhd_collect writes every byte it reports, NULs included.
        var capacity = 2 << 10
        while capacity <= 1 << 20 {
            let values = withUnsafeTemporaryAllocation(of: CChar.self, capacity: capacity) { buffer -> [String: String]? in
                let used = cmhd_collect(connection, kind, buffer.baseAddress, capacity)
                guard used >= 0 else { return nil }
                var values: [String: String] = [:]
                buffer.withMemoryRebound(to: UInt8.self) { bytes in
                    var start = 0
                    var key: String?
                    for index in 0..<used where bytes[index] == 0 {
                        if key == nil && lowercase {
                            key = Self.lowercasedName(UnsafeMutableBufferPointer(rebasing: bytes[start..<index]))
                        } else {
                            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                            if let name = key {
                                values[name] = text
                                key = nil
                            } else {
                                key = text
                            }
                        }
                        start = index + 1
                    }
                }
                return values
            }
            if let values { return values }
            capacity *= 4
        }
        return [:]
    }

    /// A header name lower-cased: ASCII in place (header names are tokens), anything else as
    /// `String.lowercased()` does it.
    static func lowercasedName(_ bytes: UnsafeMutableBufferPointer<UInt8>) -> String {
        var ascii = true
        for index in bytes.indices {
            let byte = bytes[index]
            if byte >= 0x80 { ascii = false; break }
            if byte >= 0x41 && byte <= 0x5A { bytes[index] = byte | 0x20 }
        }
        let text = String(decoding: UnsafeBufferPointer(bytes), as: UTF8.self)
        return ascii ? text : text.lowercased()
    }

    private func send(_ response: HTTPResponse, on connection: OpaquePointer) -> Bool {
        var headerBytes: [CChar] = []
        var headers = response.headers
        // While stopping, the client does not keep the connection for a next request.
        if draining.load(ordering: .relaxed) { headers.append(("Connection", "close")) }
        for (name, value) in headers {
            // Header values never carry CR/LF (response splitting); bytes, not Foundation's
            // string search, as this runs for every header of every answer.
            headerBytes.append(contentsOf: name.utf8CString)
            for byte in value.utf8 where byte != 0x0D && byte != 0x0A && byte != 0 { headerBytes.append(CChar(bitPattern: byte)) }
            headerBytes.append(0)
        }
        if let source = response.source {
            let box = Unmanaged.passRetained(SourceBox(source)).toOpaque()
            return cmhd_respond_stream(connection, UInt32(response.status), response.sourceLength ?? -1, Callbacks.read, box,
                                       Callbacks.release, headerBytes, headerBytes.count) == 1
        }
        return response.body.withUnsafeBytes { body in
            cmhd_respond(connection, UInt32(response.status), body.baseAddress, body.count, headerBytes, headerBytes.count) == 1
        }
    }

    /// Holds a response's ``HTTPBodySource`` for libmicrohttpd (a class reference it can keep).
    final class SourceBox {
        let source: any HTTPBodySource
        init(_ source: any HTTPBodySource) { self.source = source }
    }
}

/// The HTTP server could not start.
public struct HTTPServerError: Error, CustomStringConvertible {
    public var description: String
}
