import ServiceKit

/// Where the gateway's HTTP server listens and how much it accepts.
///
/// | setting | environment | default |
/// |---|---|---|
/// | bind address | `GATEWAY_HTTP_HOST` (else `OCORRENCIAS_HOST`) | `127.0.0.1` |
/// | port | `GATEWAY_HTTP_PORT` | `8080` |
/// | threads of the pool | `GATEWAY_HTTP_THREADS` | `16` |
/// | max body | `GATEWAY_HTTP_MAX_BODY_BYTES` | 10 MiB |
/// | max attachment upload (streamed, not held in memory) | `GATEWAY_HTTP_MAX_UPLOAD_BYTES` | 100 MiB |
/// | an open's or reply's files up to this size travel inside the call (0: every file is uploaded first) | `GATEWAY_HTTP_INLINE_FILE_BYTES` | 256 KiB |
/// | at most this many files inside one open or reply | `GATEWAY_HTTP_INLINE_MAX_FILES` | 8 |
/// | at most this many bytes of files inside one open or reply | `GATEWAY_HTTP_INLINE_MAX_BYTES` | 2 MiB |
/// | longest an upload or download may take | `GATEWAY_HTTP_TRANSFER_SECONDS` | 900 |
/// | max header block (per-connection memory) | `GATEWAY_HTTP_MAX_HEADER_BYTES` | 32 KiB |
/// | connections | `GATEWAY_HTTP_MAX_CONNECTIONS` | 1024 |
/// | idle connection timeout | `GATEWAY_HTTP_TIMEOUT_SECONDS` | 30 |
/// | a refused body sent without waiting for `100 Continue` is read and dropped up to | `GATEWAY_HTTP_DISCARD_MAX_BYTES` | 32 MiB |
public struct HTTPServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// 0 lets the OS choose (tests).
    public var port = 8080
    /// libmicrohttpd's internal thread pool: each thread polls its share of the connections and
    /// runs handlers, which may block on RPC calls.
    public var threads = 16
    /// Larger bodies are answered 413 (at once when `Content-Length` says so).
    public var maxBodyBytes = 10 << 20
    /// Attachment uploads stream to intake (one chunk in memory at a time) up to this size;
    /// intake's own per-file limit applies too.
    public var maxUploadBytes = 100 << 20
    /// A file of at most this many bytes is sent inside intake's `OpenTicket` / `Reply` (`files`:
    /// one call, one transaction) instead of its own upload first, by the multipart open and by
    /// the clients that read ``inlineFiles`` (`GET /v1/file-limits`); keep it at most intake's
    /// `INTAKE_INLINE_CONTENT_BYTES` (256 KiB by default). 0 uploads every file.
    public var inlineFileBytes = 256 << 10
    /// At most this many files travel inside one open or reply (intake accepts 16 by default).
    public var maxInlineFiles = 8
    /// At most this many bytes of files travel inside one open or reply (intake accepts 3 MiB by
    /// default, under its 4 MiB frame).
    public var maxInlineBytes = 2 << 20
    /// The deadline of the calls that carry an attachment to or from intake.
    public var transferSeconds = 900
    /// Bounds the request line and headers: libmicrohttpd answers 431 when they do not fit.
    public var maxHeaderBytes = 32 << 10
    /// Further connections are refused by libmicrohttpd.
    public var maxConnections = 1024
    /// A connection idle this long is closed (slow clients included).
    public var timeoutSeconds = 30
    /// A body refused before it arrives (too large, not allowed) that the client sends anyway,
    /// without waiting for `100 Continue`, is read and dropped up to this many bytes and then
    /// answered, so the client reads the answer instead of a reset; a larger one, announced or
    /// reached, is answered at once and the connection closed. It also bounds how long a chunked
    /// body past ``maxBodyBytes`` keeps the connection reading.
    public var discardBodyMaxBytes = 32 << 20

    public init() {}

    /// The limits deciding which files travel inside a call: the multipart open applies them and
    /// `GET /v1/file-limits` serves them to the portal and the CLI.
    public var inlineFiles: InlineFileLimits {
        InlineFileLimits(fileBytes: inlineFileBytes, maxFiles: maxInlineFiles, maxBytes: maxInlineBytes, uploadBytes: maxUploadBytes)
    }

    /// Reads the `GATEWAY_HTTP_*` variables over the defaults.
    /// - Throws: ``ServiceKit/ConfigurationError`` naming a malformed variable (``EnvironmentSettings``).
    public init(environment: [String: String]) throws {
        self.init()
        let settings = EnvironmentSettings(environment)
        host = settings.text("GATEWAY_HTTP_HOST") ?? settings.text("OCORRENCIAS_HOST") ?? host
        let bytes = 0...(1 << 40)
        func read(_ name: String, _ range: ClosedRange<Int>, _ value: inout Int) throws {
            if let number = try settings.integer(name, in: range) { value = number }
        }
        try read("GATEWAY_HTTP_PORT", 0...65_535, &port)
        try read("GATEWAY_HTTP_THREADS", 1...1_024, &threads)
        try read("GATEWAY_HTTP_MAX_BODY_BYTES", 1...(1 << 40), &maxBodyBytes)
        try read("GATEWAY_HTTP_MAX_UPLOAD_BYTES", 1...(1 << 40), &maxUploadBytes)
        try read("GATEWAY_HTTP_INLINE_FILE_BYTES", bytes, &inlineFileBytes)
        try read("GATEWAY_HTTP_INLINE_MAX_FILES", 0...1_000, &maxInlineFiles)
        try read("GATEWAY_HTTP_INLINE_MAX_BYTES", bytes, &maxInlineBytes)
        try read("GATEWAY_HTTP_TRANSFER_SECONDS", 1...604_800, &transferSeconds)
        try read("GATEWAY_HTTP_MAX_HEADER_BYTES", 1_024...(16 << 20), &maxHeaderBytes)
        try read("GATEWAY_HTTP_MAX_CONNECTIONS", 1...1_000_000, &maxConnections)
        try read("GATEWAY_HTTP_TIMEOUT_SECONDS", 0...86_400, &timeoutSeconds)
        try read("GATEWAY_HTTP_DISCARD_MAX_BYTES", bytes, &discardBodyMaxBytes)
    }
}
