import CCurl
import Foundation

/// A mailbox on an IMAP server, reached with libcurl, for the services that read one (intake's
/// incoming mail, notification's bounces): search, fetch a raw message, set or clear flags, move
/// a message to another folder, create a folder.
///
/// Commands share one libcurl handle (and so one connection, logged in once): copies of a
/// mailbox share it too, one command at a time. A command that fails on a connection the server
/// has meanwhile closed is tried once more on a fresh one. Waiting in IDLE is intake's.
///
/// ```swift
/// let inbox = IMAPMailbox(url: "imap://mail.example:143/INBOX", user: "suporte", password: "…")
/// for uid in try inbox.search("UNSEEN") {
///     let raw = try inbox.fetch(uid)       // sets \Seen
///     …
///     try inbox.move(uid, to: "Processed")
/// }
/// ```
public struct IMAPMailbox: Sendable {
    /// `imap://host:port/MAILBOX` (or `imaps://`).
    public var url: String
    public var user: String
    public var password: String
    public var timeoutMilliseconds = 30_000
    public var connectTimeoutMilliseconds = 5_000
    /// PEM bundle to verify an `imaps://` server (empty: the system's).
    public var caFile = ""
    private let session = Session()

    public init(url: String, user: String, password: String) {
        self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.user = user
        self.password = password
    }

    /// UIDs of the messages without `\Seen`, ascending.
    public func unseen() throws -> [Int] { try search("UNSEEN") }

