import Foundation
import Messages
import Storage
@testable import WorkflowCore

/// Events of `type` published to notification (one outbox row per subscriber), oldest first.
func publishedEvents<Event: ProtoMessage>(_ database: any Database, _ type: Event.Type, ticketID: String? = nil) throws -> [Event] {
    try database.read { tx in
        try tx.query("SELECT payload FROM storage_outbox WHERE event_type = ? AND event_key LIKE 'notification|%' ORDER BY seq",
                     [.text(Event.protoName)])
    }.compactMap { row -> Event? in
        let envelope = try EventsV1.EventEnvelope(serializedBytes: try row.blob("payload"))
        if let ticketID, envelope.key != ticketID { return nil }
        return try Event(serializedBytes: envelope.payload)
    }
}
