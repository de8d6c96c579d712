import Foundation
@preconcurrency import Glibc

/// IP addresses as bytes, in one form for both families: an IPv4 address is held as its
/// IPv4-mapped IPv6 address (`::ffff:a.b.c.d`), so `127.0.0.0/8` and `::ffff:127.0.0.0/104` are the
/// same network and an IPv4 address reached through an IPv6 socket matches IPv4 networks.
enum IPAddress {
    /// The 16 bytes of a strict textual IPv4 (dotted quad) or IPv6 address; nil for anything else.
    static func parse(_ text: String) -> (bytes: [UInt8], ipv4: Bool)? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return (mapped(v4), true) }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return (withUnsafeBytes(of: v6) { Array($0) }, false) }
        return nil
    }

    /// An IPv4 address in any of the forms the C resolver and libcurl's URL parser accept
    /// (`127.1`, `2130706433`, `0x7f.0.0.1`, `0177.0.0.1`: `inet_aton`), as mapped bytes.
    static func parseLegacyIPv4(_ text: String) -> [UInt8]? {
        guard !text.isEmpty, text.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2e || $0 == 0x78 || ($0 >= 0x61 && $0 <= 0x66) })
        else { return nil }
        var v4 = in_addr()
        return inet_aton(text, &v4) == 1 ? mapped(v4) : nil
    }

    /// `::ffff:a.b.c.d` for an IPv4 address (network byte order).
    static func mapped(_ v4: in_addr) -> [UInt8] {
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] + withUnsafeBytes(of: v4.s_addr) { Array($0) }
    }

    /// An address's usual text: dotted quad for IPv4-mapped bytes, else IPv6.
    static func text(_ bytes: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
            var v4 = in_addr()
            withUnsafeMutableBytes(of: &v4.s_addr) { $0.copyBytes(from: bytes[12..<16]) }
            _ = inet_ntop(AF_INET, &v4, &buffer, socklen_t(buffer.count))
        } else {
            var v6 = in6_addr()
            withUnsafeMutableBytes(of: &v6) { $0.copyBytes(from: bytes) }
            _ = inet_ntop(AF_INET6, &v6, &buffer, socklen_t(buffer.count))
        }
        return String(cString: buffer)
    }
}

/// One IP network in CIDR notation (`127.0.0.0/8`, `fe80::/10`; a bare address is a /32 or /128).
package struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    /// The network's 16 bytes (``IPAddress``: IPv4 as mapped IPv6) and prefix length over them.
    let bytes: [UInt8]
    let prefixLength: Int
    /// As written in the setting.
    package let description: String

    /// Parses `address/prefix`; nil when malformed or when bits after the prefix are set
    /// (`10.1.0.0/8` is more likely a typo than a wish for `10.0.0.0/8`).
    package init?(cidr text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddress.parse(String(parts[0])) else { return nil }
        let width = address.ipv4 ? 32 : 128
        var prefix = width
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), parts[1].count <= 3,
                  let n = Int(parts[1]), n <= width else { return nil }
            prefix = n
        }
        prefixLength = prefix + (128 - width)
        bytes = address.bytes
        description = text
        guard bytes == masked(bytes) else { return nil }
    }

    /// `address` with the bits after the prefix cleared.
    private func masked(_ address: [UInt8]) -> [UInt8] {
        address.enumerated().map { index, byte in
            let kept = min(8, max(0, prefixLength - index * 8))
            return kept == 8 ? byte : byte & ~(UInt8(0xff) >> kept)
        }
    }

    /// Whether `address` (16 bytes, ``IPAddress``) is in this network.
    func contains(_ address: [UInt8]) -> Bool {
        address.count == 16 && masked(address) == bytes
    }
}

/// The networks webhooks may not reach (`NOTIFICATION_WEBHOOK_BLOCKED_NETWORKS`): checked when a
/// webhook is registered (a literal IP, or the name `localhost`) and by libcurl before each
/// connection it opens for a webhook (the addresses a name resolves to at that moment), so a
/// stolen administrator session cannot use notification to probe the deployment's own services.
package struct BlockedNetworks: Sendable, Equatable {
    package let networks: [IPNetwork]

    /// Loopback, link-local (cloud metadata at 169.254.169.254), "this network" (`0.0.0.0`
    /// connects to the local host) and the unspecified IPv6 address; the IPv4-mapped entries are
    /// the same networks as the IPv4 ones (they are matched as one form) and listed for whoever
    /// reads or edits the value. Private ranges (10/8, 172.16/12, 192.168/16, fc00::/7) are
    /// allowed: on-premises integrations live there.
    package static let defaultValue =
        "127.0.0.0/8,::1/128,169.254.0.0/16,fe80::/10,0.0.0.0/8,::/128,::ffff:127.0.0.0/104,::ffff:169.254.0.0/112,::ffff:0.0.0.0/104"

    /// The default networks (``defaultValue``).
    package static let standard = try! BlockedNetworks(parsing: defaultValue)
    /// Nothing blocked.
    package static let none = BlockedNetworks(networks: [])

    package init(networks: [IPNetwork]) { self.networks = networks }

    /// Parses comma-separated CIDRs (spaces around them allowed); an empty text blocks nothing.
    /// - Throws: ``NotificationConfigurationError`` naming the malformed entry.
    package init(parsing text: String) throws {
        var networks: [IPNetwork] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let entry = item.trimmingCharacters(in: .whitespaces)
            if entry.isEmpty && text.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            guard let network = IPNetwork(cidr: entry) else {
                throw NotificationConfigurationError(
                    "NOTIFICATION_WEBHOOK_BLOCKED_NETWORKS: rede inválida / invalid network \"\(entry)\" "
                        + "(CIDR IPv4 ou IPv6, separadas por vírgula / IPv4 or IPv6 CIDRs, comma-separated, e.g. 127.0.0.0/8,::1/128)")
            }
            networks.append(network)
        }
        self.networks = networks
    }

    /// Whether `address` (16 bytes, ``IPAddress``) is in a blocked network.
    func blocks(_ address: [UInt8]) -> Bool { networks.contains { $0.contains(address) } }

    /// Whether a webhook URL's host is refused at registration, without resolving it: a literal
    /// IP (also IPv4 in the forms the resolver accepts, like `127.1`) in a blocked network, or the
    /// name `localhost` (and names under it, which libcurl resolves to loopback itself) while
    /// loopback is blocked. Other names are checked when sent to (their addresses can change).
    package func refuses(host: String) -> Bool {
        guard !networks.isEmpty else { return false }
        var name = host.lowercased()
        if name.hasPrefix("[") && name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if let zone = name.firstIndex(of: "%") { name = String(name[..<zone]) }
        while name.hasSuffix(".") { name.removeLast() }
        if name == "localhost" || name.hasSuffix(".localhost") {
            return ["127.0.0.1", "::1"].contains { blocks(IPAddress.parse($0)!.bytes) }
        }
        guard let address = IPAddress.parse(name)?.bytes ?? IPAddress.parseLegacyIPv4(name) else { return false }
        return blocks(address)
    }
}
