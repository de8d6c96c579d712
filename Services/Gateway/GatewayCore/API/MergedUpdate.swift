import CMessages
import Foundation
import Messages
import RPC
import RPCTransport

/// An update route whose JSON body changes only the fields it names.
///
/// The owning services' update and "put" RPCs replace every field of the record (proto3 cannot
/// tell a field left out from one set to its default), so a body with a record's name and plan
/// only would clear its e-mail, its account owner and deactivate it. Here the gateway reads the
/// record first, as the caller, lays the body's fields over it and sends the whole record: an
/// integration that sends what it knows (an ERP's name, tax id and plan; an agent's level) keeps
/// what it does not know. A field sent as `""`, `0`, `false` or `[]` is cleared. A body naming no
/// record, or one that does not exist yet, is sent as it is (a put creates it); an update route
/// naming in its path a record the caller cannot read sends the body as it is too, so the update
/// answers (403 to a caller who may not change it), and 404 when it finds the body incomplete.
/// Two writers at once: the last one's record wins, as with the RPC itself (an article's merge
/// also sends the version it read, so there a concurrent edit is refused instead).
///
/// ```swift
/// router.add(MergedUpdate.route("/v1/organizations/{id}", "intake", read: IntakeV1.Intake.getOrganization,
///                               readField: "organization_id", update: IntakeV1.Intake.updateOrganization))
/// router.add(MergedUpdate.merging(B.route("POST", "/v1/agents", "workflow", W.putAgent), record: "agent",
///                                 key: ["id"], read: .get("workflow", W.getAgent, ["id": "agent_id"])))
/// ```
enum MergedUpdate {
    /// How the current record is read, as the caller: from the record's key fields (their values
    /// as the service writes them: enums by name), the record as JSON, or nil when there is none
    /// (NOT_FOUND instead when `mustExist`: an update route naming it in its path).
    struct Reader: Sendable {
        let read: @Sendable (_ key: [String: Any], _ mustExist: Bool, _ context: RequestContext) throws -> [String: Any]?

        /// A "get one" RPC: each key field given as a request field (`fields`: record field →
        /// request field); the record is the answer, or its field `record`. NOT_FOUND: none.
        static func get<Request, Response>(_ service: String, _ method: RPCMethod<Request, Response>, _ fields: [String: String] = [:],
                                           record: String? = nil) -> Reader {
            Reader { key, mustExist, context in
                var ask: [String: Any] = [:]
                for (field, requestField) in fields { ask[requestField] = key[field] }
                let answer: [String: Any]
                do { answer = try context.callJSON(service, method, ask) } catch let error as RPCError where error.code == .notFound && !mustExist {
                    return nil
                }
                guard let record else { return answer }
                return answer[record] as? [String: Any]
            }
        }

        /// A "list" RPC (asked with the flags `request`, e.g. `include_inactive`): the item of the
        /// answer's `items` whose key fields equal the key's, if any.
        static func list<Request, Response>(_ service: String, _ method: RPCMethod<Request, Response>, _ request: [String: Bool] = [:],
                                            items: String) -> Reader {
            Reader { key, mustExist, context in
                let answer = try context.callJSON(service, method, request)
                let found = (answer[items] as? [[String: Any]] ?? []).first { item in
                    key.allSatisfy { field, value in "\(item[field] ?? "")" == "\(value)" }
                }
                if found == nil && mustExist { throw RPCError(.notFound, "registro não encontrado / record not found") }
                return found
            }
        }
    }

    /// `POST template` calling `update` with the record `read` answers for the path's `{id}`
    /// (given as the read request's `readField`), changed by the body's fields.
    static func route<ReadRequest, Record>(_ template: String, _ service: String, read: RPCMethod<ReadRequest, Record>,
                                           readField: String, update: RPCMethod<Record, Record>) -> Route {
        merging(RPCBinding.route("POST", template, service, update, path: ["id": "id"]), key: ["id"], path: ["id": "id"],
                read: .get(service, read, ["id": readField]))
    }

