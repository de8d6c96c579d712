import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit
import Testing

@Suite("Signed principals")
struct PrincipalSignerTests {
    static func principal() -> AuthV1.Principal {
        var principal = AuthV1.Principal()
        principal.kind = .customer
        principal.id = "contato-1"
        principal.organizationID = "org-1"
        principal.displayName = "Maria"
        return principal
    }

    @Test("a signed principal verifies (signature in either case); a forged, truncated or non-hex signature and another secret are UNAUTHENTICATED; no principal is nil")
    func verification() throws {
        let signer = PrincipalSigner(secret: DeploymentSecret(bytes: Array("segredo-de-teste-numero-1".utf8)))
        let metadata = signer.metadata(for: Self.principal())
        #expect(try signer.principal(of: metadata) == Self.principal())
        var upper = metadata
        upper[MetadataKey.principalSignature] = metadata[MetadataKey.principalSignature]?.uppercased()
        #expect(try signer.principal(of: upper) == Self.principal())

        let signature = try #require(metadata[MetadataKey.principalSignature])
        let flipped = String(signature.prefix(10)) + (signature.dropFirst(10).first == "0" ? "1" : "0") + signature.dropFirst(11)
        for bad in [flipped, String(signature.dropLast()), String(signature.dropLast(2)), "zz" + signature.dropFirst(2), ""] {
            var forged = metadata
            forged[MetadataKey.principalSignature] = bad
            #expect(throws: RPCError.self) { try signer.principal(of: forged) }
        }
        let other = PrincipalSigner(secret: DeploymentSecret(bytes: Array("segredo-de-teste-numero-2".utf8)))
        #expect(throws: RPCError.self) { try other.principal(of: metadata) }
        #expect(try signer.principal(of: [:]) == nil)
    }
}
