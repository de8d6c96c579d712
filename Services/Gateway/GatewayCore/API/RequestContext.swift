import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit

/// Who is calling and the means to call services on their behalf, handed to every route handler.
public struct RequestContext: Sendable {
    public let gateway: Gateway
    /// The signed-in user (session or bearer token).
    public var user: User?
    /// The integration key used, when the caller authenticated with one.
    public var apiKey: APIKeyRecord?
    /// The session (for logout and the CSRF token).
    public var session: CredentialStore.Session?
    /// `X-Request-Id`, generated when absent; travels to services as `request-id`.
    public var requestID: String
    /// The `Idempotency-Key` header, passed to the owning service.
    public var idempotencyKey: String?

    /// Representatives: the organizations they act for (from intake, see ``RepresentativeDirectory``).
    public var representedOrganizationIDs: [String] = []

    /// A `customer_admin` sign-in whose contact has intake's `admin` flag now, as checked with the
    /// caller's standing (``CompanyAdministratorAccess``). Until then (a route whose standing is
    /// not checked) or without the flag, the sign-in acts as a plain customer: fail closed.
    public var companyAdministratorConfirmed = false

    /// The role the signed-in user acts with: the sign-in's, except `customer_contact` for a
    /// `customer_admin` not confirmed as its company's administrator (``companyAdministratorConfirmed``).
    public var effectiveUser: User? {
        guard var user else { return nil }
        if user.role == .customerAdmin && !companyAdministratorConfirmed { user.role = .customerContact }
        return user
    }

    /// A `customer_admin` sign-in whose contact is not its company's administrator now (support took
    /// the `admin` flag away): refused company-administrator rights with `NOT_COMPANY_ADMINISTRATOR`.
    var companyAdministrationWithdrawn: Bool { user?.role == .customerAdmin && !companyAdministratorConfirmed }

    /// The principal signed into every RPC of this request: the ``effectiveUser``'s (a company's
    /// administrator's `organization_admin` only while confirmed), or the API key's.
    public var principal: AuthV1.Principal? {
        guard var principal = effectiveUser?.principal else { return apiKey?.principal }
        if user?.role == .representative { principal.representedOrganizationIDs = representedOrganizationIDs }
        return principal
    }

    /// The principal, or 401.
    public func requirePrincipal() throws -> AuthV1.Principal {
        guard let principal else { throw APIError.unauthenticated }
        return principal
    }

    /// 403 unless the caller is an administrator.
    public func requireAdministrator() throws {
        guard try requirePrincipal().administrator else { throw APIError.forbidden }
    }

    /// 401 without a principal; 403 unless it holds `permission` (administrators hold every one).
    public func require(_ permission: String) throws {
        let principal = try requirePrincipal()
        guard principal.administrator || principal.permissions.contains(permission) else { throw APIError.forbidden }
    }

    /// Call options carrying the signed principal, request id and idempotency key.
    public func callOptions(timeoutMilliseconds: Int = 10_000) -> CallOptions {
        // The signed principal's entries (made once per caller), then this request's id.
        var metadata = principal.map { gateway.signedPrincipals.metadata(for: $0) } ?? [:]
        metadata[MetadataKey.requestID] = requestID
        return CallOptions(timeoutMilliseconds: timeoutMilliseconds, metadata: metadata, idempotencyKey: idempotencyKey)
    }

    /// Call options for a file streamed through the gateway (upload or download): the transfer's
    /// time limit (`GATEWAY_HTTP_TRANSFER_SECONDS`) instead of a call's.
    func transferCallOptions() -> CallOptions {
        callOptions(timeoutMilliseconds: gateway.configuration.http.transferSeconds * 1000)
    }

    /// Calls `method` of `service` on the caller's behalf; RPC errors become ``APIError``s.
    public func call<Request, Response>(_ service: String, _ method: RPCMethod<Request, Response>, _ request: Request) throws -> Response {
        let bytes = try gateway.forward(service: service, path: method.path, payload: request.serializedBytes(), options: callOptions())
        do { return try Response(serializedBytes: bytes) } catch {
            throw APIError(status: 500, code: "INTERNAL", pt: "Resposta inválida de \(service).", en: "Malformed answer from \(service).")
        }
    }

    /// ``call(_:_:_:)`` for an entry the caller's body names: the service's `NOT_FOUND` becomes
    /// 400 naming `field` with reason `not_found` (and the messages given).
    func call<Request, Response>(_ service: String, _ method: RPCMethod<Request, Response>, _ request: Request,
                                 notFound field: String, pt: String, en: String) throws -> Response {
        do {
            return try call(service, method, request)
        } catch let error as RPCError where error.code == .notFound {
            throw APIError.invalid(field, "not_found", pt: pt, en: en)
        }
    }
}
