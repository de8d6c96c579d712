import Foundation
import ServiceKit
import Storage

/// The gateway's own writes (users, invitations, API keys) honour `Idempotency-Key` as the
/// services' do: the same mechanism (``Idempotent`` over `storage_idempotency`, here in the
/// gateway's database), keys scoped by the route's method and path and the verified caller,
/// the answer stored with the effect in one transaction.
///
/// Every answer is stored sealed (``ResponseSeal``: secretbox under a key derived from
/// `OCORRENCIAS_SECRET`), since several carry a secret (an API key, an invitation link's
/// token), and every request fingerprint is keyed by the deployment secret, since several
/// requests carry a password: the table holds neither in a form that can be read or guessed.
///
/// ```swift
/// router.add("POST", "/v1/api-keys") { request, context in
///     try context.once(request) { tx in .encoded(try store.createAPIKey(tx, …), status: 201) }
/// }
/// ```
extension RequestContext {
    /// Runs `write` in one transaction of the gateway's database, once per `Idempotency-Key`
    /// of this caller for this method and path: a retry with the same body gets the first
    /// answer (status and body) and makes no second change; the same key with another body is
    /// refused (`FAILED_PRECONDITION`, 422). Without a key, `write` just runs. Effects outside
    /// the database (an e-mail) follow only when `write` ran now: it notes them for after.
    func once(_ request: HTTPRequest, _ write: (any SQLExecutor) throws -> HTTPResponse) throws -> HTTPResponse {
        let (scope, fingerprint) = try idempotencyScope(request)
        let result = try Idempotent.bytes(gateway.runtime.database, key: idempotencyKey, scope: scope, fingerprint: fingerprint,
                                          sealing: gateway.responseSeal) { tx in Self.encode(try write(tx)) }
        return try Self.decode(result.response)
    }

    /// The answer a committed first call with this request's key stored, for routes that call a
    /// service before their write (a retry must not be refused by checks the first call's
    /// effect now fails, "e-mail taken"): nil when the key is unused or absent.
    /// - Throws: `FAILED_PRECONDITION` when the key was used with another body.
    func replay(_ request: HTTPRequest) throws -> HTTPResponse? {
        let (scope, fingerprint) = try idempotencyScope(request)
        return try Idempotent.replay(gateway.runtime.database, key: idempotencyKey, scope: scope, fingerprint: fingerprint,
                                     sealing: gateway.responseSeal).map(Self.decode)
    }

    /// The request a merged update (``MergedUpdate``) sends, pinned to the call's key: the first
    /// call stores the record it merged (`merge`, run only then), a retry with the same body
    /// sends that same record again instead of merging over what the first call wrote (which
    /// would be another request to the service, refused as a reused key). The owning service
    /// then replays its answer. Without a key: `merge()`.
    func pinned(_ request: HTTPRequest, _ merge: () throws -> [String: Any]) throws -> [String: Any] {
        guard idempotencyKey?.isEmpty == false else { return try merge() }
        let (scope, fingerprint) = try idempotencyScope(request, purpose: "merge")
        let database = gateway.runtime.database
        var stored = try Idempotent.replay(database, key: idempotencyKey, scope: scope, fingerprint: fingerprint, sealing: gateway.responseSeal)
        if stored == nil {
            // Merged outside the transaction (it reads the record from its service); a concurrent
            // first call that stored its record first wins, and both send that one.
            let merged = Array(try JSONSerialization.data(withJSONObject: try merge(), options: [.sortedKeys]))
            stored = try Idempotent.bytes(database, key: idempotencyKey, scope: scope, fingerprint: fingerprint,
                                          sealing: gateway.responseSeal) { _ in merged }.response
        }
        guard let record = try JSONSerialization.jsonObject(with: Data(stored ?? [])) as? [String: Any] else {
            throw APIError(status: 500, code: "INTERNAL", pt: "Registro guardado inválido.", en: "Malformed stored record.")
        }
        return record
    }

    /// `gateway[.<purpose>].<METHOD> <path>|<caller>` and the body's keyed fingerprint: of the
    /// JSON body with its keys sorted (the same object sent again with its keys in another
    /// order is the same request, as a service's decoded message is), else of the bytes.
    private func idempotencyScope(_ request: HTTPRequest, purpose: String? = nil) throws -> (String, [UInt8]) {
        let caller = try requirePrincipal().id
        let target = "\(request.method) \(request.path)"
        var body = request.body
        if !body.isEmpty, let object = try? JSONSerialization.jsonObject(with: Data(body)),
           let canonical = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
            body = Array(canonical)
        }
        return ("gateway\(purpose.map { ".\($0)" } ?? "").\(target)|\(caller)",
                gateway.responseSeal.fingerprint(Array(target.utf8) + [0] + body))
    }

    /// Status (2 bytes), whether the body is JSON (1 byte), the body.
    static func encode(_ response: HTTPResponse) -> [UInt8] {
        let json = response.header("Content-Type")?.hasPrefix("application/json") == true
        return [UInt8(response.status >> 8), UInt8(response.status & 0xFF), json ? 1 : 0] + response.body
    }

    static func decode(_ bytes: [UInt8]) throws -> HTTPResponse {
        guard bytes.count >= 3 else {
            throw APIError(status: 500, code: "INTERNAL", pt: "Resposta guardada inválida.", en: "Malformed stored answer.")
        }
        let status = Int(bytes[0]) << 8 | Int(bytes[1])
        let body = Array(bytes[3...])
        return bytes[2] == 1 ? .jsonText(body, status: status) : HTTPResponse(status: status, body: body)
    }
}
