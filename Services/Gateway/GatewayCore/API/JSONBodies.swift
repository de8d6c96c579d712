import Foundation

/// A write's body the gateway reads as JSON must say so: `Content-Type: application/json` (any
/// parameters, `charset=utf-8`) or a `+json` type. A body sent without a type, as `text/plain`
/// or as `application/x-www-form-urlencoded` is refused with 415 before the route runs, on every
/// route and for every caller. Before, the type was ignored and such a body was read as JSON:
/// an HTML form of another site can send exactly that (`enctype="text/plain"` with a body that
/// parses as JSON), so the session's `X-CSRF-Token` was the only thing standing between a
/// cross-site form and a cookie-authenticated write; now the media type, which such a form
/// cannot set, stops it too (defence in depth; the sign-in, which has no CSRF token yet, relied
/// on its own copy of this check).
///
/// Not checked: empty bodies (routes that take none, `curl -X POST` without `-d`), safe methods,
/// and bodies the route takes as they come (``Route/streamsBody``: the multipart forms of the
/// open, reply and discussion routes; `POST /v1/attachments`, raw bytes of any type).
enum JSONBodies {
    /// Throws ``refused`` when `request`'s body must be JSON for `route` and is not sent as such.
    static func check(_ request: HTTPRequest, route: Route) throws {
        guard !request.body.isEmpty, request.method != "GET", request.method != "HEAD", request.method != "OPTIONS" else { return }
        let type = request.header("content-type")
        if route.bodyConsumer != nil && route.streamsBody(type) { return }
        guard let type, isJSON(type) else { throw refused }
    }

    /// `application/json` or `application/<something>+json`, parameters ignored, case-insensitive.
    static func isJSON(_ contentType: String) -> Bool {
        let media = (contentType.split(separator: ";", maxSplits: 1).first ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        return media == "application/json" || (media.hasPrefix("application/") && media.hasSuffix("+json"))
    }

    /// 415 `UNSUPPORTED_MEDIA_TYPE` naming the `Content-Type` header.
    static let refused = APIError(
        status: 415, code: "UNSUPPORTED_MEDIA_TYPE", pt: "Envie o corpo como application/json.", en: "Send the body as application/json.",
        details: [.init(field: "Content-Type", reason: "unsupported_media_type",
                        pt: "Esta rota recebe JSON: use Content-Type: application/json.",
                        en: "This route takes JSON: use Content-Type: application/json.")])
}
