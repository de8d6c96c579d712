/// The web portal: one HTML page, one stylesheet and the scripts (no build step), served with a
/// strict Content-Security-Policy. Sign-in and everything else go through the JSON API with the
/// session cookie and the CSRF token.
///
/// Caching (``PortalCatalog``): the page names each asset as `/assets/<name>?v=<version>`; that
/// exact URL is cached for a year (`immutable`), any other version (an old page's, or none) gets
/// the current file with `no-store`, and the page itself is `no-cache` with an ETag (304 when the
/// browser's copy is current).
enum PortalRoutes {
    static let securityHeaders: [(String, String)] = [
        ("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
    ]

    /// A versioned asset's `Cache-Control`: its URL changes with its bytes.
    static let immutable = "public, max-age=31536000, immutable"

    static func register(in router: inout Router) {
        let catalog = PortalCatalog.shared  // built here, at start, not at the first request
        router.add("GET", "/", access: .anonymous) { _, _ in
            HTTPResponse(status: 302, headers: [("Location", "/portal/")])
        }
        for page in ["/portal", "/portal/convite", "/portal/nova-senha", "/portal/pesquisa"] {
            router.add("GET", page, access: .anonymous) { request, _ in
                shell(catalog.shell, ifNoneMatch: request.header("if-none-match"))
            }
        }
        router.add("GET", "/assets/{file}", access: .anonymous) { request, _ in
            guard let file = catalog.assets[request.parameter("file")] else { return APIError.notFound.response }
            return asset(file, requested: request.query["v"])
        }
    }

    /// An asset: cached for a year when `requested` is its current version, else (an old page's
    /// version, or none) the current file that no cache keeps under that URL.
    static func asset(_ file: PortalCatalog.File, requested version: String?) -> HTTPResponse {
        var response = HTTPResponse(status: 200, headers: [("Content-Type", file.contentType)], body: file.bytes)
        response.headers += securityHeaders
        response.addHeader("Cache-Control", version == file.version ? immutable : "no-store")
        return response
    }

    /// The shell page, revalidated on every load: 304 without a body when `ifNoneMatch` names
    /// its ETag (or is `*`), stating the page's own length (``HTTPResponse/notModified(length:)``).
    static func shell(_ file: PortalCatalog.File, ifNoneMatch: String?) -> HTTPResponse {
        let etag = "\"\(file.version)\""
        var response = ifNoneMatch.map { matches($0, etag) } == true
            ? HTTPResponse.notModified(length: file.bytes.count)
            : HTTPResponse(status: 200, headers: [("Content-Type", file.contentType)], body: file.bytes)
        response.headers += securityHeaders
        response.addHeader("ETag", etag)
        response.addHeader("Cache-Control", "no-cache")
        return response
    }

    /// Whether an `If-None-Match` value (`*`, or a comma-separated list of entity tags, weak
    /// ones `W/"…"` compared weakly as RFC 9110 asks) names `etag`.
    static func matches(_ ifNoneMatch: String, _ etag: String) -> Bool {
        ifNoneMatch.split(separator: ",").contains { candidate in
            var tag = candidate.drop { $0 == " " || $0 == "\t" }
            while tag.last == " " || tag.last == "\t" { tag = tag.dropLast() }
            if tag.hasPrefix("W/") { tag = tag.dropFirst(2) }
            return tag == "*" || tag == etag
        }
    }
}

/// What the portal serves for a file name (for the staleness test): the embedded text as written
/// in `Services/Gateway/PortalAssets`, before the shell's asset URLs are versioned.
public enum PortalAssetProbe {
    public static func text(_ name: String) -> String { PortalAssets.files[name]?.text ?? "" }
}
