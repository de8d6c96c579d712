import Foundation
import Messages
@testable import NotificationCore
import Storage
import Testing
import TestSupport

/// SMTP with STARTTLS + AUTH and with implicit TLS, against aiosmtpd with a certificate made here
/// and verified by libcurl (no verification shortcuts).
@Suite("Notification: SMTP STARTTLS, implicit TLS and AUTH", .serialized)
struct TLSAndAuthTests {
    /// A self-signed certificate for 127.0.0.1.
    static func certificate(in directory: TemporaryDirectory) throws -> (cert: String, key: String) {
        let cert = directory.file("cert.pem"), key = directory.file("key.pem")
        let openssl = try ChildProcess.run("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ], output: .null)
        guard openssl.status == 0 else { throw TestSupportError("openssl failed: \(openssl.errorText)") }
        return (cert, key)
    }

    @Test("STARTTLS required and AUTH required: delivered with the right password; a wrong one is retried, not lost",
          arguments: TestEngines.all)
    func startTLSWithAuth(engine: DatabaseEngine) throws {
        let certificates = try TemporaryDirectory(prefix: "tls")
        let (cert, key) = try Self.certificate(in: certificates)
        let mailDirectory = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mailDirectory.path, extra: ["--starttls", "\(cert),\(key)", "--auth", "relay:s3nha-forte"])
        var settings = NotificationHarness.settings(smtpPort: sink.port)
        settings.smtpStartTLS = true
        settings.smtpCAFile = cert
        settings.smtpUser = "relay"
        settings.smtpPassword = "s3nha-forte"
        let harness = try NotificationHarness(engine: engine, settings: settings)
        let event = Events.opened(ticketID: "t-tls")
        try harness.deliver([Events.envelope(event, key: event.ticketID)])
        #expect(waitFor(15) { (try? harness.deliveries(ticketID: "t-tls").first?.state) == "sent" })
        #expect(sink.files("eml").count == 1)

        var wrong = settings
        wrong.smtpPassword = "errada"
        wrong.retry = RetryPolicy(maxAttempts: 50, baseMilliseconds: 100, maxMilliseconds: 200)
        let refused = try NotificationHarness(engine: engine, settings: wrong)
        let other = Events.opened(ticketID: "t-tls-wrong")
        try refused.deliver([Events.envelope(other, key: other.ticketID)])
        #expect(waitFor(15) { ((try? refused.deliveries(ticketID: "t-tls-wrong").first?.attempts) ?? 0) >= 2 })
        let row = try #require(try refused.deliveries(ticketID: "t-tls-wrong").first)
        #expect(row.state == "queued" || row.state == "sending")
        #expect(row.serverAnswer.contains("535"), "\(row.serverAnswer)")
        #expect(sink.files("eml").count == 1)
    }

    @Test("Implicit TLS (smtps://) with the relay's certificate verified", arguments: TestEngines.all)
    func implicitTLS(engine: DatabaseEngine) throws {
        let certificates = try TemporaryDirectory(prefix: "tls")
        let (cert, key) = try Self.certificate(in: certificates)
        let mailDirectory = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mailDirectory.path, extra: ["--implicit-tls", "\(cert),\(key)"])
        var settings = NotificationHarness.settings(smtpPort: sink.port)
        settings.smtpURL = "smtps://127.0.0.1:\(sink.port)"
        settings.smtpCAFile = cert
        let harness = try NotificationHarness(engine: engine, settings: settings)
        let event = Events.opened(ticketID: "t-smtps")
        try harness.deliver([Events.envelope(event, key: event.ticketID)])
        #expect(waitFor(15) { (try? harness.deliveries(ticketID: "t-smtps").first?.state) == "sent" })
        #expect(sink.files("eml").count == 1)
    }

    @Test("""
          A relay that demands AUTH or STARTTLS the service was not set up for (530 to MAIL FROM) is the relay's \
          configuration: retried, not failed for good at the first attempt
          """, arguments: TestEngines.all)
    func relayDemandsAreRetried(engine: DatabaseEngine) throws {
        let certificates = try TemporaryDirectory(prefix: "tls")
        let (cert, key) = try Self.certificate(in: certificates)
        for (name, extra) in [("auth", ["--auth", "relay:s3nha-forte"]), ("starttls", ["--starttls", "\(cert),\(key)"])] {
            let mailDirectory = try TemporaryDirectory(prefix: "sink")
            let sink = try PythonPeer.smtp(directory: mailDirectory.path, extra: extra)
            var settings = NotificationHarness.settings(smtpPort: sink.port)
            settings.retry = RetryPolicy(maxAttempts: 3, baseMilliseconds: 50, maxMilliseconds: 100)
            let harness = try NotificationHarness(engine: engine, settings: settings)
            let event = Events.opened(ticketID: "t-530-\(name)")
            try harness.deliver([Events.envelope(event, key: event.ticketID)])
            #expect(waitFor(15) { (try? harness.deliveries(ticketID: event.ticketID).first?.state) == "dead" }, "\(name)")
            let row = try #require(try harness.deliveries(ticketID: event.ticketID).first)
            #expect(row.attempts == 3, "\(name)")
            // The relay's own words (was the "221 Bye" that ended the session after the refusal).
            #expect(row.serverAnswer.hasPrefix("530 "), "\(name): \(row.serverAnswer)")
            #expect(sink.files("eml").isEmpty)
        }
    }
}
