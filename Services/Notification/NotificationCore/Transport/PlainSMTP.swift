import Foundation
@preconcurrency import Glibc

/// SMTP over a plain TCP connection kept between messages, for a relay reached by `smtp://`
/// without STARTTLS or AUTH (a local MTA or relay on a trusted network). TLS and AUTH go
/// through libcurl (``SMTPSender``).
///
/// The exchange is libcurl's: EHLO once per connection, then per message `MAIL FROM` (with
/// `SIZE=` when the server advertises SIZE), one `RCPT TO` per recipient, `DATA` and the message
/// with leading dots doubled and the `CRLF.CRLF` end; when the server offers PIPELINING the
/// envelope and `DATA` go out in one write (two round trips per message instead of four). Each step is one `send` and a blocking
/// `recv` of the reply, where libcurl also set up a transfer per message (options, URL, its
/// connection cache, its state machine) and polled the socket before each read: in the
/// end-to-end benchmark its send threads spent ~145 µs of CPU per e-mail, more than a third of
/// the service's.
final class PlainSMTPConnection {
    let host: String
    let port: UInt16
    /// The EHLO name: the URL's path (`smtp://relay/name`), else `localhost`, as libcurl.
    let ehloName: String
    let connectTimeoutMilliseconds: Int
    let sendTimeoutMilliseconds: Int
    let cancellation: CurlCancellation?
    private var fd: Int32 = -1
    private var sizeAdvertised = false
    /// Whether the connected server advertised SIZE (`MAIL FROM` then carries `SIZE=`).
    var advertisesSize: Bool { sizeAdvertised }
    private var pipeliningAdvertised = false
    /// Whether the connected server advertised PIPELINING (RFC 2920): `MAIL FROM`, the `RCPT TO`s
    /// and `DATA` then go out in one write, their replies are read after.
    var advertisesPipelining: Bool { pipeliningAdvertised }
    /// Received bytes not yet consumed as reply lines.
    private var received: [UInt8] = []
    private var receiveBuffer = [UInt8](repeating: 0, count: 4_096)
    private var deadline: UInt64 = 0
    /// How much of `received` is consumed.
    private var consumed = 0
    /// Set by a reply with a `SIZE` / `PIPELINING` line (EHLO's).
    private var sawSize = false
    private var sawPipelining = false

    /// The relay of `settings` when it is plain SMTP without AUTH; nil otherwise.
    init?(settings: NotificationSettings, cancellation: CurlCancellation?) {
        guard !settings.smtpStartTLS, settings.smtpUser.isEmpty, let url = URLComponents(string: settings.smtpURL),
              url.scheme?.lowercased() == "smtp", let host = url.host, !host.isEmpty else { return nil }
        self.host = host
        port = UInt16(url.port ?? 25)
        let path = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        ehloName = path.isEmpty ? "localhost" : path
        connectTimeoutMilliseconds = settings.connectTimeoutMilliseconds
        sendTimeoutMilliseconds = settings.sendTimeoutMilliseconds
        self.cancellation = cancellation
    }

