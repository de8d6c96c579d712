import Foundation
@testable import GatewayCore
import RPCTransport
import Testing
import TestSupport

/// How browsers cache the portal (`PortalCatalog`, `PortalRoutes`): the shell page is revalidated
/// on every load (ETag, 304), and names each asset with its content version, which is cached for a
/// year; a request for another version gets the current file, which no cache keeps. So after an
/// upgrade the next load runs every new file, never old scripts against the new API.
@Suite("Portal caching: versioned assets, revalidated shell")
struct PortalCachingTests {
    /// The `/assets/…` URLs a text names: (file name, `v` or nil), in order.
    static func assetURLs(_ text: String) -> [(name: String, version: String?)] {
        var found: [(String, String?)] = []
        var rest = text[...]
        while let range = rest.range(of: "/assets/") {
            let url = rest[range.upperBound...].prefix { !"\"' >)\n".contains($0) }
            let parts = url.split(separator: "?", maxSplits: 1)
            let version = parts.count == 2 && parts[1].hasPrefix("v=") ? String(parts[1].dropFirst(2)) : nil
            found.append((String(parts.first ?? ""), version))
            rest = rest[range.upperBound...]
        }
        return found
    }

    static func version(_ bytes: [UInt8]) -> String { String(Digest.hex(Digest.sha256(bytes)).prefix(12)) }

    @Test("the shell names every script and stylesheet with the SHA-256 version of its bytes; assets name no other asset")
    func shellCarriesCurrentVersions() throws {
        let catalog = PortalCatalog.shared
        let shell = String(decoding: catalog.shell.bytes, as: UTF8.self)
        let urls = Self.assetURLs(shell)
        #expect(urls.count >= 15, "\(urls)")
        for (name, version) in urls {
            let file = try #require(catalog.assets[name], "the shell names \(name), which is not embedded")
            #expect(file.bytes == Array(PortalAssetProbe.text(name).utf8))
            #expect(version == Self.version(file.bytes) && version == file.version, "\(name): v=\(version ?? "none")")
        }
        // Every script and the stylesheet are loaded by the shell, so none is reached unversioned.
        let named = Set(urls.map(\.name))
        let loadable = Set(catalog.assets.keys.filter { $0.hasSuffix(".js") || $0.hasSuffix(".css") })
        #expect(loadable.subtracting(named).isEmpty, "not in the shell: \(loadable.subtracting(named).sorted())")
        // No script or stylesheet loads another asset itself (its URL would carry no version;
        // extend PortalCatalog.versioned to those files first).
        for (name, file) in catalog.assets {
            #expect(Self.assetURLs(String(decoding: file.bytes, as: UTF8.self)).isEmpty, "\(name) names an asset")
        }
        // The source page is unversioned; the shell's own version is the hash of what is served.
        #expect(Self.assetURLs(PortalAssetProbe.text("index.html")).allSatisfy { $0.version == nil })
        #expect(catalog.shell.version == Self.version(catalog.shell.bytes))
        #expect(catalog.assets["index.html"] == nil, "the shell is not an asset")
    }

