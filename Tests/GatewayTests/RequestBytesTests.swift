import Foundation
@testable import GatewayCore
import Messages
import ServiceKit
import RPCTransport
import Synchronization
import Testing

@Suite("Per-request work on bytes answers as the String and Foundation versions did")
struct RequestBytesTests {
    /// What the gateway did before reading the token as bytes.
    static func foundationBearer(_ authorization: String) -> String? {
        guard authorization.lowercased().hasPrefix("bearer ") else { return nil }
        return String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
    }

    @Test("the bearer token, for schemes in any case, blanks around it, empty and non-ASCII ends", arguments: [
        "Bearer abc", "bearer abc", "BEARER abc", "BeArEr   abc\t ", "Bearer \t", "Bearer", "Bearer ", "Basic abc", "Bearerabc",
        "Bearer ocr_K1_secret", "Bearer \u{00A0}abc\u{2003}", "Bearer abc\u{00A0}", "Bearer  é ", "bearer a b", "",
    ])
    func bearer(_ header: String) {
        #expect(Gateway.bearerToken(header) == Self.foundationBearer(header), "\(header.debugDescription)")
    }

    @Test("form content types by prefix, case-insensitively")
    func forms() {
        for type in ["multipart/form-data; boundary=x", "Multipart/Form-Data", "application/x-www-form-urlencoded", "application/json",
                     "multipart/mixed", "", "MULTİPART/form-data"] {
            let expected = type.lowercased().hasPrefix("multipart/form-data") || type.lowercased().hasPrefix("application/x-www-form-urlencoded")
            #expect(Gateway.isForm(type) == expected, "\(type)")
        }
        #expect(!Gateway.isForm(nil))
    }

    @Test("header names lower-cased as bytes, non-ASCII as String.lowercased; lookups by any case")
    func headerNames() {
        for name in ["Content-Type", "x-request-id", "AUTHORIZATION", "X-Ünïcode", "Idempotency-Key", ""] {
            var bytes = Array(name.utf8)
            let lowered = bytes.withUnsafeMutableBufferPointer { HTTPServer.lowercasedName($0) }
            #expect(lowered == name.lowercased())
        }
        let request = HTTPRequest(method: "GET", path: "/", headers: ["content-type": "a", "x-ü": "b"])
        #expect(request.header("Content-Type") == "a")
        #expect(request.header("content-type") == "a")
        #expect(request.header("X-Ü") == "b")
    }

    @Test("a principal signed once answers what the signer answers; another principal is signed anew; a signature a minute old is made again, dated then")
    func signedPrincipals() throws {
        let clock = Mutex<Int64>(1_800_000_000_000)
        var signer = PrincipalSigner(secret: DeploymentSecret.random())
        signer.clock = { clock.withLock { $0 } }
        let cache = SignedPrincipals(signer: signer, limit: 2)
        var first = AuthV1.Principal()
        first.id = "u-1"
        var second = first
        second.id = "u-2"
        for _ in 0..<3 {
            for principal in [first, second, first] {
                #expect(cache.metadata(for: principal) == signer.metadata(for: principal))
                #expect(try signer.principal(of: cache.metadata(for: principal)) == principal)
            }
        }
        let kept = cache.metadata(for: first)
        clock.withLock { $0 += cache.refreshMilliseconds - 1 }
        #expect(cache.metadata(for: first) == kept)
        clock.withLock { $0 += 1 }
        let renewed = cache.metadata(for: first)
        #expect(renewed != kept && renewed == signer.metadata(for: first))
        // What was kept still verifies until it expires; the renewed one a minute longer.
        #expect(try signer.principal(of: kept) == first)
    }
}