    deinit {
        if fd >= 0 {
            // Best effort, as libcurl's QUIT when its handle is cleaned up.
            _ = Array("QUIT\r\n".utf8).withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) }
            close(fd)
        }
    }

    /// A failure of the connection (not an SMTP reply).
    struct ConnectionError: Error {
        var message: String
        /// Nothing was accepted in this exchange yet (a kept connection the server had closed).
        var beforeAnyReply: Bool
    }

    /// The outcome of one message.
    enum Outcome {
        /// The final reply to the message (250), or the first negative reply with its code.
        case reply(code: Int, line: String)
        case failed(String)
    }

    /// Sends one message. A kept connection the server closed meanwhile is replaced once.
    func send(from: String, recipients: [String], message: [UInt8], size: Int?, more: (() -> [UInt8]?)?) -> Outcome {
        deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(1, sendTimeoutMilliseconds)) * 1_000_000
        let reused = fd >= 0
        do {
            return try exchange(from: from, recipients: recipients, message: message, size: size, more: more)
        } catch let error as ConnectionError {
            disconnect()
            guard reused && error.beforeAnyReply else { return .failed(error.message) }
            do { return try exchange(from: from, recipients: recipients, message: message, size: size, more: more) } catch {
                disconnect()
                return .failed((error as? ConnectionError)?.message ?? "\(error)")
            }
        } catch {
            disconnect()
            return .failed("\(error)")
        }
    }

    private func exchange(from: String, recipients: [String], message: [UInt8], size: Int?, more: (() -> [UInt8]?)?) throws -> Outcome {
        if fd < 0 { try connectAndGreet() }
        let total = size ?? message.count
        var mail = "MAIL FROM:<\(from)>"
        if sizeAdvertised && total > 0 { mail += " SIZE=\(total)" }
        var reply: (code: Int, line: String)
        if pipeliningAdvertised {
            // RFC 2920: the envelope and DATA in one write, then their replies in order.
            var envelope = mail + "\r\n"
            for recipient in recipients { envelope += "RCPT TO:<\(recipient)>\r\n" }
            envelope += "DATA\r\n"
            reply = try command(envelope, first: true)
            var refused: (code: Int, line: String)? = reply.code == 250 ? nil : reply
            for _ in recipients {
                let answer = try readReply()
                if refused == nil && answer.code != 250 && answer.code != 251 { refused = answer }
            }
            reply = try readReply()
            if let refused {
                // The server may have accepted DATA for the recipients it took: no message may
                // follow, so the connection is dropped (the transaction dies with it).
                if reply.code == 354 {
                    disconnect()
                    return .reply(code: refused.code, line: refused.line)
                }
                return try abandon(refused)
            }
            guard reply.code == 354 else { return try abandon(reply) }
        } else {
            reply = try command(mail + "\r\n", first: true)
            guard reply.code == 250 else { return try abandon(reply) }
            for recipient in recipients {
                reply = try command("RCPT TO:<\(recipient)>\r\n")
                guard reply.code == 250 || reply.code == 251 else { return try abandon(reply) }
            }
            reply = try command("DATA\r\n")
            guard reply.code == 354 else { return try abandon(reply) }
        }
        var stuffer = DotStuffer()
        var out: [UInt8] = []
        out.reserveCapacity(message.count + message.count / 64 + 8)
        stuffer.append(message, to: &out)
        if let more {
            while let piece = more(), !piece.isEmpty {
                stuffer.append(piece, to: &out)
                if out.count >= 64 << 10 {
                    try sendAll(out)
                    out.removeAll(keepingCapacity: true)
                }
            }
        }
        out += stuffer.endsWithLineBreak ? Array(".\r\n".utf8) : Array("\r\n.\r\n".utf8)
        try sendAll(out)
        reply = try readReply()
        return .reply(code: reply.code, line: reply.line)
    }

    /// A negative reply inside a transaction: the transaction is reset (RSET) so the
    /// connection serves the next message, and the reply is the outcome.
    private func abandon(_ reply: (code: Int, line: String)) throws -> Outcome {
        if (try? command("RSET\r\n"))?.code != 250 { disconnect() }
        return .reply(code: reply.code, line: reply.line)
    }

    private func command(_ text: String, first: Bool = false) throws -> (code: Int, line: String) {
        do {
            try sendAll(Array(text.utf8))
            return try readReply()
        } catch var error as ConnectionError {
            error.beforeAnyReply = first
            throw error
        }
    }

    private func connectAndGreet() throws {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let list else {
            throw ConnectionError(message: "endereço do servidor SMTP não resolvido / SMTP relay not resolved: \(host) (\(String(cString: gai_strerror(status))))",
                                  beforeAnyReply: false)
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let current = entry {
            entry = current.pointee.ai_next
            let socketFD = socket(current.pointee.ai_family, current.pointee.ai_socktype, current.pointee.ai_protocol)
            if socketFD < 0 { lastError = String(cString: strerror(errno)); continue }
            if let failure = connect(socketFD, current.pointee.ai_addr, current.pointee.ai_addrlen, timeout: connectTimeoutMilliseconds) {
                lastError = failure
                close(socketFD)
                continue
            }
            fd = socketFD
            break
        }
        guard fd >= 0 else {
            throw ConnectionError(message: "conexão SMTP falhou / SMTP connection failed: \(host):\(port): \(lastError)", beforeAnyReply: false)
        }
        CurlEasy.newConnections.add(1, ordering: .relaxed)
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        // Blocking reads and writes in slices of 250 ms, so a stop (cancellation) and the
        // message's deadline are checked while a peer is silent.
        var slice = timeval(tv_sec: 0, tv_usec: 250_000)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &slice, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &slice, socklen_t(MemoryLayout<timeval>.size))
        received.removeAll(keepingCapacity: true)
        consumed = 0
        sizeAdvertised = false
        pipeliningAdvertised = false
        let greeting = try readReply()
        guard greeting.code == 220 else {
            throw ConnectionError(message: "servidor SMTP recusou a conexão / SMTP relay refused the connection: \(greeting.line)",
                                  beforeAnyReply: false)
        }
        sawSize = false
        sawPipelining = false
        let hello = try command("EHLO \(ehloName)\r\n")
        guard hello.code == 250 else {
            throw ConnectionError(message: "EHLO recusado / EHLO refused: \(hello.line)", beforeAnyReply: false)
        }
        sizeAdvertised = sawSize
        pipeliningAdvertised = sawPipelining
    }

    /// Connects `socketFD` within `timeout` ms. - Returns: nil, or why it failed.
    private func connect(_ socketFD: Int32, _ address: UnsafeMutablePointer<sockaddr>?, _ length: socklen_t, timeout: Int) -> String? {
        let flags = fcntl(socketFD, F_GETFL, 0)
        _ = fcntl(socketFD, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(socketFD, F_SETFL, flags) }
        if Glibc.connect(socketFD, address, length) == 0 { return nil }
        guard errno == EINPROGRESS else { return String(cString: strerror(errno)) }
        var poller = pollfd(fd: socketFD, events: Int16(POLLOUT), revents: 0)
        let ready = poll(&poller, 1, Int32(max(1, timeout)))
        if ready == 0 { return "tempo de conexão esgotado / connection timed out after \(timeout) ms" }
        if ready < 0 { return String(cString: strerror(errno)) }
        var error: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        _ = getsockopt(socketFD, SOL_SOCKET, SO_ERROR, &error, &size)
        return error == 0 ? nil : String(cString: strerror(error))
    }

    private func checkTime() throws {
        if cancellation?.isCancelled == true {
            throw ConnectionError(message: "envio interrompido / send aborted (stopping)", beforeAnyReply: false)
        }
        if DispatchTime.now().uptimeNanoseconds > deadline {
            throw ConnectionError(message: "tempo de envio esgotado / send timed out after \(sendTimeoutMilliseconds) ms", beforeAnyReply: false)
        }
    }

    private func sendAll(_ bytes: [UInt8]) throws {
        var offset = 0
        try bytes.withUnsafeBytes { buffer in
            while offset < buffer.count {
                let n = Glibc.send(fd, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                if n > 0 { offset += n; continue }
                if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) { try checkTime(); continue }
                throw ConnectionError(message: "envio ao servidor SMTP falhou / sending to the SMTP relay failed: \(String(cString: strerror(errno)))",
                                      beforeAnyReply: false)
            }
        }
    }

    /// One reply: its lines up to the last (`250 OK`, or `250-…` lines then `250 …`), with the
    /// last line's code and text (trimmed). Lines are scanned in the receive buffer; only the
    /// last becomes a string.
    private func readReply() throws -> (code: Int, line: String) {
        while true {
            while let end = received[consumed...].firstIndex(of: 0x0a) {
                let start = consumed
                consumed = end + 1
                let length = end - start
                let digits = length >= 3 && (0..<3).allSatisfy { received[start + $0] >= 0x30 && received[start + $0] <= 0x39 }
                let code = digits ? Int(received[start] - 0x30) * 100 + Int(received[start + 1] - 0x30) * 10 + Int(received[start + 2] - 0x30) : 0
                if digits && length > 3 && received[start + 3] == UInt8(ascii: "-") {
                    // A continuation line: only EHLO's `250-SIZE …` and `250-PIPELINING` matter.
                    noteKeyword(start, length)
                    continue
                }
                var stop = end
                while stop > start && (received[stop - 1] == 0x0d || received[stop - 1] == 0x20 || received[stop - 1] == 0x09) { stop -= 1 }
                var first = start
                while first < stop && (received[first] == 0x20 || received[first] == 0x09) { first += 1 }
                let line = String(decoding: received[first..<stop], as: UTF8.self)
                noteKeyword(start, length)
                if consumed == received.count {
                    received.removeAll(keepingCapacity: true)
                    consumed = 0
                }
                guard code > 0 else {
                    throw ConnectionError(message: "resposta SMTP inválida / malformed SMTP reply: \(line)", beforeAnyReply: false)
                }
                return (code, line)
            }
            try receive()
        }
    }

    /// Notes an EHLO keyword this client uses, in the reply line at `start`.
    private func noteKeyword(_ start: Int, _ length: Int) {
        func keyword(_ name: String) -> Bool {
            let count = name.utf8.count
            guard length >= 4 + count else { return false }
            let end = start + 4 + count
            return received[start + 4..<end].elementsEqual(name.utf8)
                && (length == 4 + count || received[end] == 0x20 || received[end] == 0x0d)
        }
        if keyword("SIZE") { sawSize = true }
        if keyword("PIPELINING") { sawPipelining = true }
    }

    /// Reads what the server sent (blocking, in slices that check the deadline and a stop).
    private func receive() throws {
        if consumed > 0 {
            received.removeSubrange(0..<consumed)
            consumed = 0
        }
        let n = receiveBuffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n > 0 {
            received.append(contentsOf: receiveBuffer[0..<n])
            if received.count > 1 << 20 {
                throw ConnectionError(message: "resposta SMTP longa demais / SMTP reply too long", beforeAnyReply: false)
            }
            return
        }
        if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            try checkTime()
            return
        }
        throw ConnectionError(message: n == 0 ? "servidor SMTP fechou a conexão / SMTP relay closed the connection"
                                  : "leitura do servidor SMTP falhou / reading from the SMTP relay failed: \(String(cString: strerror(errno)))",
                              beforeAnyReply: false)
    }

    private func disconnect() {
        if fd >= 0 { close(fd) }
        fd = -1
        received.removeAll(keepingCapacity: true)
        consumed = 0
    }
}

/// SMTP's transparency (RFC 5321 4.5.2) over a message given in pieces: a `.` at the start of
/// a line (after CRLF, or first in the message) is doubled, as libcurl does.
struct DotStuffer {
    /// The last two bytes seen ("\r\n" before the first byte: the message starts a line).
    private var previous: (UInt8, UInt8) = (0x0d, 0x0a)
    private var empty = true

    var endsWithLineBreak: Bool { !empty && previous == (0x0d, 0x0a) }

    mutating func append(_ bytes: [UInt8], to out: inout [UInt8]) {
        guard !bytes.isEmpty else { return }
        var start = 0
        var index = 0
        var (a, b) = previous
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: ".") && a == 0x0d && b == 0x0a {
                out += bytes[start...index]
                out.append(UInt8(ascii: "."))
                start = index + 1
            }
            a = b
            b = byte
            index += 1
        }
        if start < bytes.count { out += bytes[start...] }
        previous = (a, b)
        empty = false
    }
}
