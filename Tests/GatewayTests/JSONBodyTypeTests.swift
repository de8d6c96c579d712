import Foundation
import Testing
import TestSupport

/// A JSON body sent without `Content-Type: application/json` (no type, `text/plain`,
/// `application/x-www-form-urlencoded`, a form type) is refused with 415 `UNSUPPORTED_MEDIA_TYPE`
/// naming `Content-Type`, before the route runs and with nothing stored (``JSONBodies``): an HTML
/// form of another site can send such a body. Before, only the sign-in checked the type; every
/// other route read the body as JSON whatever its type. Empty bodies and the routes that take
/// forms or raw bytes are not affected.
@Suite("JSON bodies need Content-Type: application/json")
struct JSONBodyTypeTests {
    static let key = #"{"name":"erp-por-formulario"}"#

    static func expectRefused(_ response: GatewayHarness.Response, _ label: String) {
        #expect(response.status == 415, "\(label): \(response.text)")
        let error = response.json["error"] as? [String: Any] ?? [:]
        #expect(error["code"] as? String == "UNSUPPORTED_MEDIA_TYPE", "\(label)")
        #expect(error["message"] as? String == "Envie o corpo como application/json." && error["message_en"] as? String == "Send the body as application/json.")
        let detail = (error["details"] as? [[String: Any]])?.first
        #expect(detail?["field"] as? String == "Content-Type" && detail?["reason"] as? String == "unsupported_media_type", "\(label): \(error)")
    }

    @Test("cookie session (with its CSRF token) and bearer token: text/plain, url-encoded, a form type and no type are 415 and store nothing; application/json (with charset) is taken; an empty body needs no type")
    func wrongTypesRefused() throws {
        let gateway = try GatewayHarness(engine: .sqlite)
        let login = try gateway.request("POST", "/v1/auth/login", json: ["email": GatewayHarness.adminEmail, "password": GatewayHarness.adminPassword])
        #expect(login.status == 200, "\(login.text)")
        let session = try #require(login.cookie("ocorrencias_session"))
        let csrf = try #require(login.json["csrf_token"] as? String)
        let cookieHeaders = ["Cookie": "ocorrencias_session=\(session)", "X-CSRF-Token": csrf]
        let bearer = try gateway.adminToken()
        let body = Data(Self.key.utf8)

        for type in ["text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                     "application/jsonp", "text/json"] {
            Self.expectRefused(try gateway.request("POST", "/v1/api-keys", body: body, headers: cookieHeaders.merging(["Content-Type": type]) { $1 }),
                               "cookie, \(type)")
            Self.expectRefused(try gateway.request("POST", "/v1/api-keys", body: body, headers: ["Content-Type": type], bearer: bearer),
                               "bearer, \(type)")
        }
        // No Content-Type at all (curl always sends one with a body): a raw request.
        let connection = try RawConnection(port: gateway.httpPort, timeoutSeconds: 10)
        #expect(connection.send(Array(("POST /v1/api-keys HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer \(bearer)\r\n"
            + "Content-Length: \(body.count)\r\n\r\n" + Self.key).utf8)))
        let raw = String(decoding: connection.readToEnd() ?? [], as: UTF8.self)
        #expect(raw.hasPrefix("HTTP/1.1 415") && raw.contains("\"field\":\"Content-Type\""), "\(raw.prefix(400))")
        // A cookie request without its CSRF token is still refused for that first (403).
        #expect(try gateway.request("POST", "/v1/api-keys", body: body, headers: ["Cookie": "ocorrencias_session=\(session)", "Content-Type": "text/plain"]).status == 403)
        let keys = try gateway.request("GET", "/v1/api-keys", bearer: bearer).json["api_keys"] as? [[String: Any]] ?? []
        #expect(keys.isEmpty, "nothing stored: \(keys)")

        let taken = try gateway.request("POST", "/v1/api-keys", body: body,
                                        headers: cookieHeaders.merging(["Content-Type": "application/json; charset=utf-8"]) { $1 })
        #expect(taken.status == 201, "\(taken.text)")
        #expect(try gateway.request("POST", "/v1/api-keys", body: Data(#"{"name":"erp-2"}"#.utf8),
                                    headers: ["Content-Type": "Application/JSON"], bearer: bearer).status == 201)
        // A write without a body is not about types (curl sends its form type with the empty body).
        let me = try #require((try gateway.request("GET", "/v1/me", bearer: bearer).json["principal"] as? [String: Any])?["id"] as? String)
        #expect(try gateway.request("POST", "/v1/users/\(me)/enable", headers: ["Content-Type": "text/plain"], bearer: bearer).status == 204)
        // The sign-ins themselves (the login CSRF case, AuthTests) and the token route.
        let credentials = Data(#"{"email":"\#(GatewayHarness.adminEmail)","password":"\#(GatewayHarness.adminPassword)"}"#.utf8)
        Self.expectRefused(try gateway.request("POST", "/v1/auth/tokens", body: credentials, headers: ["Content-Type": "text/plain"]), "tokens")
    }
}
