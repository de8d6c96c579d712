import CCurl
import Foundation

/// A mailbox on an IMAP server reached with libcurl, for services that poll one: search,
/// fetch a raw message, set or clear flags, move a message to another folder, create a folder.
/// Each call is one libcurl transfer on a fresh handle (login, command, logout), which suits
/// polling every few seconds or minutes; no IDLE.
///
/// ```swift
/// let bounces = IMAPMailbox(url: "imap://mail.example:143/INBOX", user: "bounces", password: "…")
/// for uid in try bounces.search("UNSEEN") {
///     let raw = try bounces.fetch(uid)       // sets \Seen
///     …
///     try bounces.move(uid, to: "Processed")
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

    public init(url: String, user: String, password: String) {
        self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.user = user
        self.password = password
    }

    /// UIDs of the messages matching an IMAP search `criteria` (`UNSEEN`, `FLAGGED`, `ALL`,
    /// `UNSEEN UNFLAGGED`), ascending.
    public func search(_ criteria: String) throws -> [Int] {
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
            // Already there? Then selecting it works; otherwise report the failure.
            let encoded = folder.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? folder
            var other = self
            other.url = "\(server)/\(encoded)"
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

    private func perform(_ target: String, request: String?) throws -> [UInt8] {
        guard let curl = curl_easy_init() else { throw IMAPError("curl_easy_init failed") }
        defer { curl_easy_cleanup(curl) }
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
            throw IMAPError("IMAP \(request ?? "FETCH") em \(target.split(separator: "@").last ?? "") falhou / failed: \(String(cString: curl_easy_strerror(code)))")
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
    public init(_ description: String) { self.description = description }
}
