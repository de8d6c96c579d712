import IntakeCore
@testable import ServiceKit
import TestSupport

extension IMAPTestServer {
    /// Intake's settings to read this mailbox every `interval` seconds (with IMAP IDLE or by
    /// polling only), answering rejected mail through the SMTP server at `smtp` when given; `extra`
    /// adds or overrides settings.
    func intakeEnvironment(interval: String = "0.2", idle: Bool = false, smtp: String? = nil,
                           _ extra: [String: String] = [:]) -> [String: String] {
        var environment = ["INTAKE_IMAP_URL": url, "INTAKE_IMAP_USER": user, "INTAKE_IMAP_PASSWORD": password,
                           "INTAKE_IMAP_INTERVAL_SECONDS": interval, "INTAKE_IMAP_IDLE": idle ? "true" : "false"]
        if let smtp {
            environment["INTAKE_SMTP_URL"] = smtp
            environment["INTAKE_BOUNCE_FROM"] = "suporte@suporte.example"
        }
        return environment.merging(extra) { $1 }
    }
}

extension IntakeHarness {
    /// The IMAP poller this intake runs (`INTAKE_IMAP_URL` set), found among its background
    /// services: tests wait on its state (``MailPoller/isIdling``) instead of sleeping.
    var mailPoller: MailPoller? { host.runtime.backgroundServices.lazy.compactMap { $0 as? MailPoller }.first }
}