    @Test("a changed asset changes its URL and the shell's ETag, and nothing else")
    func changeMovesVersions() throws {
        let before = PortalCatalog(PortalAssets.files)
        var files = PortalAssets.files
        let script = try #require(files["portal.js"])
        files["portal.js"] = (script.contentType, script.text + "\n// upgraded")
        let after = PortalCatalog(files)
        #expect(after.assets["portal.js"]?.version != before.assets["portal.js"]?.version)
        #expect(after.shell.version != before.shell.version)
        for (name, file) in before.assets where name != "portal.js" { #expect(after.assets[name]?.version == file.version, "\(name)") }
        let shell = String(decoding: after.shell.bytes, as: UTF8.self)
        let version = try #require(after.assets["portal.js"]).version
        #expect(shell.contains("\"/assets/portal.js?v=\(version)\""))
    }

    @Test("If-None-Match: the shell's ETag, weak or in a list, or *, matches; another does not")
    func ifNoneMatch() {
        let etag = "\"0123456789ab\""
        for value in [etag, "W/\(etag)", "\"x\", \(etag)", " \(etag) ", "*"] { #expect(PortalRoutes.matches(value, etag), "\(value)") }
        for value in ["\"0123456789ac\"", "0123456789ab", "", "\"x\""] { #expect(!PortalRoutes.matches(value, etag), "\(value)") }
    }

    @Test("over HTTP: shell no-cache with ETag and 304, current versions immutable for a year, other versions no-store")
    func headersOnTheWire() throws {
        let gateway = try GatewayHarness(engine: .sqlite)
        let page = try gateway.request("GET", "/portal/", conform: false)
        #expect(page.status == 200)
        #expect(page.header("Cache-Control") == "no-cache")
        let etag = try #require(page.header("ETag"))
        #expect(etag == "\"\(Self.version(Array(page.body)))\"", "the ETag is the version of the page's bytes")
        #expect(page.header("Content-Security-Policy")?.contains("script-src 'self'") == true)

        // Revalidation: 304, no body, same validators and policy; another page of the portal is the same shell.
        for value in [etag, "W/\(etag)", "\"old\", \(etag)"] {
            let again = try gateway.request("GET", "/portal/", headers: ["If-None-Match": value], conform: false)
            #expect(again.status == 304, "\(value)")
            #expect(again.body.isEmpty && again.header("ETag") == etag && again.header("Cache-Control") == "no-cache")
            #expect(again.header("Content-Security-Policy")?.contains("script-src 'self'") == true)
        }
        let stale = try gateway.request("GET", "/portal/convite", headers: ["If-None-Match": "\"000000000000\""], conform: false)
        #expect(stale.status == 200 && stale.body == page.body && stale.header("ETag") == etag)

        // Every asset the page names: its version is the hash of the bytes served, cached for a year.
        let urls = Self.assetURLs(page.text)
        #expect(urls.count >= 15)
        for (name, version) in urls {
            let asset = try gateway.request("GET", "/assets/\(name)?v=\(version ?? "")", conform: false)
            #expect(asset.status == 200, "\(name)")
            #expect(version == Self.version(Array(asset.body)), "\(name): v=\(version ?? "none")")
            #expect(asset.header("Cache-Control") == "public, max-age=31536000, immutable", "\(name)")
            #expect(asset.header("Content-Type")?.hasPrefix(name.hasSuffix(".css") ? "text/css" : "text/javascript") == true, "\(name)")
            #expect(asset.header("Content-Security-Policy")?.contains("script-src 'self'") == true, "\(name)")
        }

        // An old page's version, or none: the current file, kept by no cache.
        let current = try gateway.request("GET", "/assets/portal.js?v=\(PortalCatalog.shared.assets["portal.js"]?.version ?? "")", conform: false)
        for path in ["/assets/portal.js?v=000000000000", "/assets/portal.js", "/assets/portal.js?v="] {
            let other = try gateway.request("GET", path, conform: false)
            #expect(other.status == 200 && other.body == current.body, "\(path)")
            #expect(other.header("Cache-Control") == "no-store", "\(path)")
        }
        #expect(try gateway.request("GET", "/assets/nada.js?v=000000000000", conform: false).status == 404)
        #expect(try gateway.request("GET", "/assets/index.html", conform: false).status == 404, "the shell only at the portal's pages")
    }

    @Test("on the wire, a 304 and a HEAD state the page's own Content-Length (once; libmicrohttpd used to say 0) and send no body: the next request on the connection is answered next")
    func notModifiedLength() throws {
        let gateway = try GatewayHarness(engine: .sqlite)
        let page = try gateway.request("GET", "/portal/", conform: false)
        let etag = try #require(page.header("ETag"))
        let connection = try RawConnection(port: gateway.httpPort, timeoutSeconds: 10)
        let requests = "GET /portal/ HTTP/1.1\r\nHost: x\r\nIf-None-Match: \(etag)\r\n\r\n"
            + "HEAD /portal/ HTTP/1.1\r\nHost: x\r\n\r\n"
            + "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        #expect(connection.send(Array(requests.utf8)))
        let text = String(decoding: try #require(connection.readToEnd()), as: UTF8.self)
        // Three answers in a row: the first two are header blocks alone (no body between them).
        let answers = text.components(separatedBy: "\r\n\r\n")
        #expect(answers.count >= 3 && answers[0].hasPrefix("HTTP/1.1 304") && answers[1].hasPrefix("HTTP/1.1 200")
                && answers[2].hasPrefix("HTTP/1.1 200"), "\(text.prefix(3000))")
        for answer in answers.prefix(2) {
            let lengths = answer.components(separatedBy: "\r\n").filter { $0.lowercased().hasPrefix("content-length:") }
            #expect(lengths == ["Content-Length: \(page.body.count)"], "\(answer)")
        }
        // The third answer's body (the health status) ends the connection: nothing else came.
        #expect(answers.count == 4 && answers[3].contains("status"), "\(text.suffix(500))")
    }

    @Test("headless Chromium: every asset loaded with its version and run; on the next visit the assets come from its cache and the page is asked for again")
    func browserCaches() throws {
        try PortalBrowser.requireChromium()
        let gateway = try GatewayHarness(engine: .sqlite)
        let result = try PortalBrowser.run("portal_caching.py", gateway, environment: [:])
        #expect(result.status == 0, Comment(rawValue: result.output + "\n" + result.error))
        #expect(result.output.hasPrefix("OK"))
    }
}
