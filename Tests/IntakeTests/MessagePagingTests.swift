import Foundation
@testable import IntakeCore
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

/// `GetTicket` answers a ticket's messages a page at a time (``TicketPage``): a long
/// conversation never outgrows the RPC frame.
@Suite("Intake: a ticket's messages a page at a time", .serialized)
struct MessagePagingTests {
    static func get(_ harness: IntakeHarness, _ id: String, limit: Int32 = 0, before: String = "", as options: CallOptions) throws -> IntakeV1.Ticket {
        var request = IntakeV1.GetTicketRequest()
        request.ticket = id
        request.messagesLimit = limit
        request.messagesBefore = before
        return try harness.client.call(IntakeV1.Intake.getTicket, request, options: options)
    }

    @Test("GetTicket answers the newest 50 messages by default with the older count and cursor; a smaller limit walks back to the first in place order; 64 KiB messages stop a page within 1 MiB; a bad cursor or a negative limit is INVALID_ARGUMENT naming the field",
          arguments: TestEngines.all)
    func paging(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = harness.options(IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example")))
        let ticket = try #require(try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme), options: maria).ticket)
        var texts: [String] = []
        for index in 0..<60 { texts.append(try ReplyOrderTests.reply(harness, ticket.id, "Resposta \(index)", as: maria).text) }

        let newest = try Self.get(harness, ticket.id, as: maria)
        #expect(newest.messages.map(\.text) == Array(texts.suffix(TicketPage.defaultLimit)))
        #expect(newest.olderMessages == 10 && !newest.messagesBefore.isEmpty)
        // Four at a time from the start: every message once, in place order; the last page has no cursor.
        var walked: [String] = []
        var page = try Self.get(harness, ticket.id, limit: 4, as: maria)
        walked = page.messages.map(\.text)
        while !page.messagesBefore.isEmpty {
            #expect(page.messages.count == 4 && Int(page.olderMessages) == texts.count - walked.count)
            page = try Self.get(harness, ticket.id, limit: 4, before: page.messagesBefore, as: maria)
            walked = page.messages.map(\.text) + walked
        }
        #expect(walked == texts && page.olderMessages == 0)
        // The cursor stays valid while newer replies arrive: it names a place, not an offset.
        let cursor = newest.messagesBefore
        _ = try ReplyOrderTests.reply(harness, ticket.id, "Mais uma", as: maria)
        #expect(try Self.get(harness, ticket.id, before: cursor, as: maria).messages.map(\.text) == Array(texts.prefix(10)))

        // Long e-mail-like replies: a page stops before its messages pass 1 MiB, the rest counted.
        let big = (0..<20).map { "Grande \($0) " + String(repeating: "y", count: 65_536) }
        for text in big { _ = try ReplyOrderTests.reply(harness, ticket.id, text, as: maria) }
        let heavy = try Self.get(harness, ticket.id, limit: 200, as: maria)
        let bytes = heavy.messages.map(\.text.utf8.count).reduce(0, +)
        #expect(heavy.messages.count < big.count && bytes <= TicketPage.maxByteBudget, "\(heavy.messages.count) messages, \(bytes) bytes")
        #expect(heavy.messages.map(\.text) == Array(big.suffix(heavy.messages.count)))
        #expect(Int(heavy.olderMessages) == texts.count + 1 + big.count - heavy.messages.count)

        // Refusals name the field.
        let badCursor = rpcError { _ = try Self.get(harness, ticket.id, before: "nope", as: maria) }
        #expect(badCursor?.code == .invalidArgument && badCursor?.violations.map(\.field) == ["messages_before"])
        let historyCursor = rpcError { _ = try Self.get(harness, ticket.id, before: TicketPage.cursor([1, 2]), as: maria) }
        #expect(historyCursor?.violations.map(\.field) == ["messages_before"], "a cursor of another list's shape")
        let negative = rpcError { _ = try Self.get(harness, ticket.id, limit: -1, as: maria) }
        #expect(negative?.code == .invalidArgument && negative?.violations.map(\.field) == ["messages_limit"])
    }

    @Test("with OCORRENCIAS_RPC_MAX_FRAME_BYTES below the 1 MiB page budget, a page stays within a third of the frame: a ticket whose replies add up past the frame is served whole, in more pages, and its default page fits",
          arguments: TestEngines.all)
    func smallFrame(engine: DatabaseEngine) throws {
        let frame = 256 << 10
        let harness = try IntakeHarness(engine, environment: ["OCORRENCIAS_RPC_MAX_FRAME_BYTES": String(frame)])
        #expect(TicketPage.byteBudget(maxFrameSize: frame) == frame / 3)
        #expect(TicketPage.byteBudget(maxFrameSize: 4 << 20) == TicketPage.maxByteBudget)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = harness.options(IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example")))
        let ticket = try #require(try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme), options: maria).ticket)
        // 12 replies of 30,000 characters: 360 KB, past the 256 KiB frame.
        let texts = (0..<12).map { "Longa \($0) " + String(repeating: "z", count: 30_000) }
        for text in texts { _ = try ReplyOrderTests.reply(harness, ticket.id, text, as: maria) }

        let newest = try Self.get(harness, ticket.id, as: maria)
        let bytes = newest.messages.map(\.text.utf8.count).reduce(0, +)
        #expect(newest.messages.count < texts.count && bytes <= frame / 3, "\(newest.messages.count) messages, \(bytes) bytes")
        #expect(newest.messages.count >= 2 && Int(newest.olderMessages) == texts.count - newest.messages.count)
        var walked = newest.messages.map(\.text)
        var page = newest
        var pages = 1
        while !page.messagesBefore.isEmpty {
            page = try Self.get(harness, ticket.id, limit: 200, before: page.messagesBefore, as: maria)
            walked = page.messages.map(\.text) + walked
            pages += 1
        }
        #expect(walked == texts)
        #expect(pages >= 4, "\(pages) pages")
    }
}
