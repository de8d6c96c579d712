import Foundation
import Messages
import RPC
import RPCTransport

/// An update route whose JSON body changes only the fields it names.
///
/// The owning service's update RPC replaces every field of the record (proto3 cannot tell a
/// field left out from one set to its default), so a body with a record's name and plan only
/// would clear its e-mail, its account owner and deactivate it. Here the gateway reads the
/// record first, as the caller, lays the body's fields over it and sends the whole record: an
/// integration that sends what it knows (an ERP's name, tax id and plan) keeps what it does not
/// know. A field sent as `""`, `false` or `[]` is cleared. Two writers at once: the last
/// one's record wins, as with the RPC itself.
///
/// ```swift
/// router.add(MergedUpdate.route("/v1/organizations/{id}", "intake", read: IntakeV1.Intake.getOrganization,
///                               readField: "organization_id", update: IntakeV1.Intake.updateOrganization))
/// ```
enum MergedUpdate {
    /// `POST template` calling `update` with the record `read` answers for the path's `{id}`
    /// (given as the read request's `readField`), changed by the body's fields.
    static func route<ReadRequest, Record>(_ template: String, _ service: String, read: RPCMethod<ReadRequest, Record>,
                                           readField: String, update: RPCMethod<Record, Record>) -> Route {
        var route = RPCBinding.route("POST", template, service, update, path: ["id": "id"])
        guard let writer = route.binding,
              let reader = RPCBinding.route("GET", template, service, read, path: ["id": readField]).binding else { return route }
        route.handler = { request, context in
            let changes = try request.jsonObject()
            var record = try reader.call(try reader.requestJSON(request, readsBody: false), context: context)
            for (field, value) in changes { record[field] = value }
            record["id"] = request.parameter("id")
            return .jsonText(try writer.callText(record, context: context), status: writer.status)
        }
        return route
    }
}
