import CCurl
import Foundation
import MailKit

/// One IMAP connection waiting in IDLE (RFC 2177) on the mailbox, so new mail is taken in when it
/// arrives instead of at the next poll.
///
/// libcurl has no IDLE: it connects and logs in (`CURLOPT_CONNECT_ONLY`), then this type speaks
/// the few commands it needs over that connection with `curl_easy_send`/`curl_easy_recv`
/// (`CAPABILITY`, `SELECT`, `IDLE`, `DONE`), TLS included for `imaps://`.
final class ImapIdleConnection {
    private let curl: UnsafeMutableRawPointer
    private let socket: Int32
    private var buffer: [UInt8] = []
    private var tag = 0

    /// The server does not announce IDLE: the caller polls instead.
    struct Unsupported: Error {}

    /// Connects, logs in, checks the IDLE capability and selects the mailbox.
    /// - Throws: ``Unsupported`` without IDLE; ``IMAPError`` when the server cannot be reached.
    init(_ mailbox: IMAPMailbox) throws {
        guard let curl = curl_easy_init() else { throw IMAPError("curl_easy_init failed") }
        let parts = IMAPMailbox.split(mailbox.url)
        _ = ccurl_setopt_string(curl, CURLOPT_URL, parts.server + "/")
        _ = ccurl_setopt_string(curl, CURLOPT_USERNAME, mailbox.user)
        _ = ccurl_setopt_string(curl, CURLOPT_PASSWORD, mailbox.password)
        _ = ccurl_setopt_long(curl, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_setopt_long(curl, CURLOPT_CONNECTTIMEOUT_MS, 5_000)
        _ = ccurl_setopt_long(curl, CURLOPT_CONNECT_ONLY, 1)
        let code = curl_easy_perform(curl)
        guard code == CURLE_OK else {
            curl_easy_cleanup(curl)
            throw IMAPError("IMAP IDLE: conexão falhou / connection failed: \(String(cString: curl_easy_strerror(code)))")
        }
        var socket: curl_socket_t = -1
        _ = ccurl_getinfo_socket(curl, CURLINFO_ACTIVESOCKET, &socket)
        self.curl = curl
        self.socket = socket
        // From here on a throw runs deinit, which closes the connection.
        let capabilities = try command("CAPABILITY", timeout: 10)
        guard capabilities.contains(where: { $0.uppercased().hasPrefix("* CAPABILITY") && $0.uppercased().contains(" IDLE") }) else {
            throw Unsupported()
        }
        _ = try command("SELECT \(IMAPMailbox.quoted(parts.mailbox))", timeout: 10)
    }

    deinit { curl_easy_cleanup(curl) }

    /// Waits in IDLE until the server reports new or changed messages, `timeout` seconds pass or
    /// `shouldStop` returns true (checked a few times a second), then leaves IDLE.
    /// - Returns: whether the server reported a change.
    /// - Throws: ``IMAPError`` when the connection fails (the caller reconnects later).
    func wait(timeout: Double, shouldStop: () -> Bool) throws -> Bool {
        tag += 1
        let idleTag = "I\(tag)"
        try send("\(idleTag) IDLE\r\n")
        guard let continuation = try line(deadline: Date().addingTimeInterval(10)), continuation.hasPrefix("+") else {
            throw IMAPError("IMAP IDLE recusado / refused")
        }
        let deadline = Date().addingTimeInterval(timeout)
        var changed = false
        while !changed && Date() < deadline && !shouldStop() {
            guard let update = try line(deadline: min(deadline, Date().addingTimeInterval(0.25))) else { continue }
            let words = update.uppercased().split(separator: " ")
            // "* 3 EXISTS", "* 1 RECENT", "* 2 FETCH (FLAGS …)".
            if words.count >= 3, words[0] == "*", ["EXISTS", "RECENT"].contains(String(words[2])) { changed = true }
        }
        try send("DONE\r\n")
        let closing = Date().addingTimeInterval(10)
        while let reply = try line(deadline: closing) {
            if reply.hasPrefix(idleTag + " ") {
                guard reply.dropFirst(idleTag.count + 1).uppercased().hasPrefix("OK") else { throw IMAPError("IMAP IDLE: \(reply)") }
                return changed
            }
            let words = reply.uppercased().split(separator: " ")
            if words.count >= 3, words[0] == "*", ["EXISTS", "RECENT"].contains(String(words[2])) { changed = true }
        }
        throw IMAPError("IMAP IDLE: sem resposta ao DONE / no answer to DONE")
    }

    // MARK: protocol

    /// Sends a tagged command and returns its lines up to and including the tagged `OK`.
    private func command(_ text: String, timeout: Double) throws -> [String] {
        tag += 1
        let name = "I\(tag)"
        try send("\(name) \(text)\r\n")
        var lines: [String] = []
        let deadline = Date().addingTimeInterval(timeout)
        while let line = try line(deadline: deadline) {
            lines.append(line)
            if line.hasPrefix(name + " ") {
                guard line.dropFirst(name.count + 1).uppercased().hasPrefix("OK") else { throw IMAPError("IMAP \(text): \(line)") }
                return lines
            }
        }
        throw IMAPError("IMAP \(text): sem resposta / no answer")
    }

    private func send(_ text: String) throws {
        var bytes = Array(text.utf8)
        while !bytes.isEmpty {
            var sent = 0
            let code = bytes.withUnsafeBytes { curl_easy_send(curl, $0.baseAddress, $0.count, &sent) }
            if code == CURLE_AGAIN {
                _ = waitSocket(events: Int16(POLLOUT), milliseconds: 1_000)
                continue
            }
            guard code == CURLE_OK else { throw IMAPError("IMAP: envio falhou / send failed: \(String(cString: curl_easy_strerror(code)))") }
            bytes.removeFirst(sent)
        }
    }

    /// The next line without its CRLF, or `nil` when `deadline` passes first.
    private func line(deadline: Date) throws -> String? {
        while true {
            if let end = buffer.firstIndex(of: 0x0A) {
                let line = buffer[..<end].last == 0x0D ? buffer[..<(end - 1)] : buffer[..<end]
                defer { buffer.removeFirst(end + 1) }
                return String(decoding: line, as: UTF8.self)
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            var received = 0
            let code = chunk.withUnsafeMutableBytes { curl_easy_recv(curl, $0.baseAddress, $0.count, &received) }
            if code == CURLE_OK {
                guard received > 0 else { throw IMAPError("IMAP: conexão fechada / connection closed") }
                buffer += chunk[..<received]
                continue
            }
            guard code == CURLE_AGAIN else { throw IMAPError("IMAP: leitura falhou / receive failed: \(String(cString: curl_easy_strerror(code)))") }
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { return nil }
            _ = waitSocket(events: Int16(POLLIN), milliseconds: Int32(min(left, 1) * 1000) + 1)
        }
    }

    private func waitSocket(events: Int16, milliseconds: Int32) -> Int32 {
        var descriptor = pollfd(fd: socket, events: events, revents: 0)
        return poll(&descriptor, 1, milliseconds)
    }
}

extension IMAPMailbox {
    /// Whether the server offers IDLE (RFC 2177) after login, which the poller then waits in.
    /// - Throws: ``IMAPError`` when the server cannot be reached.
    public func supportsIdle() throws -> Bool {
        do {
            _ = try ImapIdleConnection(self)
            return true
        } catch is ImapIdleConnection.Unsupported {
            return false
        }
    }
}
