import Messages
import ServiceKit

/// The encodings of a new ticket's snapshot and of its `TicketOpened` event, built before the
/// open is queued (on the RPC event loop) as far as they do not depend on the database, so that
/// the group commit's writer, which every open waits for, only encodes what the database decided
/// (the code, the organization, the contact and representative, the origin's kind, the custom
/// fields, the time) and joins the parts.
///
/// Protobuf encodes a message as its fields one after the other, in field-number order here
/// (protobuf-c packs them so, and leaves out proto3 defaults): a message's encoding is the
/// concatenation of the encodings of messages of the same type that each carry some of its
/// fields, taken in field-number order. `Ticket` and `TicketOpened` share their fields 1–5 and
/// 9–15 (same numbers, same types), so those parts are encoded once for both. The result is the
/// same bytes as encoding the whole message (`OpenEncodingTests`).
struct OpenEncoding: Sendable {
    /// Every part below, one after the other in one buffer (one allocation).
    private let parts: [UInt8]
    /// Field 1: the ticket's id (`Ticket.id`, `TicketOpened.ticket_id`).
    private let id: Range<Int>
    /// `Ticket` fields 6–8: who registered it, the channel, the origin's key.
    private let ticketHow: Range<Int>
    /// `TicketOpened` fields 6–7: who registered it, the channel (the start of ``ticketHow``).
    private let eventHow: Range<Int>
    /// Fields 9–15 of both messages: category, priority, product, module, subject, request, details.
    private let what: Range<Int>
    /// `Ticket` fields 19–20: the status and the e-mail Message-ID.
    private let ticketTail: Range<Int>
    /// `TicketOpened` fields 19–20: the e-mail Message-ID, the origin's key.
    private let eventTail: Range<Int>
    /// The event's outbox rows without the event (``EventPublisher/prepareOutboxEvents(_:key:accessLevel:requestID:id:)``).
    let outbox: PreparedOutboxEvents
    /// The origin key the parts were encoded with (the writer checks it against the catalog's).
    let originKey: String

    /// The parts of `base`, a ticket with every field that does not depend on the database set
    /// (id, registered by, channel, origin key, category … details, status, e-mail Message-ID),
    /// and the outbox rows of its event `eventID`.
    init(_ base: IntakeV1.Ticket, eventID: String, publisher: EventPublisher) {
        // Strings, enums and the id written directly; the two sub-messages (who registered it,
        // the details) encoded by protobuf-c.
        let registeredBy = base.registeredByAgent?.serializedBytes()
        let details = base.details?.serializedBytes()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(base.id.utf8.count + (registeredBy?.count ?? 0) + base.channel.utf8.count + 2 * base.origin.utf8.count
                              + base.product.utf8.count + base.module.utf8.count + base.subject.utf8.count + base.request.utf8.count
                              + (details?.count ?? 0) + base.status.utf8.count + 2 * base.emailMessageID.utf8.count + 80)
        Self.append(1, base.id, to: &bytes)
        id = 0..<bytes.count

        let how = bytes.count
        Self.append(6, registeredBy, to: &bytes)
        Self.append(7, base.channel, to: &bytes)
        eventHow = how..<bytes.count
        Self.append(8, base.origin, to: &bytes)
        ticketHow = how..<bytes.count

        let whatStart = bytes.count
        Self.append(9, UInt64(bitPattern: Int64(base.category.rawValue)), to: &bytes)
        Self.append(10, UInt64(bitPattern: Int64(base.priority.rawValue)), to: &bytes)
        Self.append(11, base.product, to: &bytes)
        Self.append(12, base.module, to: &bytes)
        Self.append(13, base.subject, to: &bytes)
        Self.append(14, base.request, to: &bytes)
        Self.append(15, details, to: &bytes)
        what = whatStart..<bytes.count

        let ticketTailStart = bytes.count
        Self.append(19, base.status, to: &bytes)
        Self.append(20, base.emailMessageID, to: &bytes)
        ticketTail = ticketTailStart..<bytes.count

        let eventTailStart = bytes.count
        Self.append(19, base.emailMessageID, to: &bytes)
        Self.append(20, base.origin, to: &bytes)
        eventTail = eventTailStart..<bytes.count
        parts = bytes

        outbox = publisher.prepareOutboxEvents(IntakeV1.TicketOpened.self, key: base.id, id: eventID)
        originKey = base.origin
    }

