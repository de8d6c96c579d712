import Foundation
import Storage
import Testing
import TestSupport

/// The headers every answer of the gateway carries (API, portal, errors) and the flags of its
/// cookies: nothing it sends may be framed, sniffed into another type, run as a page of the
/// API's origin, or leak an address in `Referer`; the session cookie is out of scripts' reach.
@Suite("Security headers and cookie flags")
struct SecurityHeadersTests {
    static func expectAPIHeaders(_ response: GatewayHarness.Response, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.header("X-Content-Type-Options") == "nosniff", "\(what)", sourceLocation: sourceLocation)
        #expect(response.header("X-Frame-Options") == "DENY", "\(what)", sourceLocation: sourceLocation)
        #expect(response.header("Referrer-Policy") == "no-referrer", "\(what)", sourceLocation: sourceLocation)
        #expect(response.headers("Content-Security-Policy").count == 1, "\(what): one policy", sourceLocation: sourceLocation)
        let policy = response.header("Content-Security-Policy") ?? ""
        #expect(policy.contains("frame-ancestors 'none'") || policy == "sandbox", "\(what): \(policy)", sourceLocation: sourceLocation)
    }

    @Test("API answers, errors, the portal and its assets carry CSP, nosniff, frame and referrer policies; cookies are HttpOnly (session), SameSite=Strict and Secure")
    func headersAndCookies() throws {
        let gateway = try GatewayHarness(engine: .sqlite, extra: ["GATEWAY_COOKIE_SECURE": "1"])
        let token = try gateway.adminToken()
        for (method, path, bearer) in [("GET", "/v1/me", nil), ("GET", "/v1/me", token), ("GET", "/v1/nada", nil), ("GET", "/healthz", nil),
                                       ("GET", "/openapi.yaml", nil), ("POST", "/v1/auth/login", nil), ("DELETE", "/v1/me", token)] as [(String, String, String?)] {
            let response = try gateway.request(method, path, json: method == "POST" ? [:] as [String: Any] : nil, bearer: bearer, conform: false)
            Self.expectAPIHeaders(response, "\(method) \(path) → \(response.status)")
            #expect(response.header("Content-Security-Policy")?.hasPrefix("default-src 'none'") == true, "\(method) \(path)")
            if path.hasPrefix("/v1") { #expect(response.header("Cache-Control") == "no-store", "\(method) \(path)") }
        }
        // The portal's page and assets keep their own policy (scripts and styles of the origin only).
        for path in ["/portal/", "/portal/convite", "/assets/portal.js", "/assets/portal.css"] {
            let response = try gateway.request("GET", path, conform: false)
            #expect(response.status == 200, "\(path)")
            Self.expectAPIHeaders(response, path)
            #expect(response.header("Content-Security-Policy")?.contains("script-src 'self'") == true, "\(path)")
        }

        // Sign-in: the session cookie HttpOnly, both SameSite=Strict and Secure; logout clears them alike.
        let login = try gateway.request("POST", "/v1/auth/login", json: ["email": GatewayHarness.adminEmail, "password": GatewayHarness.adminPassword])
        #expect(login.status == 200)
        Self.expectAPIHeaders(login, "login")
        func flags(_ response: GatewayHarness.Response, _ name: String) -> Set<String> {
            let header = response.headers("set-cookie").first { $0.hasPrefix(name + "=") } ?? ""
            return Set(header.split(separator: ";").dropFirst().map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
        }
        let session = flags(login, "ocorrencias_session")
        #expect(session.isSuperset(of: ["httponly", "samesite=strict", "secure", "path=/"]), "\(session)")
        let csrf = flags(login, "ocorrencias_csrf")
        #expect(csrf.isSuperset(of: ["samesite=strict", "secure", "path=/"]) && !csrf.contains("httponly"), "the page reads it: \(csrf)")
        let cookie = "ocorrencias_session=\(login.cookie("ocorrencias_session") ?? ""); ocorrencias_csrf=\(login.cookie("ocorrencias_csrf") ?? "")"
        let logout = try gateway.request("POST", "/v1/auth/logout", headers: ["Cookie": cookie, "X-CSRF-Token": login.cookie("ocorrencias_csrf") ?? ""])
        #expect(logout.status == 204)
        #expect(flags(logout, "ocorrencias_session").isSuperset(of: ["httponly", "samesite=strict", "secure", "max-age=0"]))
    }
}
