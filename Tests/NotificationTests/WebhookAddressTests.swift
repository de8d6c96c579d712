import Foundation
import Messages
@testable import NotificationCore
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

/// `NOTIFICATION_WEBHOOK_BLOCKED_NETWORKS`: webhooks cannot be pointed at the deployment's own
/// loopback or link-local services (server-side request forgery), neither when registered nor
/// when a name resolves there at send time.
@Suite("Notification: webhook address blocking", .serialized)
struct WebhookAddressTests {
    @Test("The setting parses IPv4 and IPv6 CIDRs; unset is the default list, empty blocks nothing, a malformed entry is refused naming the variable")
    func setting() throws {
        #expect(try NotificationSettings(environment: [:]).webhookBlockedNetworks == .standard)
        #expect(BlockedNetworks.standard.networks.map(\.description) == BlockedNetworks.defaultValue.split(separator: ",").map(String.init))
        #expect(try NotificationSettings(environment: ["NOTIFICATION_WEBHOOK_BLOCKED_NETWORKS": ""]).webhookBlockedNetworks.networks.isEmpty)
        let custom = try NotificationSettings(environment: ["NOTIFICATION_WEBHOOK_BLOCKED_NETWORKS": "10.0.0.0/8, fd00::/8,192.0.2.7"])
        #expect(custom.webhookBlockedNetworks.networks.map(\.description) == ["10.0.0.0/8", "fd00::/8", "192.0.2.7"])
        // Each malformed value, and the entry the message names.
        for (bad, entry) in [("10.0.0.0/33", "10.0.0.0/33"), ("::1/129", "::1/129"), ("127.0.0.0/8,localhost", "localhost"),
                             ("10.0.0.0/8,", "\"\""), ("10.1.0.0/8", "10.1.0.0/8"), ("10.0.0.0/+8", "10.0.0.0/+8"), ("/8", "/8"),
                             ("10.0.0.0/8/8", "10.0.0.0/8/8"), ("fe80::/1o", "fe80::/1o"), ("10.0.0.0/8;fd00::/8", "10.0.0.0/8;fd00::/8")] {
            #expect("\(bad)") {
                _ = try NotificationSettings(environment: ["NOTIFICATION_WEBHOOK_BLOCKED_NETWORKS": bad])
            } throws: { error in
                error is NotificationConfigurationError && "\(error)".contains("NOTIFICATION_WEBHOOK_BLOCKED_NETWORKS") && "\(error)".contains(entry)
            }
        }
    }

    @Test("Blocked hosts at registration: loopback, link-local and 0.0.0.0 literals in every spelling the resolver accepts, IPv4-mapped IPv6, localhost names; private ranges and other names pass")
    func hosts() throws {
        let blocked = BlockedNetworks.standard
        for host in ["127.0.0.1", "127.9.8.7", "[::1]", "::1", "localhost", "LocalHost.", "api.localhost", "169.254.169.254",
                     "[fe80::1%25eth0]", "fe80::1%eth0", "0.0.0.0", "[::]", "[::ffff:127.0.0.1]", "::ffff:7f00:1", "[::ffff:169.254.169.254]",
                     "127.1", "2130706433", "0x7f.0.0.1", "0177.0.0.1", "0"] {
            #expect(blocked.refuses(host: host), "\(host)")
        }
        for host in ["10.1.2.3", "172.16.0.9", "192.168.0.10", "[fd00::1]", "[::ffff:10.0.0.1]", "erp.interno", "localhost.example.com",
                     "8.8.8.8", "deadbeef", "127.0.0.1.example"] {
            #expect(!blocked.refuses(host: host), "\(host)")
        }
        #expect(!BlockedNetworks.none.refuses(host: "127.0.0.1") && !BlockedNetworks.none.refuses(host: "localhost"))
        // Networks written in one family hold the other's mapped form too.
        let onlyV4 = try BlockedNetworks(parsing: "10.0.0.0/8")
        #expect(onlyV4.refuses(host: "[::ffff:10.9.9.9]") && !onlyV4.refuses(host: "localhost"))
        let onlyMapped = try BlockedNetworks(parsing: "::ffff:192.168.0.0/112")
        #expect(onlyMapped.refuses(host: "192.168.4.4") && !onlyMapped.refuses(host: "192.169.0.1"))
    }

    static func harness(_ engine: DatabaseEngine, blocked: BlockedNetworks = .standard) throws -> NotificationHarness {
        var settings = NotificationHarness.settings(smtpPort: try FreePort.next())
        settings.webhookBlockedNetworks = blocked
        settings.retry = RetryPolicy(maxAttempts: 8, baseMilliseconds: 50, maxMilliseconds: 100)
        return try NotificationHarness(engine: engine, settings: settings)
    }

    static func request(_ url: String) -> NotificationV1.RegisterWebhookRequest {
        var request = NotificationV1.RegisterWebhookRequest()
        request.url = url
        request.secret = "receiver-secret-0123456789abcdef"
        request.eventKinds = ["TicketOpened"]
        return request
    }

    @Test("RegisterWebhook refuses loopback, link-local and localhost URLs on field url (INVALID_ARGUMENT, nothing stored); a 10.x address is accepted",
          arguments: TestEngines.all)
    func registration(engine: DatabaseEngine) throws {
        let harness = try Self.harness(engine)
        let admin = harness.options(NotificationHarness.administrator())
        for url in ["http://127.0.0.1:8080/hook", "http://[::1]:8080/hook", "https://localhost/hook", "http://169.254.169.254/latest/meta-data/",
                    "http://[::ffff:127.0.0.1]:9000/", "http://0.0.0.0:7101/", "http://127.1/"] {
            let refused = SuppressionTests.rpcError {
                _ = try harness.client.call(NotificationV1.Notification.registerWebhook, Self.request(url), options: admin)
            }
            #expect(refused?.code == .invalidArgument, "\(url): \(String(describing: refused))")
            #expect(refused?.violations.map(\.field) == ["url"], "\(url)")
            #expect(refused?.violations.first?.reason == "blocked_network", "\(url)")
            #expect(refused?.message.contains("bloqueado") == true && refused?.message.contains("blocked") == true, "\(url)")
        }
        #expect(try harness.client.call(NotificationV1.Notification.listWebhooks, NotificationV1.ListWebhooksRequest(), options: admin).webhooks.isEmpty)
        let accepted = try harness.client.call(NotificationV1.Notification.registerWebhook, Self.request("http://10.20.30.40:8080/erp"), options: admin)
        #expect(accepted.webhook?.url == "http://10.20.30.40:8080/erp")
        #expect(try harness.client.call(NotificationV1.Notification.listWebhooks, NotificationV1.ListWebhooksRequest(), options: admin).webhooks.count == 1)
    }

    /// A name other than `localhost` that /etc/hosts points at a loopback address (e.g. the
    /// machine's own name), if there is one.
    static func loopbackName() -> String? {
        guard let hosts = try? String(contentsOfFile: "/etc/hosts", encoding: .utf8) else { return nil }
        for line in hosts.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let address = fields.first, address.hasPrefix("127.") else { continue }
            if let name = fields.dropFirst().first(where: { !$0.hasPrefix("#") && !$0.lowercased().contains("localhost") }) {
                return String(name)
            }
        }
        return nil
    }

    @Test("A webhook whose address is blocked when sent (its name now resolves to loopback) gets no connection: the delivery fails at once, permanently, with the reason in the log",
          arguments: TestEngines.all)
    func sendTime(engine: DatabaseEngine) throws {
        let hooks = try TemporaryDirectory(prefix: "hooks")
        let secret = "receiver-secret-0123456789abcdef"
        let receiver = try PythonPeer.webhook(directory: hooks.path, secret: secret)
        let harness = try Self.harness(engine)
        let admin = harness.options(NotificationHarness.administrator())
        // Registered while its address was allowed; then its name was pointed at the deployment's
        // own loopback (DNS rebinding), modelled by rewriting the stored URL.
        let rebound = try #require(try harness.client.call(NotificationV1.Notification.registerWebhook,
                                                           Self.request("http://10.20.30.40:\(receiver.port)/hook"), options: admin).webhook)
        try harness.database.write { tx in
            _ = try tx.execute("UPDATE notification_webhooks SET url = ? WHERE id = ?", [.text(receiver.url), .text(rebound.id)])
        }
        var expected = ["webhook:\(rebound.id)"]
        // A name that resolves to loopback here, registered as it is (names are not resolved then).
        if let name = Self.loopbackName() {
            let named = try harness.client.call(NotificationV1.Notification.registerWebhook,
                                                Self.request("http://\(name):\(receiver.port)/hook"), options: admin)
            expected.append("webhook:\(try #require(named.webhook).id)")
        }
        let event = Events.opened(ticketID: "t-ssrf")
        try harness.deliver([Events.envelope(event, key: event.ticketID)])
        var log: [NotificationV1.Delivery] = []
        #expect(waitFor(15) {
            log = (try? harness.deliveries(ticketID: "t-ssrf").filter { $0.channel == "webhook" }) ?? []
            return log.count == expected.count && log.allSatisfy { $0.state == "failed" }
        }, "\(log)")
        #expect(Set(log.map(\.recipient)) == Set(expected))
        for delivery in log {
            #expect(delivery.attempts == 1, "not retried: \(delivery)")
            #expect(delivery.serverAnswer == WebhookSender.blockedReason("127.0.0.1"), "\(delivery.serverAnswer)")
        }
        usleep(300_000)
        #expect(receiver.files("json").isEmpty, "the receiver got nothing")

        // The same receiver with nothing blocked gets its POST (the refusal above was the block).
        let open = try Self.harness(engine, blocked: .none)
        _ = try open.client.call(NotificationV1.Notification.registerWebhook, Self.request(receiver.url),
                                 options: open.options(NotificationHarness.administrator()))
        try open.deliver([Events.envelope(Events.opened(ticketID: "t-open"), key: "t-open")])
        #expect(waitFor(15) { receiver.files("json").count == 1 })
    }

    @Test("A receiver redirecting (307) to an internal address is not followed: the delivery fails at once with the answer, the target gets nothing",
          arguments: TestEngines.all)
    func redirectsNotFollowed(engine: DatabaseEngine) throws {
        let secret = "receiver-secret-0123456789abcdef"
        let internalHooks = try TemporaryDirectory(prefix: "hooks-internal")
        let internalReceiver = try PythonPeer.webhook(directory: internalHooks.path, secret: secret)
        let hooks = try TemporaryDirectory(prefix: "hooks-redirect")
        let receiver = try PythonPeer.webhook(directory: hooks.path, secret: secret, redirect: internalReceiver.url)
        // The receivers listen on loopback: nothing blocked, so only the redirect rule is tried.
        let harness = try Self.harness(engine, blocked: .none)
        var register = Self.request(receiver.url)
        register.secret = secret
        _ = try harness.client.call(NotificationV1.Notification.registerWebhook, register, options: harness.options(NotificationHarness.administrator()))
        let event = Events.opened(ticketID: "t-redirect")
        try harness.deliver([Events.envelope(event, key: event.ticketID)])
        #expect(waitFor(15) { (try? harness.deliveries(ticketID: "t-redirect").first { $0.channel == "webhook" }?.state) == "failed" })
        let row = try #require(try harness.deliveries(ticketID: "t-redirect").first { $0.channel == "webhook" })
        #expect(row.attempts == 1 && row.serverAnswer.hasPrefix("HTTP 307"), "\(row.serverAnswer)")
        usleep(300_000)
        #expect(receiver.files("json").count == 1)
        #expect(internalReceiver.files("json").isEmpty, "the redirect's target got nothing")
    }
}
