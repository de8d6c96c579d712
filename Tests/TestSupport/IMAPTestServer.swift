import Foundation

/// A real IMAP server for tests of any service that reads a mailbox: Debian's dovecot
/// (`dovecot-imapd`), started in the foreground with its own configuration in a temporary
/// directory, on a free loopback port, one user with a Maildir. Messages are delivered by writing
/// files into the Maildir's `new/` directory.
public final class IMAPTestServer: @unchecked Sendable {
    public let directory: TemporaryDirectory
    public let port: Int
    public let user: String
    public let password = "segredo-\(UUID().uuidString.prefix(8))"
    private let dovecot: ChildProcess
    private var delivered = 0

    public static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: "/usr/sbin/dovecot") }

    public var url: String { "imap://127.0.0.1:\(port)/INBOX" }
    private var maildir: String { directory.file("mail/\(user)") }

    /// - Parameter capabilities: replaces the announced `CAPABILITY` list (e.g. one without
    ///   `IDLE`, to test the polling fallback); `nil` keeps dovecot's.
    public init(user: String = "suporte", capabilities: String? = nil) throws {
        self.user = user
        directory = try TemporaryDirectory(prefix: "dovecot")
        port = try FreePort.next()
        let root = directory.path
        for sub in ["run", "state", "home/\(user)", "mail/\(user)/new", "mail/\(user)/cur", "mail/\(user)/tmp"] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(sub)", withIntermediateDirectories: true)
        }
        try "\(user):{PLAIN}\(password)\n".write(toFile: "\(root)/passwd", atomically: true, encoding: .utf8)
        let isRoot = geteuid() == 0
        // As root, mail is handled as `nobody`; otherwise as ourselves.
        let owner = isRoot ? "uid=nobody gid=nogroup" : "uid=\(geteuid()) gid=\(getegid())"
        let users = isRoot ? "default_internal_user = dovecot\ndefault_login_user = dovenull" :
            "default_internal_user = \(String(cString: getpwuid(geteuid()).pointee.pw_name))\ndefault_login_user = \(String(cString: getpwuid(geteuid()).pointee.pw_name))"
        try """
            protocols = imap
            listen = 127.0.0.1
            base_dir = \(root)/run
            state_dir = \(root)/state
            log_path = \(root)/dovecot.log
            ssl = no
            disable_plaintext_auth = no
            auth_mechanisms = plain login
            mail_location = maildir:\(root)/mail/%u
            \(capabilities.map { "imap_capability = \($0)" } ?? "")
            \(users)
            passdb {
              driver = passwd-file
              args = scheme=PLAIN username_format=%u \(root)/passwd
            }
            userdb {
              driver = static
              args = \(owner) home=\(root)/home/%u
            }
            service imap-login {
              inet_listener imap {
                address = 127.0.0.1
                port = \(port)
              }
              inet_listener imaps {
                port = 0
              }
            }
            service pop3-login {
              inet_listener pop3 {
                port = 0
              }
            }

            """.write(toFile: "\(root)/dovecot.conf", atomically: true, encoding: .utf8)
        chmod(root, 0o755)
        if isRoot { try Self.chownToNobody("\(root)/mail"); try Self.chownToNobody("\(root)/home") }
        dovecot = try ChildProcess("/usr/sbin/dovecot", ["-F", "-c", "\(root)/dovecot.conf"])
        // Ready when the port accepts connections (30 s on a loaded machine; ends if dovecot exits).
        let limit = Date().addingTimeInterval(30)
        while !Self.accepts(port) {
            guard Date() < limit, dovecot.isRunning else {
                throw TestSupportError("dovecot did not start: \((try? String(contentsOfFile: "\(root)/dovecot.log", encoding: .utf8)) ?? "")")
            }
            usleep(50_000)
        }
    }

    /// Puts a raw message in the mailbox as a new, unseen message.
    public func deliver(_ bytes: [UInt8]) throws {
        delivered += 1
        let name = "\(Int(Date().timeIntervalSince1970)).M\(delivered)P\(getpid()).test"
        let temporary = "\(maildir)/tmp/\(name)"
        try Data(bytes).write(to: URL(fileURLWithPath: temporary))
        if geteuid() == 0 { try Self.chownToNobody(temporary) }
        guard rename(temporary, "\(maildir)/new/\(name)") == 0 else { throw TestSupportError("rename failed") }
    }

    /// Stops dovecot (SIGTERM, then SIGKILL after 5 s) and reaps it. Idempotent.
    public func stop() {
        dovecot.terminate()
        if dovecot.waitUntilExit(timeout: 5) == nil {
            dovecot.kill()
            dovecot.waitUntilExit()
        }
    }

    deinit { stop() }

    private static func chownToNobody(_ path: String) throws {
        guard let user = getpwnam("nobody") else { throw TestSupportError("no user nobody") }
        let enumerator = FileManager.default.enumerator(atPath: path)
        var paths = [path]
        while let sub = enumerator?.nextObject() as? String { paths.append("\(path)/\(sub)") }
        for item in paths { chown(item, user.pointee.pw_uid, user.pointee.pw_gid) }
    }

    private static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

extension IMAPTestServer {
    /// IMAP logins dovecot has logged so far.
    public var logins: Int {
        let log = (try? String(contentsOfFile: directory.file("dovecot.log"), encoding: .utf8)) ?? ""
        return log.components(separatedBy: ": Login: user=<").count - 1
    }

    /// Disconnects every IMAP session of the user (`doveadm kick`), as a server restart or
    /// its idle timeout would.
    public func kickAll() throws {
        let kick = try ChildProcess.run("/usr/bin/doveadm", ["-c", directory.file("dovecot.conf"), "kick", user], output: .null, error: .null)
        guard kick.termination == .exited(0) else { throw TestSupportError("doveadm kick failed: \(kick.termination)") }
    }
}
