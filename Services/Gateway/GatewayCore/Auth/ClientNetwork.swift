import Foundation
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// What the per-address limits count a client as (the login throttle's address bucket and the
/// per-IP rate limit): an IPv4 address as it is; an IPv6 address as its **/64**, the block one
/// host or customer line is given (RFC 6177): counted per address, a single machine could draw a
/// fresh address for every guess out of 2^64 and never meet the limit. An IPv4-mapped IPv6
/// address (`::ffff:192.0.2.1`, from a dual-stack socket) is the IPv4 address.
public enum ClientNetwork {
    /// The key of `address` (as the HTTP server reports it); text that is no IP address is kept.
    public static func key(_ address: String) -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        guard address.contains(":"), inet_pton(AF_INET6, address, &bytes) == 1 else { return address }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
            return bytes[12...].map(String.init).joined(separator: ".")
        }
        for index in 8..<16 { bytes[index] = 0 }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, bytes, &text, socklen_t(text.count)) != nil else { return address }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) + "/64"
    }
}
