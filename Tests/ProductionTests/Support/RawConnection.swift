import Foundation
import Messages
import RPCTransport
import TestSupport

/// A blocking TCP connection for feeding a service bytes no well-behaved client sends.
final class RawConnection: @unchecked Sendable {
    let fd: Int32

    init(port: Int, timeoutSeconds: Int = 5) throws {
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

    /// Sends `bytes`; false when the peer closed.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }

    /// Reads exactly `count` bytes; nil on close or timeout.
    func read(_ count: Int) -> [UInt8]? {
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
    func isClosedByPeer() -> Bool {
        var byte: UInt8 = 0
        while true {
            let got = recv(fd, &byte, 1, 0)
            if got == 0 { return true }
            if got < 0 { return errno != EAGAIN && errno != EWOULDBLOCK }
        }
    }

    static func framed(_ body: [UInt8]) -> [UInt8] {
        let length = UInt32(body.count).bigEndian
        return withUnsafeBytes(of: length) { Array($0) } + body
    }

    func sendFrame(_ frame: RpcV1.Frame) -> Bool { send(Self.framed(frame.serializedBytes())) }

    func readFrame() -> RpcV1.Frame? {
        guard let prefix = read(4) else { return nil }
        let length = Int(prefix.reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        guard length <= 4 << 20, let body = length == 0 ? [] : read(length) else { return nil }
        return try? RpcV1.Frame(serializedBytes: body)
    }

    /// Runs the HELLO / AUTH / AUTH_OK exchange of docs/PROTOCOL.md with `secret`.
    func authenticate(_ secret: DeploymentSecret) -> Bool {
        guard let hello = readFrame(), hello.kind == .hello else { return false }
        let clientNonce = DeploymentSecret.randomBytes(32)
        var auth = RpcV1.Frame()
        auth.kind = .auth
        auth.metadata = ["caller": "fuzz"]
        auth.payload = clientNonce + secret.mac(Array("ocorrencias-rpc-v1 client".utf8), hello.payload, clientNonce)
        guard sendFrame(auth), let ok = readFrame() else { return false }
        return ok.kind == .authOk
    }
}

/// A small deterministic generator (SplitMix64), so a failing fuzz run can be repeated.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) } }

    /// `bytes` with a few random flips, insertions, deletions or truncation.
    mutating func mutate(_ bytes: [UInt8]) -> [UInt8] {
        var out = bytes
        for _ in 0..<Int.random(in: 1...4, using: &self) {
            switch Int.random(in: 0..<5, using: &self) {
            case 0 where !out.isEmpty: out[Int.random(in: 0..<out.count, using: &self)] ^= UInt8.random(in: 1...255, using: &self)
            case 1: out.insert(UInt8.random(in: 0...255, using: &self), at: Int.random(in: 0...out.count, using: &self))
            case 2 where !out.isEmpty: out.remove(at: Int.random(in: 0..<out.count, using: &self))
            case 3 where !out.isEmpty: out = Array(out.prefix(Int.random(in: 0..<out.count, using: &self)))
            default: out += self.bytes(Int.random(in: 1...16, using: &self))
            }
        }
        return out
    }
}
