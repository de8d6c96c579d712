import Messages
import RPC

/// Which channel and origin a caller may record on a ticket it opens (decided 2026-12-02, after
/// the directory review): a ticket's channel and origin feed routing, reports and metrics, so
/// they say how the ticket really came in, not what a request claims.
///
/// - A customer (a company's contact, also opening for a colleague as the company's
///   administrator) opens through the portal: channel `portal`, origin `customer`. The channel
///   `email` only when the ticket really came through intake's mail-in path
///   (``IntakeContext/isMailTakenIn(_:channel:caller:)``), never named over the API.
/// - A representative's person: channel `portal`, origin `representative`.
/// - Staff, integrations and services: any active entry (an integration, as before, no origin of
///   the internal kind).
///
/// Omitted fields get these defaults (``BuiltInEntries/defaultChannel(for:opening:)``,
/// ``IntakeContext/openingOriginKey(_:hasRepresentative:)``); a customer naming another entry is
/// refused with a violation naming the field, not silently overridden.
enum OpeningSources {
    /// The violation of a customer naming `channel` (an active entry), if they may not.
    static func channelViolation(_ channel: String, request: IntakeV1.OpenTicketRequest, caller: Caller) -> FieldViolation? {
        guard caller.isCustomer else { return nil }
        if channel == BuiltInEntries.portalChannel { return nil }
        if IntakeContext.isMailTakenIn(request, channel: channel, caller: caller) { return nil }
        return FieldViolation(field: "channel", reason: "not_for_customers",
                              pt: "Clientes abrem ocorrências pelo portal (ou escrevendo ao suporte por e-mail); outro canal só pela equipe.",
                              en: "Customers open tickets through the portal (or by writing to support by e-mail); other channels are for staff.")
    }

    /// The violation of a customer naming `originKey` (an active entry), if they may not.
    static func originViolation(_ originKey: String, caller: Caller) -> FieldViolation? {
        guard caller.isCustomer else { return nil }
        if caller.isRepresentative {
            guard originKey != BuiltInEntries.representativeOrigin else { return nil }
            return FieldViolation(field: "origin", reason: "not_for_representatives",
                                  pt: "Representantes abrem ocorrências com a origem representante.",
                                  en: "Representatives open tickets with the representative origin.")
        }
        guard originKey != BuiltInEntries.customerOrigin else { return nil }
        return FieldViolation(field: "origin", reason: "not_for_customers",
                              pt: "Clientes abrem ocorrências com a origem cliente; outra origem só pela equipe.",
                              en: "Customers open tickets with the customer origin; other origins are for staff.")
    }

    /// The violation of a company's contact naming a representative (only staff record one; a
    /// representative's person is their representative's by their sign-in).
    static func representativeViolation(_ request: IntakeV1.OpenTicketRequest, caller: Caller) -> FieldViolation? {
        guard caller.isCustomer, !caller.isRepresentative, !request.representativeID.isEmpty else { return nil }
        return FieldViolation(field: "representative_id", reason: "not_for_customers",
                              pt: "Só a equipe registra o representante de uma ocorrência.",
                              en: "Only staff record a ticket's representative.")
    }
}
