/// The web portal: one HTML page, one stylesheet and two scripts (no build step), served with a
/// strict Content-Security-Policy. Sign-in and everything else go through the JSON API with the
/// session cookie and the CSRF token.
enum PortalRoutes {
    static let securityHeaders: [(String, String)] = [
        ("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
    ]

    static func register(in router: inout Router) {
        router.add("GET", "/", access: .anonymous) { _, _ in
            HTTPResponse(status: 302, headers: [("Location", "/portal/")])
        }
        for page in ["/portal", "/portal/convite", "/portal/nova-senha", "/portal/pesquisa"] {
            router.add("GET", page, access: .anonymous) { _, _ in asset("index.html") }
        }
        router.add("GET", "/assets/{file}", access: .anonymous) { request, _ in
            asset(request.parameter("file"))
        }
    }

    static func asset(_ name: String) -> HTTPResponse {
        guard let file = PortalAssets.files[name] else { return APIError.notFound.response }
        var response = HTTPResponse.text(file.text, contentType: file.contentType)
        response.headers += securityHeaders
        response.addHeader("Cache-Control", name == "index.html" ? "no-cache" : "public, max-age=300")
        return response
    }
}

/// What the portal serves for a file name (for the staleness test).
public enum PortalAssetProbe {
    public static func text(_ name: String) -> String { PortalAssets.files[name]?.text ?? "" }
}