    /// `route` (a plain binding whose JSON body is its request) with the body laid over the
    /// current record first.
    /// - Parameters:
    ///   - record: the request's field holding the record (`agent` of `PutAgentRequest`); nil
    ///     when the request is the record.
    ///   - key: the record's fields naming it (`id`; an SLA policy's `plan` and `priority`; none
    ///     for a single record). All at their defaults: a new record, sent as it is.
    ///   - path: path parameter → record field (the `{id}` of an update route).
    ///   - carry: current record's field → record field filled from it when the body leaves it out
    ///     (an article's `version` as `expected_version`).
    ///   - read: how the current record is read. Its fields the record's message lacks (read
    ///     only: an article's `body_html`) are not sent.
    static func merging(_ route: Route, record: String? = nil, key: [String], path: [String: String] = [:],
                        carry: [String: String] = [:], read: Reader) -> Route {
        guard let writer = route.binding else { return route }
        var merged = route
        merged.handler = { request, context in
            // With an Idempotency-Key the merged request is pinned to the key: a retry sends the
            // first call's record again, which the service replays (docs/GATEWAY.md, "Idempotency-Key").
            let plan = try context.pinned(request) { try mergedRequest(request, context) }
            do {
                return .jsonText(try writer.callText(plan["request"] as? [String: Any] ?? [:], context: context), status: writer.status)
            } catch let refusal as RPCError where refusal.code == .invalidArgument {
                // The record was missing (or hidden): a body the update finds incomplete is answered as that.
                guard let missing = plan["missing"] as? String else { throw refusal }
                throw RPCError(.notFound, missing)
            }
        }
        /// The update's request (`request`): the body, its record laid over the current one when
        /// there is one; `missing`: the read's NOT_FOUND message when the record was not found.
        @Sendable func mergedRequest(_ request: HTTPRequest, _ context: RequestContext) throws -> [String: Any] {
            let body = try request.jsonObject()
            /// The update's request: the body, its record replaced by `changes` when given.
            func send(_ changes: [String: Any]?, missing: RPCError? = nil) -> [String: Any] {
                var sent = body
                if let changes { if let record { sent[record] = changes } else { sent = changes } }
                var plan: [String: Any] = ["request": sent]
                if let missing { plan["missing"] = missing.message }
                return plan
            }
            if let record, let value = body[record], !(value is [String: Any]) { return send(nil) }  // refused, naming the field
            var changes = record.map { body[$0] as? [String: Any] ?? [:] } ?? body
            for (parameter, field) in path { changes[field] = request.parameter(parameter) }
            let descriptor = recordDescriptor(writer, record)
            guard let named = recordKey(changes, key, descriptor) else { return send(changes) }
            let current: [String: Any]
            do {
                guard let found = try read.read(named, !path.isEmpty, context) else { return send(changes) }
                current = found
            } catch let missing as RPCError where missing.code == .notFound {
                // Missing, or hidden from the caller: the update decides who may change it (403 before
                // 404, as without the merge); a body it finds incomplete is answered as the missing record.
                return send(changes, missing: missing)
            }
            var whole = current.filter { ProtoJSON.hasField($0.key, in: descriptor) }
            for (from, to) in carry where changes[to] == nil { whole[to] = current[from] }
            for (field, value) in changes { whole[field] = value }
            return send(whole)
        }
        return merged
    }

    /// The descriptor of the record's message: the request's, or that of its field `record`.
    static func recordDescriptor(_ writer: RPCBinding, _ record: String?) -> UnsafePointer<ProtobufCMessageDescriptor> {
        guard let record, let nested = ProtoJSON.messageDescriptor(of: record, in: writer.requestDescriptor.pointer) else {
            return writer.requestDescriptor.pointer
        }
        return nested
    }

    /// The key fields of `changes` as the service writes them (a priority given by number: by
    /// name; one left out: its default), or nil when every one is at its default (a new record)
    /// or they do not fit the message (the update's answer says why). No key: the single record.
    static func recordKey(_ changes: [String: Any], _ key: [String], _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>) -> [String: Any]? {
        guard !key.isEmpty else { return [:] }
        let given = changes.filter { key.contains($0.key) }
        guard let canonical = try? ProtoJSON.decode(ProtoJSON.encode(given, as: descriptor), as: descriptor),
              let defaults = try? ProtoJSON.decode([], as: descriptor) else { return nil }
        let named = canonical.filter { key.contains($0.key) }
        return named.contains { field, value in "\(value)" != "\(defaults[field] ?? "")" } ? named : nil
    }
}
