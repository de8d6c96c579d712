import Foundation
import Messages
import RPC
import RPCTransport
@testable import ServiceKit
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

extension PrincipalSignerTests {
    /// A signer whose clock reads `now` (Unix ms).
    static func signer(at now: Int64, secret: String = "segredo-de-teste-numero-1") -> PrincipalSigner {
        var signer = PrincipalSigner(secret: DeploymentSecret(bytes: Array(secret.utf8)))
        signer.clock = { now }
        return signer
    }

    static func code(_ body: () throws -> Any?) -> RPCStatusCode? {
        do { _ = try body(); return nil } catch let error as RPCError { return error.code } catch { return .unknown }
    }

    @Test("a signature is dated: valid for its lifetime plus the skew, then UNAUTHENTICATED (also once kept); one dated ahead beyond the skew too; the principal comes back without its dates")
    func expiry() throws {
        let start: Int64 = 1_800_000_000_000
        let signer = Self.signer(at: start)
        let metadata = signer.metadata(for: Self.principal())
        let signed = try AuthV1.Principal(serializedBytes: Array(try #require(Data(base64Encoded: metadata[MetadataKey.principal] ?? ""))))
        #expect(signed.issuedAtMs == start && signed.expiresAtMs == start + signer.lifetimeMilliseconds)
        // Dated to the minute: within it, the same texts (verified once by a service); then new ones.
        #expect(Self.signer(at: start + 59_999).metadata(for: Self.principal()) == metadata)
        #expect(Self.signer(at: start + 60_000).metadata(for: Self.principal()) != metadata)
        // Read back by services whose clocks say other times (each its own cache, and one shared).
        let last = start + signer.lifetimeMilliseconds + signer.skewMilliseconds
        let kept = Self.signer(at: start)
        #expect(try kept.principal(of: metadata) == Self.principal())
        for (now, valid) in [(start - signer.skewMilliseconds, true), (last, true), (last + 1, false), (start + 86_400_000, false),
                             (start - signer.skewMilliseconds - 1, false)] {
            var at = Self.signer(at: now)
            #expect((Self.code { try at.principal(of: metadata) } == nil) == valid, "\(now - start)")
            at = kept
            at.clock = { now }
            #expect((Self.code { try at.principal(of: metadata) } == nil) == valid, "kept \(now - start)")
            if !valid { #expect(Self.code { try at.principal(of: metadata) } == .unauthenticated) }
        }
    }

    @Test("an undated principal (an older release's signer) is UNAUTHENTICATED unless the rolling-upgrade setting lets it in")
    func undated() throws {
        let signer = Self.signer(at: 1_800_000_000_000)
        let undated = signer.metadata(forEncoded: Self.principal().serializedBytes())
        #expect(Self.code { try signer.principal(of: undated) } == .unauthenticated)
        let secret = DeploymentSecret(bytes: Array("segredo-de-teste-numero-1".utf8))
        let upgrading = PrincipalSigner(secret: secret, environment: [PrincipalSigner.acceptUndatedSetting: "1"])
        #expect(upgrading.acceptsUndated)
        #expect(try upgrading.principal(of: undated) == Self.principal())
        #expect(!PrincipalSigner(secret: secret, environment: [:]).acceptsUndated)
        #expect(!PrincipalSigner(secret: secret, environment: [PrincipalSigner.acceptUndatedSetting: "0"]).acceptsUndated)
    }
}

@Suite("Verified principals kept")
struct VerifiedPrincipalsTests {
    static let secret = DeploymentSecret(bytes: Array("segredo-de-teste-numero-1".utf8))

    @Test("a principal verified once answers again from what was kept, also through a copy of the signer; nothing forged rides on it")
    func keptAndNotForgeable() throws {
        let signer = PrincipalSigner(secret: Self.secret)
        let metadata = signer.metadata(for: PrincipalSignerTests.principal())
        #expect(try signer.principal(of: metadata) == PrincipalSignerTests.principal())
        #expect(signer.verified.count == 1)
        let copy = signer
        #expect(try copy.principal(of: metadata) == PrincipalSignerTests.principal())
        #expect(signer.verified.count == 1)

        // Another principal's text under the kept signature, the kept text under another
        // signature, and the kept pair at a signer of another secret: refused as before.
        var other = PrincipalSignerTests.principal()
        other.administrator = true
        var swapped = metadata
        swapped[MetadataKey.principal] = signer.metadata(for: other)[MetadataKey.principal]
        #expect(throws: RPCError.self) { try signer.principal(of: swapped) }
        let signature = try #require(metadata[MetadataKey.principalSignature])
        var flipped = metadata
        flipped[MetadataKey.principalSignature] = String(signature.dropLast()) + (signature.last == "0" ? "1" : "0")
        #expect(throws: RPCError.self) { try signer.principal(of: flipped) }
        var unsigned = metadata
        unsigned[MetadataKey.principalSignature] = nil
        #expect(throws: RPCError.self) { try signer.principal(of: unsigned) }
        let otherSecret = PrincipalSigner(secret: DeploymentSecret(bytes: Array("segredo-de-teste-numero-2".utf8)))
        #expect(throws: RPCError.self) { try otherSecret.principal(of: metadata) }
        #expect(signer.verified.count == 1)
    }

    @Test("the kept principals are bounded: past the limit they start over")
    func bounded() {
        let kept = VerifiedPrincipals(limit: 2)
        for index in 0..<5 {
            var principal = PrincipalSignerTests.principal()
            principal.id = "contato-\(index)"
            kept.remember(principal, encoded: "texto-\(index)", signature: "assinatura-\(index)")
            #expect(kept.count <= 2)
        }
        #expect(kept.principal(encoded: "texto-4", signature: "assinatura-4")?.id == "contato-4")
        #expect(kept.principal(encoded: "texto-4", signature: "assinatura-3") == nil)
    }
}
