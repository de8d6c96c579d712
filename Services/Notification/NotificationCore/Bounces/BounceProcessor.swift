import Foundation
import Messages
import ServiceKit
import Storage

/// Applies a delivery status notification to the delivery log: a `failed` recipient turns the
/// `sent` delivery the report names into `bounced` (once, diagnostic kept) and publishes
/// `EmailSent` with outcome `bounced`; a failed recipient with a permanent status (5.x.x) that the
/// delivery was sent to is suppressed (``SuppressionStore``: no more e-mail to it until an
/// administrator lifts it); other actions are recognized and change nothing. Used by the
/// `ReportBounce` RPC and by the bounce mailbox poller.
struct BounceProcessor: Sendable {
    let database: any Database
    let publisher: EventPublisher

    /// Parses `raw` (any MIME layout; base64 and quoted-printable parts decoded) and applies it.
    /// - Returns: what the report said and, when it names one of our deliveries, that delivery.
    func apply(_ raw: [UInt8]) throws -> NotificationV1.ReportBounceResponse {
        guard let report = DeliveryStatusReport.parse(raw) else { return NotificationV1.ReportBounceResponse() }
        return try apply(report)
    }

    /// Applies a parsed report.
    func apply(_ report: DeliveryStatusReport) throws -> NotificationV1.ReportBounceResponse {
        var response = NotificationV1.ReportBounceResponse()
        guard let id = DeliveryStatusReport.deliveryID(inMessageID: report.originalMessageID) else { return response }
        let failed = report.recipients.filter { $0.action == "failed" }
        let first = failed.first ?? report.recipients[0]
        response.action = first.action
        response.status = first.status
        let publisher = self.publisher
        let (delivery, suppressed) = try database.write { tx -> (NotificationV1.Delivery?, [String]) in
            guard let delivery = try DeliveryStore.find(tx, id: id), delivery.messageID == report.originalMessageID else { return (nil, []) }
            guard !failed.isEmpty else { return (delivery, []) }
            let suppressed = try Self.suppressPermanentFailures(tx, failed, deliveryID: id)
            let answer = "DSN " + failed.map { [$0.address, $0.status, $0.diagnostic].filter { !$0.isEmpty }.joined(separator: " ") }
                .joined(separator: "; ")
            // Only a message the relay accepted can bounce; a second report changes nothing.
            if try tx.execute("UPDATE notification_deliveries SET state = 'bounced', last_answer = ? WHERE id = ? AND state = 'sent'",
                              [.text(String(answer.prefix(1000))), .text(id)]) == 1,
               let event = try DeliveryStore.emailSent(tx, id: id) {
                try publisher.publish(tx, event: event, key: event.ticketID)
            }
            return (try DeliveryStore.find(tx, id: id), suppressed)
        }
        guard let delivery else { return response }
        response.recognized = true
        response.delivery = delivery
        response.suppressed = suppressed
        return response
    }

    /// Suppresses the permanently failed recipients (status 5.x.x) among the delivery's own
    /// envelope recipients: a report cannot suppress an address the message was not sent to.
    /// - Returns: the addresses newly suppressed.
    static func suppressPermanentFailures(_ tx: any SQLExecutor, _ failed: [DeliveryStatusReport.Recipient],
                                          deliveryID: String) throws -> [String] {
        guard let row = try tx.queryOne("SELECT envelope_to FROM notification_deliveries WHERE id = ?", [.text(deliveryID)]) else { return [] }
        let envelope = Set(try row.text("envelope_to").split(separator: "\n").map { EmailAddress.normalized(String($0)) })
        var suppressed: [String] = []
        for recipient in failed where recipient.status.hasPrefix("5.") {
            let address = EmailAddress.normalized(recipient.address)
            guard envelope.contains(address), !suppressed.contains(address) else { continue }
            if try SuppressionStore.bounced(tx, address: address, status: recipient.status, diagnostic: recipient.diagnostic,
                                            deliveryID: deliveryID) {
                suppressed.append(address)
            }
        }
        return suppressed
    }
}
