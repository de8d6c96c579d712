import Foundation

/// A blocking TCP connection to 127.0.0.1, for feeding a server bytes no well-behaved client sends
/// (or sends in an order a library would not), with send and receive timeouts and no SIGPIPE.
public final class RawConnection: @unchecked Sendable {
    public let fd: Int32

    public init(port: Int, timeoutSeconds: Int = 5) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("socket failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let error = errno
            close(fd)
            throw TestSupportError("connect failed: errno \(error)")
        }
    }

    deinit { close(fd) }

    /// Ends the connection now, both ways (the descriptor itself is closed with the object).
    public func hangUp() { shutdown(fd, Int32(SHUT_RDWR)) }

    /// Sends `bytes`; false when the peer closed.
    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }

    /// Reads exactly `count` bytes; nil on close or timeout.
    public func read(_ count: Int) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let got = buffer[offset...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if got <= 0 { return nil }
            offset += got
        }
        return buffer
    }

    /// Whether the peer has closed the connection (waits up to the receive timeout).
    public func isClosedByPeer() -> Bool {
        var byte: UInt8 = 0
        while true {
            let got = recv(fd, &byte, 1, 0)
            if got == 0 { return true }
            if got < 0 { return errno != EAGAIN && errno != EWOULDBLOCK }
        }
    }

    /// Sends as much of `bytes` as the peer takes; the count sent before it closed or stopped
    /// reading (the send timeout).
    public func sendCounting(_ bytes: [UInt8]) -> Int {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { break }
            offset += sent
        }
        return offset
    }

    /// Everything the peer sends until it closes (or the receive timeout); nil when the
    /// connection was reset before anything arrived.
    public func readToEnd() -> [UInt8]? {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let got = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if got > 0 { received += buffer[0..<got]; continue }
            if got < 0 && received.isEmpty && errno == ECONNRESET { return nil }
            return received
        }
    }
}
