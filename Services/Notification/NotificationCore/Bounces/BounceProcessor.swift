import Foundation
import Messages
import ServiceKit
import Storage

/// Applies a delivery status notification to the delivery log: a `failed` recipient turns the
/// `sent` delivery the report names into `bounced` (once, diagnostic kept) and publishes
/// `EmailSent` with outcome `bounced`; other actions are recognized and change nothing. Used by
/// the `ReportBounce` RPC and by the bounce mailbox poller.
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
        let delivery = try database.write { tx -> NotificationV1.Delivery? in
            guard let delivery = try DeliveryStore.find(tx, id: id), delivery.messageID == report.originalMessageID else { return nil }
            guard !failed.isEmpty else { return delivery }
            let answer = "DSN " + failed.map { [$0.address, $0.status, $0.diagnostic].filter { !$0.isEmpty }.joined(separator: " ") }
                .joined(separator: "; ")
            // Only a message the relay accepted can bounce; a second report changes nothing.
            if try tx.execute("UPDATE notification_deliveries SET state = 'bounced', last_answer = ? WHERE id = ? AND state = 'sent'",
                              [.text(String(answer.prefix(1000))), .text(id)]) == 1,
               let event = try DeliveryStore.emailSent(tx, id: id) {
                try publisher.publish(tx, event: event, key: event.ticketID)
            }
            return try DeliveryStore.find(tx, id: id)
        }
        guard let delivery else { return response }
        response.recognized = true
        response.delivery = delivery
        return response
    }
}
