import Foundation
@testable import IntakeCore
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

extension IntakeHarness {
    /// Staff put files on `ticket` outside any reply (an agent's discussion entry's files).
    func addFiles(_ ticket: String, files: [IntakeV1.OpenTicketFile] = [], uploads: [String] = [], internal isInternal: Bool,
                  as options: CallOptions) throws -> [CommonV1.AttachmentRef] {
        var request = IntakeV1.AddFilesRequest()
        request.ticket = ticket
        request.files = files
        request.attachmentIDs = uploads
        request.`internal` = isInternal
        return try client.call(IntakeV1.Intake.addFiles, request, options: options).attachments
    }

    /// Uploads `bytes` in one message asking for the `internal` flag.
    func uploadInternal(_ bytes: [UInt8], name: String, ticketID: String = "", as options: CallOptions) throws -> CommonV1.AttachmentRef {
        let call = try client.streamingCall(IntakeV1.Intake.uploadAttachment, options: options)
        var first = IntakeV1.UploadAttachmentRequest()
        first.fileName = name
        first.contentType = "text/plain"
        first.sizeBytes = Int64(bytes.count)
        first.sha256 = sha256Hex(bytes)
        first.ticketID = ticketID
        first.`internal` = true
        first.data = bytes
        try call.send(first)
        return try call.finish()
    }

    /// A representative acting for `organization`, signed in as one of its contacts.
    func representative(for organization: IntakeV1.Organization) throws -> CallOptions {
        try representativePerson(for: organization).options
    }

    /// A representative `name` (e-mail at `domain`) acting for `organization`, and its person
    /// `person` signed in: the call options and the person's id.
    func representativePerson(for organization: IntakeV1.Organization, name: String = "Revenda Sul", domain: String = "revenda.example",
                              person: String = "Paula Reis") throws -> (options: CallOptions, personID: String) {
        var draft = IntakeV1.Representative()
        draft.name = name
        draft.email = "contato@\(domain)"
        draft.organizationIDs = [organization.id]
        let representative = try client.call(IntakeV1.Intake.createRepresentative, draft, options: staff)
        var contact = IntakeV1.RepresentativeContact()
        contact.representativeID = representative.id
        contact.name = person
        contact.email = "\(person.split(separator: " ")[0].lowercased())@\(domain)"
        let paula = try client.call(IntakeV1.Intake.addRepresentativeContact, contact, options: staff)
        var principal = AuthV1.Principal()
        principal.kind = .customer
        principal.id = paula.id
        principal.displayName = paula.name
        principal.email = paula.email
        principal.representativeID = representative.id
        principal.representedOrganizationIDs = [organization.id]
        return (options(principal), paula.id)
    }
}

