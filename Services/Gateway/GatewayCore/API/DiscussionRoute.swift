import Foundation
import Messages

/// `POST /v1/tickets/{id}/discussion`: an agent's discussion entry, with files as a reply has
/// them. The JSON is workflow's `AddDiscussionRequest` (`text`, `is_public`, `kind`,
/// `publishable`) plus the files, the same two ways as `POST /v1/tickets/{id}/replies`:
/// `attachment_ids` of earlier uploads (`POST /v1/attachments`) and small files inside the call
/// (`files`, base64, placed among the uploads by `file_positions` as intake's `AddFiles` takes
/// it), or a `multipart/form-data` body with a `discussion` JSON field and the files
/// (``TicketForm``, the reply's mechanism, deciding with ``InlineFileLimits``).
///
/// With files, three calls; intake stores the files because it owns them and enforces who reads them:
/// 1. workflow checks the entry (`validate_only`: staff, text, a ticket the agent sees and, for
///    a public entry, may act on), so an entry it would refuse stores no file;
/// 2. intake's `AddFiles` puts the files on the ticket, internal for an internal entry (a
///    customer or representative gets `NOT_FOUND` downloading them, and no listing shows them);
/// 3. workflow's `AddDiscussion` adds the entry with the refs intake answered, listing them on
///    the entry (never to customers when the entry or the file is internal).
///
/// If the entry still fails after the files were stored (workflow unreachable, the ticket taken
/// by another agent in between), nothing is lost: the files stay on the ticket as its own files,
/// listed to staff, and to the customer only when public; a retry with the same
/// `Idempotency-Key` stores no second copy. An entry without files is one call to workflow, as before.
///
/// ```sh
/// curl -H "Authorization: Bearer $TOKEN" -F 'discussion={"text":"Segue a correção.","is_public":true}' \
///      -F files=@correcao.sql http://127.0.0.1:8080/v1/tickets/$ID/discussion
/// ```
enum DiscussionRoute {
    /// The route, JSON or multipart.
    static var route: Route {
        Route("POST", "/v1/tickets/{id}/discussion", handle).streamingBodies(when: Gateway.isForm, asForm: true) { request, context in
            TicketForm(request, context, field: "discussion", send: handle)
        }
    }

    /// The JSON form: files first (intake), then the entry (workflow); 201 with workflow's answer.
    static func handle(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        var entry = try request.jsonObject()
        let ticket = request.parameter("id")
        entry["ticket_id"] = ticket
        guard entry["attachments"] == nil else {
            throw APIError.invalid("attachments", "unknown_field", pt: "Envie os arquivos em \"files\" ou \"attachment_ids\".",
                                   en: "Send the files in \"files\" or \"attachment_ids\".")
        }
        let attachmentIDs = entry.removeValue(forKey: "attachment_ids")
        let files = entry.removeValue(forKey: "files")
        let positions = entry.removeValue(forKey: "file_positions")
        if !isEmptyList(attachmentIDs) || !isEmptyList(files) {
            // Workflow checks the entry before intake stores its files (no text, a ticket the
            // agent may not answer in public: refused with nothing stored).
            var check = entry
            check["validate_only"] = true
            _ = try context.callJSON("workflow", WorkflowV1.Workflow.addDiscussion, check)
            var add: [String: Any] = ["ticket": ticket, "internal": !((entry["is_public"] as? Bool) ?? false)]
            if let attachmentIDs { add["attachment_ids"] = attachmentIDs }
            if let files { add["files"] = files }
            if let positions { add["file_positions"] = positions }
            entry["attachments"] = try context.callJSON("intake", IntakeV1.Intake.addFiles, add)["attachments"] ?? []
        }
        return .jsonText(try context.callJSONText("workflow", WorkflowV1.Workflow.addDiscussion, entry), status: 201)
    }

    /// Whether a JSON value is absent or an empty list (anything else goes to intake, which
    /// reports a value of the wrong type by field).
    private static func isEmptyList(_ value: Any?) -> Bool {
        guard let value else { return true }
        return (value as? [Any])?.isEmpty ?? false
    }
}
