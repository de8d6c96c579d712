import Foundation
import RPCTransport

/// The portal's files as the gateway serves them, built once from the embedded copy
/// (``PortalAssets``) when the router is made: each file's bytes and **version**, the first 12
/// hex digits of the SHA-256 of those bytes, and the shell page (`index.html`) with every
/// `"/assets/<name>"` it names rewritten to `"/assets/<name>?v=<version>"`.
///
/// A browser caches a versioned asset for a year (its URL changes with its bytes) and revalidates
/// the shell on every load (its ETag is the shell's own version, so it changes with any asset's),
/// so after an upgrade the next load runs the new files, all of them, never a cached mix.
struct PortalCatalog: Sendable {
    /// One file as served.
    struct File: Sendable {
        let contentType: String
        let bytes: [UInt8]
        /// 12 lower-case hex digits of the SHA-256 of ``bytes``.
        let version: String
    }

    /// The shell page's name among the embedded files (served at the portal's pages, not as an asset).
    static let shellName = "index.html"

    /// What the gateway serves (the embedded portal).
    static let shared = PortalCatalog(PortalAssets.files)

    /// The assets by file name (the shell excluded).
    let assets: [String: File]
    /// `index.html` with versioned asset URLs; its ``File/version`` is the ETag.
    let shell: File

    init(_ files: [String: (contentType: String, text: String)]) {
        var assets: [String: File] = [:]
        for (name, file) in files where name != Self.shellName {
            assets[name] = File(contentType: file.contentType, bytes: Array(file.text.utf8))
        }
        let page = files[Self.shellName] ?? (contentType: "text/html; charset=utf-8", text: "")
        self.assets = assets
        shell = File(contentType: page.contentType, bytes: Array(Self.versioned(page.text, assets).utf8))
    }

    /// `html` with each `"/assets/<name>"` of a known asset followed by `?v=<version>`.
    static func versioned(_ html: String, _ assets: [String: File]) -> String {
        var text = html
        for (name, file) in assets {
            text = text.replacingOccurrences(of: "\"/assets/\(name)\"", with: "\"/assets/\(name)?v=\(file.version)\"")
        }
        return text
    }
}

extension PortalCatalog.File {
    init(contentType: String, bytes: [UInt8]) {
        self.init(contentType: contentType, bytes: bytes, version: Self.version(of: bytes))
    }

    /// The version of `bytes`: 12 hex digits (48 bits) of their SHA-256.
    static func version(of bytes: [UInt8]) -> String {
        String(Digest.hex(Digest.sha256(bytes)).prefix(12))
    }
}
