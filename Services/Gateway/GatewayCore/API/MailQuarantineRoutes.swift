import Messages
import RPC
import RPCTransport

/// Intake's e-mail quarantine over HTTP (mail that was not taken in: unparsable, rejected,
/// failed, from an ambiguous sender, oversized). Intake decides who may: agents who work tickets
/// (`tickets.work`) and administrators; customers, representatives and integration keys get 403.
///
/// | route | RPC |
/// |---|---|
/// | `GET /v1/mail-quarantine?include_resolved=&page_size=&page_token=` | `ListQuarantinedMail` |
/// | `GET /v1/mail-quarantine/{id}` | `GetQuarantinedMail` (with the header fields) |
/// | `GET /v1/mail-quarantine/{id}/raw` | `DownloadQuarantinedMail`, as `message/rfc822` |
/// | `POST /v1/mail-quarantine/{id}/reprocess` | `ReprocessQuarantinedMail` (`organization_id`, `ticket_id`, `replacement_raw`) |
/// | `POST /v1/mail-quarantine/{id}/discard` | `DiscardQuarantinedMail` (`reason`) |
enum MailQuarantineRoutes {
    typealias B = RPCBinding
    typealias API = IntakeV1.Intake

    static func register(in router: inout Router) {
        // Agents who work tickets, checked here first (`tickets.work`) and again by intake.
        let work = DomainRoutes.work
        router.add(B.route("GET", "/v1/mail-quarantine", "intake", API.listQuarantinedMail,
                           query: ["include_resolved": "include_resolved", "page_size": "page_size", "page_token": "page_token"]).requiring(work))
        router.add(B.route("GET", "/v1/mail-quarantine/{id}", "intake", API.getQuarantinedMail, path: ["id": "id"]).requiring(work))
        router.add(Route("GET", "/v1/mail-quarantine/{id}/raw", raw).requiring(work))
        router.add(B.route("POST", "/v1/mail-quarantine/{id}/reprocess", "intake", API.reprocessQuarantinedMail, path: ["id": "id"]).requiring(work))
        router.add(B.route("POST", "/v1/mail-quarantine/{id}/discard", "intake", API.discardQuarantinedMail, path: ["id": "id"]).requiring(work))
    }

    /// The raw message byte-exact, as a download that a browser never renders.
    @Sendable static func raw(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        var ask = IntakeV1.QuarantinedMailRequest()
        ask.id = request.parameter("id")
        let stream = try context.gateway.runtime.client(for: "intake").serverStream(API.downloadQuarantinedMail, ask,
                                                                                    options: context.callOptions(timeoutMilliseconds: 60_000))
        var body: [UInt8] = []
        while let chunk = try stream.receive() { body += chunk.data }
        let name = ask.id.filter { $0.isLetter || $0.isNumber || $0 == "-" }
        return HTTPResponse(status: 200, headers: [("Content-Type", "message/rfc822"),
                                                   ("Content-Disposition", "attachment; filename=\"mensagem-\(name).eml\""),
                                                   ("Content-Security-Policy", "sandbox")], body: body)
    }
}
