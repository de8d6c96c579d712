import Foundation
@testable import IntakeCore
import Messages
import RPC
import RPCTransport
import Storage
import Testing
import TestSupport

/// What an upload's description may carry, end to end (the rules: `FileNameCheckTests`).
@Suite("Upload descriptions: names and content types", .serialized)
struct UploadDescriptionTests {
    @Test("a file name is stored without what changes how it reads and composed (NFC); a content type with control characters is refused and nothing is stored",
          arguments: TestEngines.all)
    func uploadNamesAndTypes(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = harness.options(IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example")))
        let spoofed = try harness.upload(Array("x".utf8), name: "fatura\u{202E}fdp.exe", as: maria)
        #expect(spoofed.fileName == "faturafdp.exe")
        let decomposed = try harness.upload(Array("y".utf8), name: "relato\u{301}rio\u{85}.pdf", as: maria)
        #expect(decomposed.fileName.unicodeScalars.elementsEqual("relatório.pdf".unicodeScalars))

        var first = IntakeV1.UploadAttachmentRequest()
        first.fileName = "pagina.html"
        first.contentType = "text/html\r\nContent-Disposition: inline"
        first.data = Array("<script>alert(1)</script>".utf8)
        first.sizeBytes = Int64(first.data.count)
        first.sha256 = sha256Hex(first.data)
        let refused = rpcError { let _: CommonV1.AttachmentRef = try harness.client.call(IntakeV1.Intake.uploadAttachment, requests: [first], options: maria) }
        #expect(refused?.code == .invalidArgument && refused?.violations.map(\.reason) == ["invalid_content_type"])
        // Inside an open, too.
        var open = IntakeHarness.request(acme)
        open.files = [openFile("pagina.html", first.data, type: first.contentType)]
        let refusedOpen = rpcError { _ = try harness.client.call(IntakeV1.Intake.openTicket, open, options: maria) }
        #expect(refusedOpen?.violations.map(\.field) == ["files[0].content_type"])
        #expect(try harness.count("attachments") == 2 && harness.count("contents") == 2 && harness.count("tickets") == 0)
    }
}