    /// A string field (left out when empty, as proto3 does).
    private static func append(_ number: UInt64, _ value: String, to bytes: inout [UInt8]) {
        guard !value.isEmpty else { return }
        ProtoWire.appendKey(number, ProtoWire.lengthDelimited, to: &bytes)
        ProtoWire.appendVarint(UInt64(value.utf8.count), to: &bytes)
        bytes += value.utf8
    }

    /// A message field already encoded (left out when absent; present and empty is kept).
    private static func append(_ number: UInt64, _ value: [UInt8]?, to bytes: inout [UInt8]) {
        guard let value else { return }
        ProtoWire.appendKey(number, ProtoWire.lengthDelimited, to: &bytes)
        ProtoWire.appendVarint(UInt64(value.count), to: &bytes)
        bytes += value
    }

    /// A varint field: an enum's value (left out when 0).
    private static func append(_ number: UInt64, _ value: UInt64, to bytes: inout [UInt8]) {
        guard value != 0 else { return }
        ProtoWire.appendKey(number, ProtoWire.varint, to: &bytes)
        ProtoWire.appendVarint(value, to: &bytes)
    }

    /// The snapshot of `ticket` (without attachments and messages, as ``TicketStore`` stores it)
    /// and its `TicketOpened` event, encoded; `ticket` is the base these parts were made from with
    /// the database's fields set (code, organization, contact, representative, custom fields,
    /// attachments, opening time), and `originKind` the kind of its origin.
    func encode(_ ticket: IntakeV1.Ticket, originKind: CommonV1.Origin) -> (snapshot: [UInt8], event: [UInt8]) {
        // Fields 2–5, the same in both messages.
        var who = IntakeV1.Ticket()
        who.code = ticket.code
        who.organization = ticket.organization
        who.contact = ticket.contact
        who.representative = ticket.representative
        let whoBytes = who.serializedBytes()

        // Field 16 of the ticket: the custom fields, in the order given.
        var ticketFields: [UInt8] = []
        if !ticket.customFields.isEmpty {
            var part = IntakeV1.Ticket()
            part.customFields = ticket.customFields
            ticketFields = part.serializedBytes()
        }
        // Fields 16–17 of the event: the custom fields as a map, the attachments.
        var eventFields: [UInt8] = []
        if !ticket.customFields.isEmpty || !ticket.attachments.isEmpty {
            var part = IntakeV1.TicketOpened()
            if !ticket.customFields.isEmpty {
                part.customFields = Dictionary(ticket.customFields.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
            }
            part.attachments = ticket.attachments
            eventFields = part.serializedBytes()
        }
        // Field 18 of both: the opening time.
        var openedAt: [UInt8] = []
        if ticket.openedAtMs != 0 {
            openedAt = [0x90, 0x01]  // field 18, varint
            ProtoWire.appendVarint(UInt64(bitPattern: ticket.openedAtMs), to: &openedAt)
        }
        // Field 8 of the event: the origin's kind (an enum, a varint; 0 is left out).
        var kind: [UInt8] = []
        if originKind.rawValue != 0 {
            kind = [0x40]  // field 8, varint
            ProtoWire.appendVarint(UInt64(bitPattern: Int64(originKind.rawValue)), to: &kind)
        }

        var snapshot: [UInt8] = []
        snapshot.reserveCapacity(id.count + whoBytes.count + ticketHow.count + what.count + ticketFields.count + openedAt.count + ticketTail.count)
        snapshot += parts[id]
        snapshot += whoBytes
        snapshot += parts[ticketHow]
        snapshot += parts[what]
        snapshot += ticketFields
        snapshot += openedAt
        snapshot += parts[ticketTail]

        var event: [UInt8] = []
        event.reserveCapacity(id.count + whoBytes.count + eventHow.count + kind.count + what.count + eventFields.count + openedAt.count + eventTail.count)
        event += parts[id]
        event += whoBytes
        event += parts[eventHow]
        event += kind
        event += parts[what]
        event += eventFields
        event += openedAt
        event += parts[eventTail]
        return (snapshot, event)
    }
}