@Suite("Internal files: staff-only evidence never reaches customers or representatives")
struct InternalFilesTests {
    /// Acme's ticket opened by its contact Maria, with Maria's and a representative's person's options.
    static func ticketOfAcme(_ engine: DatabaseEngine) throws -> (IntakeHarness, maria: CallOptions, paula: CallOptions, IntakeV1.Ticket) {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = harness.options(IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example")))
        let paula = try harness.representative(for: acme)
        let ticket = try #require(try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme), options: maria).ticket)
        return (harness, maria, paula, ticket)
    }

    @Test("an internal file (uploaded onto the ticket, or put there by AddFiles) is stored internal (migration 25), listed and downloaded by staff, and to customers and representatives missing from GetTicket and NOT_FOUND to download, while a public one reaches them",
          arguments: TestEngines.all)
    func internalFilesStayWithStaff(engine: DatabaseEngine) throws {
        let (harness, maria, paula, ticket) = try Self.ticketOfAcme(engine)

        let evidence = randomBytes(3_000, seed: 1), dump = randomBytes(700 << 10, seed: 2), fix = randomBytes(2_000, seed: 3)
        let direct = try harness.uploadInternal(evidence, name: "evidencia.txt", ticketID: ticket.id, as: harness.staff)
        #expect(direct.`internal`, "the upload's answer says it is internal")
        let pendingDump = try harness.uploadInternal(dump, name: "dump.bin", as: harness.staff)
        let internalEntry = try harness.addFiles(ticket.id, files: [openFile("log.txt", randomBytes(500, seed: 4))],
                                                 uploads: [pendingDump.id], internal: true, as: harness.staff)
        #expect(internalEntry.map(\.fileName) == ["dump.bin", "log.txt"] && internalEntry.allSatisfy(\.`internal`))
        let publicEntry = try harness.addFiles(ticket.id, files: [openFile("correcao.sql", fix)], internal: false, as: harness.staff)
        #expect(publicEntry.count == 1 && !publicEntry[0].`internal`)
        let internalIDs = [direct.id] + internalEntry.map(\.id)

        // Stored with the flag (the column of migration 25, on either engine).
        let flags = try harness.database.read { tx in
            Dictionary(uniqueKeysWithValues: try tx.query("SELECT id, internal FROM attachments").map { (try $0.text("id"), try $0.int("internal")) })
        }
        #expect(internalIDs.allSatisfy { flags[$0] == 1 } && flags[publicEntry[0].id] == 0)

        // Staff list and download everything, flags included.
        let forStaff = try harness.getTicket(ticket.id, as: harness.staff)
        #expect(forStaff.attachments.map(\.id) == internalIDs + [publicEntry[0].id], "after the ticket's files, in the order added")
        #expect(forStaff.attachments.map(\.`internal`) == [true, true, true, false])
        #expect(try harness.download(direct.id, as: harness.staff) == evidence)
        #expect(try harness.download(pendingDump.id, as: harness.staff) == dump)

        // Customers and representatives: the public file only; an internal one is as missing as an unknown id.
        for reader in [maria, paula] {
            #expect(try harness.getTicket(ticket.id, as: reader).attachments.map(\.id) == [publicEntry[0].id])
            #expect(try harness.download(publicEntry[0].id, as: reader) == fix)
            for id in internalIDs + ["nao-existe"] {
                let error = rpcError { _ = try harness.download(id, as: reader) }
                #expect(error?.code == .notFound && error?.message == "anexo não encontrado / attachment not found")
            }
        }

        // Every AttachmentAdded says which files are internal (workflow keeps them from customers).
        let events = try harness.events(IntakeV1.AttachmentAdded.self)
        #expect(Dictionary(uniqueKeysWithValues: events.compactMap { $0.attachment }.map { ($0.id, $0.`internal`) })
                == Dictionary(uniqueKeysWithValues: (internalIDs.map { ($0, true) } + [(publicEntry[0].id, false)])))
        #expect(events.allSatisfy { $0.messageID.isEmpty && $0.ticketID == ticket.id })
        #expect(try harness.database.read { try $0.scalar("SELECT attachment_bytes FROM tickets").integerValue }
                == Int64(3_000 + (700 << 10) + 500 + 2_000), "internal files count towards the ticket's total like any other")
    }

    @Test("customers and representatives cannot mark a file internal (INVALID_ARGUMENT on `internal`) nor call AddFiles (PERMISSION_DENIED); an upload already internal stays internal when a public AddFiles names it",
          arguments: TestEngines.all)
    func onlyStaffMarkInternal(engine: DatabaseEngine) throws {
        let (harness, maria, paula, ticket) = try Self.ticketOfAcme(engine)
        for reader in [maria, paula] {
            for ticketID in ["", ticket.id] {
                let refused = rpcError { _ = try harness.uploadInternal([1, 2, 3], name: "a.txt", ticketID: ticketID, as: reader) }
                #expect(refused?.code == .invalidArgument && refused?.violations.map(\.field) == ["internal"]
                        && refused?.violations.first?.reason == "staff_only")
            }
            #expect(rpcError { _ = try harness.addFiles(ticket.id, files: [openFile("a.txt", [1])], internal: false, as: reader) }?.code
                    == .permissionDenied)
        }
        #expect(try harness.count("attachments") == 0 && harness.count("contents") == 0, "nothing stored")

        let pending = try harness.uploadInternal([9, 9, 9], name: "prova.txt", as: harness.staff)
        let added = try harness.addFiles(ticket.id, uploads: [pending.id], internal: false, as: harness.staff)
        #expect(added.map(\.`internal`) == [true])
        #expect(try harness.getTicket(ticket.id, as: maria).attachments.isEmpty)
        let none = rpcError { _ = try harness.addFiles(ticket.id, internal: false, as: harness.staff) }
        #expect(none?.code == .invalidArgument && none?.violations.map(\.field) == ["attachment_ids"])
        let used = rpcError { _ = try harness.addFiles(ticket.id, uploads: [pending.id], internal: true, as: harness.staff) }
        #expect(used?.violations.map(\.field) == ["attachment_ids[0]"], "a linked upload is not named again")
    }
}