    /// UIDs of the messages matching an IMAP search `criteria` (`UNSEEN`, `FLAGGED`, `ALL`), ascending.
    public func search(_ criteria: String) throws -> [Int] {
        // On a reused connection the mailbox stays selected, and a server may answer from the
        // view it last announced (dovecot syncs new mail at NOOP or the end of a command): NOOP
        // first, so mail that arrived since the last command is searched too.
        _ = try perform(url, request: "NOOP")
        let response = String(decoding: try perform(url, request: "UID SEARCH \(criteria)"), as: UTF8.self)
        return response.split(whereSeparator: \.isNewline)
            .filter { $0.hasPrefix("* SEARCH") }
            .flatMap { $0.dropFirst("* SEARCH".count).split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
            .sorted()
    }

    /// The raw message with UID `uid` (fetching sets `\Seen`).
    public func fetch(_ uid: Int) throws -> [UInt8] {
        try perform("\(url);UID=\(uid)", request: nil)
    }

    /// The size in bytes of the message with UID `uid` (`RFC822.SIZE`), without fetching it;
    /// nil when the server names none.
    public func size(_ uid: Int) throws -> Int64? {
        let response = String(decoding: try perform(url, request: "UID FETCH \(uid) (RFC822.SIZE)"), as: UTF8.self)
        guard let range = response.range(of: "RFC822.SIZE ") else { return nil }
        return Int64(response[range.upperBound...].prefix(while: \.isNumber))
    }

    /// At most the first `limit` bytes of the header block of the message with UID `uid`
    /// (`BODY[HEADER]<0.limit>`; sets `\Seen`), without the body.
    public func fetchHeader(_ uid: Int, limit: Int = 64 << 10) throws -> [UInt8] {
        try perform("\(url);UID=\(uid)/;SECTION=HEADER;PARTIAL=0.\(limit)", request: nil)
    }

    /// Adds (`add`) or removes flags, e.g. `\\Seen`, `\\Flagged`.
    public func setFlags(_ uid: Int, _ flags: String, add: Bool) throws {
        _ = try perform(url, request: "UID STORE \(uid) \(add ? "+" : "-")FLAGS (\(flags))")
    }

    /// Moves a message to `folder` (`UID MOVE`, RFC 6851); on a server without MOVE, copies it,
    /// marks the original `\\Deleted` and expunges.
    public func move(_ uid: Int, to folder: String) throws {
        let target = Self.quoted(folder)
        do {
            _ = try perform(url, request: "UID MOVE \(uid) \(target)")
        } catch {
            _ = try perform(url, request: "UID COPY \(uid) \(target)")
            try setFlags(uid, "\\Deleted", add: true)
            _ = try perform(url, request: "EXPUNGE")
        }
    }

    /// Creates `folder` when it does not exist yet (an existing one is not an error).
    public func createFolder(_ folder: String) throws {
        let server = Self.split(url).server
        do {
            _ = try perform(server + "/", request: "CREATE \(Self.quoted(folder))")
        } catch {
            // Already there? Then selecting it works; otherwise report the first failure.
            let encoded = folder.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? folder
            var other = IMAPMailbox(url: "\(server)/\(encoded)", user: user, password: password)
            other.timeoutMilliseconds = timeoutMilliseconds
            other.connectTimeoutMilliseconds = connectTimeoutMilliseconds
            other.caFile = caFile
            _ = try other.search("ALL")
        }
    }

    /// `imap://host:port` and the mailbox name of an IMAP URL.
    public static func split(_ url: String) -> (server: String, mailbox: String) {
        guard let scheme = url.range(of: "://"), let slash = url[scheme.upperBound...].firstIndex(of: "/") else {
            return (url, "INBOX")
        }
        let mailbox = String(url[url.index(after: slash)...]).removingPercentEncoding ?? "INBOX"
        return (String(url[..<slash]), mailbox.isEmpty ? "INBOX" : mailbox)
    }

    /// A mailbox name as an IMAP quoted string.
    public static func quoted(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    private final class Sink {
        var bytes: [UInt8] = []
    }

    /// The libcurl handle the commands share; its connection cache keeps the logged-in
    /// connection between commands (`curl_easy_reset` keeps live connections).
    private final class Session: @unchecked Sendable {
        let lock = NSLock()
        // Guarded by lock.
        var handle: UnsafeMutableRawPointer?
        deinit { if let handle { curl_easy_cleanup(handle) } }
    }

    private func perform(_ target: String, request: String?) throws -> [UInt8] {
        session.lock.lock()
        defer { session.lock.unlock() }
        if session.handle == nil { session.handle = curl_easy_init() }
        guard let curl = session.handle else { throw IMAPError("curl_easy_init failed") }
        do {
            return try perform(curl, target, request: request, fresh: false)
        } catch let error as IMAPError where error.connectionLost {
            return try perform(curl, target, request: request, fresh: true)
        }
    }

    private func perform(_ curl: UnsafeMutableRawPointer, _ target: String, request: String?, fresh: Bool) throws -> [UInt8] {
        curl_easy_reset(curl)
        if fresh { _ = ccurl_setopt_long(curl, CURLOPT_FRESH_CONNECT, 1) }
        let sink = Sink()
        let box = Unmanaged.passUnretained(sink).toOpaque()
        _ = ccurl_setopt_string(curl, CURLOPT_URL, target)
        _ = ccurl_setopt_string(curl, CURLOPT_USERNAME, user)
        _ = ccurl_setopt_string(curl, CURLOPT_PASSWORD, password)
        _ = ccurl_setopt_long(curl, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_setopt_long(curl, CURLOPT_TIMEOUT_MS, timeoutMilliseconds)
        _ = ccurl_setopt_long(curl, CURLOPT_CONNECTTIMEOUT_MS, connectTimeoutMilliseconds)
        if !caFile.isEmpty { _ = ccurl_setopt_string(curl, CURLOPT_CAINFO, caFile) }
        if let request { _ = ccurl_setopt_string(curl, CURLOPT_CUSTOMREQUEST, request) }
        _ = ccurl_setopt_pointer(curl, CURLOPT_WRITEDATA, box)
        _ = ccurl_setopt_write_function(curl, IMAPMailbox.write)
        let code = curl_easy_perform(curl)
        withExtendedLifetime(sink) {}
        guard code == CURLE_OK else {
            var error = IMAPError("IMAP \(request ?? "FETCH") em \(target.split(separator: "@").last ?? "") falhou / failed: \(String(cString: curl_easy_strerror(code)))")
            error.connectionLost = [CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING].contains(code)
            throw error
        }
        return sink.bytes
    }

    private static let write: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = { data, size, count, user in
        guard let data, let user else { return 0 }
        let sink = Unmanaged<Sink>.fromOpaque(user).takeUnretainedValue()
        let length = size * count
        data.withMemoryRebound(to: UInt8.self, capacity: length) { sink.bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: length)) }
        return length
    }
}

/// An IMAP transfer that failed (connection, login, command).
public struct IMAPError: Error, CustomStringConvertible {
    public var description: String
    /// The connection broke (send/receive failed): worth one more try on a fresh one.
    public var connectionLost = false
    public init(_ description: String) { self.description = description }
}
