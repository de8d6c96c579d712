import Messages
import RPC
import RPCTransport
import ServiceKit

/// Binds the quarantine methods (`ListQuarantinedMail`, `GetQuarantinedMail`,
/// `DownloadQuarantinedMail`, `ReprocessQuarantinedMail`, `DiscardQuarantinedMail`): agents and
/// administrators only (``IntakeContext/requireMailStaff(_:)``).
enum MailQuarantineAPI {
    static func register(_ intake: IntakeContext, principals: PrincipalSigner, tokens: ReplyToken,
                         settings: MailIngestSettings, in router: inout RPCRouter) {
        typealias API = IntakeV1.Intake
        @Sendable func caller(_ context: ServerContext) throws -> Caller {
            Caller(try principals.require(context), calling: context)
        }
        router.register(API.listQuarantinedMail) { request, context in try intake.listQuarantined(request, caller: caller(context)) }
        router.register(API.getQuarantinedMail) { request, context in try intake.quarantined(request.id, caller: caller(context), headers: true) }
        router.registerStreaming(API.downloadQuarantinedMail) { requests, responses, context in
            let who = try caller(context)
            guard let request = try requests.receive() else { return nil }
            try intake.downloadQuarantined(request, caller: who) { chunk in
                try context.checkCancellation()
                try responses.send(chunk)
            }
            return nil
        }
        router.register(API.reprocessQuarantinedMail) { request, context in
            try intake.reprocessQuarantined(request.id, organizationID: request.organizationID, replacement: request.replacementRaw, ticketID: request.ticketID,
                                           caller: caller(context),
                                           tokens: tokens, settings: settings)
        }
        router.register(API.discardQuarantinedMail) { request, context in try intake.discardQuarantined(request, caller: caller(context)) }
    }
}
