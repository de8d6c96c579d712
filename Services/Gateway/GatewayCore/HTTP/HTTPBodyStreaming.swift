/// A request body handed over piece by piece as it arrives instead of collected in memory (an
/// attachment of 100 MiB costs the gateway one chunk's worth, not its size). All calls for one
/// request come from the server thread that owns its connection, in order: ``write(_:)`` for
/// each piece, then either ``finish()`` once or ``abandon()`` once.
public protocol HTTPBodySink: AnyObject {
    /// The next bytes of the body. A sink that failed keeps its error for ``finish()`` and
    /// ignores the rest.
    func write(_ bytes: UnsafeRawBufferPointer)
    /// The sink has failed: ``finish()`` answers its error whatever follows, so the server may
    /// drop the rest of the body (a bounded amount) instead of reading it into the sink.
    var refused: Bool { get }
    /// The next bytes of a form's field (`multipart/form-data` or urlencoded, parsed by
    /// libmicrohttpd's post processor): `offset` 0 starts a field's value. Returns false to stop
    /// parsing (the sink failed).
    func write(part: HTTPFormPart, offset: UInt64, _ bytes: UnsafeRawBufferPointer) -> Bool
    /// The whole body arrived: the answer.
    func finish() -> HTTPResponse
    /// The form parser stopped: the answer (400, or the refusal the sink recorded when it was
    /// the sink that stopped it), after undoing what was started (instead of ``finish()``).
    func malformed() -> HTTPResponse
    /// The connection ended before the body did: undo whatever was started.
    func abandon()
}

/// A field of a form body as the post processor names it.
public struct HTTPFormPart: Sendable, Equatable {
    public var name: String
    /// Set for a file (`Content-Disposition: form-data; name=...; filename=...`).
    public var fileName: String?
    public var contentType: String?

    public init(name: String, fileName: String? = nil, contentType: String? = nil) {
        self.name = name
        self.fileName = fileName
        self.contentType = contentType
    }
}

/// What to do with a request whose body may stream, decided from its line and headers.
public enum HTTPBodyStart {
    /// Feed the raw body to this sink.
    case stream(any HTTPBodySink)
    /// Parse the body as a form (multipart or urlencoded) and feed its fields to this sink.
    case streamForm(any HTTPBodySink)
    /// Answer now without reading the body (refused, unauthenticated, too large...).
    case answer(HTTPResponse)
}

/// The routes whose bodies stream, and how each begins.
public struct HTTPBodyStreaming: Sendable {
    /// A cheap test on method, path and `Content-Type`, asked for every POST and PUT before
    /// its body.
    public var streams: @Sendable (_ method: String, _ path: String, _ contentType: String?) -> Bool
    /// Given the request without its body: a sink, or an answer.
    public var begin: @Sendable (HTTPRequest) -> HTTPBodyStart

    public init(streams: @escaping @Sendable (_ method: String, _ path: String, _ contentType: String?) -> Bool,
                begin: @escaping @Sendable (HTTPRequest) -> HTTPBodyStart) {
        self.streams = streams
        self.begin = begin
    }
}

/// A response body produced piece by piece while it is sent (a download relayed from intake),
/// so the gateway never holds it whole. Called from the server thread sending it.
public protocol HTTPBodySource: AnyObject, Sendable {
    /// Fills `buffer` with the next bytes; returns how many, 0 at the end.
    /// - Throws: when the body cannot be completed; the connection is then cut, so the client
    ///   sees a short body rather than a wrong one.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    /// The server is done with the body (sent whole, failed, or the client went away).
    func close()
}
