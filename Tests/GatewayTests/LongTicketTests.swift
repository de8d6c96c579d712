import Foundation
import Messages
import RPCTransport
import Storage
import Testing
import TestSupport

/// A ticket whose conversation adds up past the 4 MiB RPC frame stays readable: intake's
/// `GetTicket`, workflow's `GetTicket` and `GetHistory` answer a page (the newest by default)
/// with how many older items remain and the cursor that asks for them, the gateway's view
/// (`GET /v1/tickets/{id}`) composes the newest pages, and `GET /v1/tickets/{id}/conversation`
/// pages back to the first item.
@Suite("A ticket with a long history stays readable (paging instead of one frame)", .serialized)
struct LongTicketTests {
    /// Items of 100,000 bytes (a reply's most: 100,000 characters): 45 add up to 4.5 MB, past the frame.
    static let itemBytes = 100_000
    static let itemCount = 45

    static func text(_ label: String, _ index: Int) -> String {
        let head = "\(label) \(index) "
        return head + String(repeating: "x", count: itemBytes - head.utf8.count)
    }

    /// Every item of one list of `GET /v1/tickets/{id}/conversation`, oldest first, walking its
    /// cursors from `before` (the view's) back to the first; the pages' sizes.
    static func walk(_ gateway: GatewayHarness, _ ticketID: String, list: String, before: String, bearer: String,
                     limit: Int? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> (items: [[String: Any]], pages: [Int]) {
        var items: [[String: Any]] = []
        var pages: [Int] = []
        var cursor = before
        while !cursor.isEmpty {
            let page = try gateway.request("GET", "/v1/tickets/\(ticketID)/conversation?\(list)_before=\(cursor)" + (limit.map { "&limit=\($0)" } ?? ""),
                                           bearer: bearer, sourceLocation: sourceLocation)
            #expect(page.status == 200, "\(page.text.prefix(500))", sourceLocation: sourceLocation)
            let got = page.json[list] as? [[String: Any]] ?? []
            #expect(!got.isEmpty, "an asked page holds an item", sourceLocation: sourceLocation)
            let other = list == "messages" ? "discussion" : "messages"
            #expect(page.json[other] == nil, "only the list asked for", sourceLocation: sourceLocation)
            items = got + items
            pages.append(got.count)
            cursor = page.json["\(list)_before"] as? String ?? ""
            if got.isEmpty { break }
        }
        return (items, pages)
    }

    @Test("customer replies adding up past the 4 MiB frame: intake's and workflow's GetTicket answer the newest page (within 1 MiB) with the older count and cursor; GET /v1/tickets/{id} answers for the customer and the agent; the conversation route pages back to the first reply, in order",
          arguments: TestEngines.all)
    func longReplies(engine: DatabaseEngine) throws {
        let deployment = try ProxyTests.Deployment(engine: engine)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let ticketID = try ReplyFilesTests.openTicket(gateway, seeded)
        let replies = (0..<Self.itemCount).map { Self.text("Resposta", $0) }
        #expect(replies.map(\.utf8.count).reduce(0, +) > 4 << 20, "more than one frame holds")
        for reply in replies {
            let sent = try gateway.request("POST", "/v1/tickets/\(ticketID)/replies", json: ["text": reply], bearer: seeded.maria)
            #expect(sent.status == 201, "\(sent.text.prefix(300))")
        }
        // Workflow logs each reply in the discussion (by event): wait for the last one.
        let last = try #require(replies.last)
        #expect(try waitFor(60) {
            let view = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.ana, conform: false)
            return ((view.json["workflow"] as? [String: Any])?["discussion"] as? [[String: Any]])?.last?["text"] as? String == last
        }, "workflow's part holds the last reply")

        for (who, bearer) in [("customer", seeded.maria), ("agent", seeded.ana)] {
            let view = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: bearer)
            #expect(view.status == 200, "\(who): \(view.status) \(view.text.prefix(300))")
            let intake = view.json["intake"] as? [String: Any] ?? [:]
            let workflow = view.json["workflow"] as? [String: Any] ?? [:]
            let messages = intake["messages"] as? [[String: Any]] ?? []
            #expect(!messages.isEmpty && messages.last?["text"] as? String == last, "\(who): the newest reply last")
            #expect(messages.count + (intake["older_messages"] as? Int ?? 0) == replies.count, "\(who): \(messages.count) + older")
            let discussion = workflow["discussion"] as? [[String: Any]] ?? []
            #expect(discussion.count + (workflow["older_discussion"] as? Int ?? 0) == replies.count, "\(who): \(discussion.count) + older")
            #expect(view.body.count < 3 << 20, "\(who): the view stays small: \(view.body.count) bytes")
            // Back to the first reply, in order, one page after another.
            let olderMessages = try Self.walk(gateway, ticketID, list: "messages", before: intake["messages_before"] as? String ?? "", bearer: bearer)
            #expect((olderMessages.items + messages).compactMap { $0["text"] as? String } == replies, "\(who): every reply, oldest first")
            let olderEntries = try Self.walk(gateway, ticketID, list: "discussion", before: workflow["discussion_before"] as? String ?? "",
                                             bearer: bearer, limit: 7)
            #expect((olderEntries.items + discussion).compactMap { $0["text"] as? String } == replies, "\(who): every logged reply, oldest first")
            #expect(olderEntries.pages.allSatisfy { $0 <= 7 }, "\(who): limit honoured: \(olderEntries.pages)")
        }

        // The view cache keeps the newest pages only: a new reply drops them (the view answers it
        // last, one more counted), and an older page's cursor still reads the same page.
        let cached = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.maria).json["intake"] as? [String: Any] ?? [:]
        let cursor = cached["messages_before"] as? String ?? ""
        let olderPage = try gateway.request("GET", "/v1/tickets/\(ticketID)/conversation?messages_before=\(cursor)", bearer: seeded.maria).text
        #expect(try gateway.request("POST", "/v1/tickets/\(ticketID)/replies", json: ["text": "Mais uma"], bearer: seeded.maria).status == 201)
        let after = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.maria).json["intake"] as? [String: Any] ?? [:]
        let afterMessages = after["messages"] as? [[String: Any]] ?? []
        #expect(afterMessages.last?["text"] as? String == "Mais uma" && afterMessages.count + (after["older_messages"] as? Int ?? 0) == replies.count + 1)
        #expect(try gateway.request("GET", "/v1/tickets/\(ticketID)/conversation?messages_before=\(cursor)", bearer: seeded.maria).text == olderPage)

        // The services' own RPCs: a page within the byte budget, the older ones counted.
        let intake = gateway.intakeAsAdministrator()
        defer { intake.client.close() }
        var ask = IntakeV1.GetTicketRequest()
        ask.ticket = ticketID
        let ticket = try intake.client.call(IntakeV1.Intake.getTicket, ask, options: intake.options)
        #expect(ticket.messages.count < Self.itemCount && ticket.messages.count + Int(ticket.olderMessages) == Self.itemCount + 1)
        #expect(ticket.messages.map(\.text.utf8.count).reduce(0, +) <= 1 << 20, "one page within 1 MiB")
        ask.messagesBefore = ticket.messagesBefore
        ask.messagesLimit = 3
        let older = try intake.client.call(IntakeV1.Intake.getTicket, ask, options: intake.options)
        let all = replies + ["Mais uma"]
        #expect(older.messages.map(\.text) == Array(all[(all.count - ticket.messages.count - 3)..<(all.count - ticket.messages.count)]))
        let workflow = gateway.direct("workflow", as: GatewayHarness.administrator)
        defer { workflow.client.close() }
        var view = WorkflowV1.GetTicketRequest()
        view.ticketID = ticketID
        #expect(try waitFor(30) {
            let answered = try workflow.client.call(WorkflowV1.Workflow.getTicket, view, options: workflow.options)
            return answered.discussion.count + Int(answered.olderDiscussion) == Self.itemCount + 1 && !answered.discussionBefore.isEmpty
        })
        // A cursor the service did not make, a negative limit: INVALID_ARGUMENT naming the field.
        let bad = try gateway.request("GET", "/v1/tickets/\(ticketID)/conversation?messages_before=nope", bearer: seeded.ana)
        #expect(bad.status == 400 && bad.text.contains("messages_before"), "\(bad.text)")
        let negative = try gateway.request("GET", "/v1/tickets/\(ticketID)/conversation?discussion_before=x&limit=-1", bearer: seeded.ana)
        #expect(negative.status == 400 && negative.text.contains("limit"), "\(negative.text)")
    }

    @Test("discussion entries adding up past the frame: the agent reads them all, page by page; the customer only the public ones (their pages and counts too); ocorre tickets show prints every entry; the history pages by time and place",
          arguments: TestEngines.all)
    func longDiscussion(engine: DatabaseEngine) throws {
        let deployment = try ProxyTests.Deployment(engine: engine)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let ticketID = try ReplyFilesTests.openTicket(gateway, seeded)
        #expect(try gateway.request("POST", "/v1/tickets/\(ticketID)/take", json: [String: Any](), bearer: seeded.ana).status == 200)
        // Every third entry internal.
        let entries = (0..<Self.itemCount).map { (text: Self.text("Entrada", $0), isPublic: $0 % 3 != 0) }
        for entry in entries {
            let added = try gateway.request("POST", "/v1/tickets/\(ticketID)/discussion", json: ["text": entry.text, "is_public": entry.isPublic],
                                            bearer: seeded.ana)
            #expect(added.status == 201, "\(added.text.prefix(300))")
        }
        for (who, bearer, expected) in [("agent", seeded.ana, entries.map(\.text)), ("customer", seeded.maria, entries.filter(\.isPublic).map(\.text))] {
            let view = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: bearer)
            #expect(view.status == 200, "\(who): \(view.status) \(view.text.prefix(300))")
            let workflow = view.json["workflow"] as? [String: Any] ?? [:]
            let discussion = workflow["discussion"] as? [[String: Any]] ?? []
            #expect(discussion.count + (workflow["older_discussion"] as? Int ?? 0) == expected.count, "\(who): \(discussion.count) + older")
            let older = try Self.walk(gateway, ticketID, list: "discussion", before: workflow["discussion_before"] as? String ?? "", bearer: bearer)
            #expect((older.items + discussion).compactMap { $0["text"] as? String } == expected, "\(who): every entry they may see, oldest first")
        }

        // ocorre prints every entry, the oldest included, for the agent; the customer's has no internal one.
        let show = try ReplyFilesTests.ocorre(["tickets", "show", ticketID], gateway, token: seeded.ana)
        #expect(show.status == 0, "\(show.error)")
        for index in [0, 1, 20, Self.itemCount - 1] {
            #expect(show.output.contains("Entrada \(index) x"), "agent's show misses entry \(index)")
        }
        #expect(!show.output.contains("anteriores"), "no leftover page note")
        let customer = try ReplyFilesTests.ocorre(["tickets", "show", ticketID], gateway, token: seeded.maria)
        #expect(customer.status == 0 && customer.output.contains("Entrada 1 x") && !customer.output.contains("Entrada 0 x"), "\(customer.error)")
        let json = try ReplyFilesTests.ocorre(["tickets", "show", ticketID, "--json"], gateway, token: seeded.ana)
        let object = try #require((try? JSONSerialization.jsonObject(with: Data(json.output.utf8))) as? [String: Any], "\(json.output.prefix(300))")
        let discussion = (object["workflow"] as? [String: Any])?["discussion"] as? [[String: Any]] ?? []
        #expect(discussion.count == Self.itemCount, "--json holds the whole discussion: \(discussion.count)")

        // The history (staff; agents' views from a queue are recorded): small pages walk it in
        // the order one large page lists it.
        for _ in 0..<6 { #expect(try gateway.request("GET", "/v1/tickets/\(ticketID)?from_queue=true", bearer: seeded.ana).status == 200) }
        let whole = try gateway.request("GET", "/v1/tickets/\(ticketID)/history?limit=200", bearer: seeded.ana)
        #expect(whole.status == 200, "\(whole.text.prefix(300))")
        let all = (whole.json["entries"] as? [[String: Any]] ?? []).map { "\($0["kind"] ?? "")|\($0["at_ms"] ?? "")|\($0["new_value"] ?? "")" }
        #expect(all.count > 6 && (whole.json["older_entries"] as? Int ?? 0) == 0, "\(all.count)")
        var walked: [String] = []
        var cursor = ""
        var pages = 0
        repeat {
            let page = try gateway.request("GET", "/v1/tickets/\(ticketID)/history?limit=3" + (cursor.isEmpty ? "" : "&before=\(cursor)"), bearer: seeded.ana)
            #expect(page.status == 200, "\(page.text.prefix(300))")
            walked = (page.json["entries"] as? [[String: Any]] ?? []).map { "\($0["kind"] ?? "")|\($0["at_ms"] ?? "")|\($0["new_value"] ?? "")" } + walked
            cursor = page.json["before"] as? String ?? ""
            pages += 1
        } while !cursor.isEmpty && pages < 100
        #expect(walked == all && pages == (all.count + 2) / 3)
        let history = try ReplyFilesTests.ocorre(["tickets", "history", ticketID], gateway, token: seeded.ana)
        #expect(history.status == 0 && history.output.split(separator: "\n").count > all.count, "every history line: \(history.error)")
    }

    @Test("the portal's ticket page shows the newest entries; \"Mostrar anteriores\" (pressed with Enter) loads the earlier ones oldest first until it goes; Print reads every page first; the customer pages through public entries only")
    func portalShowsEarlier() throws {
        try PortalBrowser.requireChromium()
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let ticketID = try ReplyFilesTests.openTicket(gateway, seeded)
        #expect(try gateway.request("POST", "/v1/tickets/\(ticketID)/take", json: [String: Any](), bearer: seeded.ana).status == 200)
        let label = { (name: String, index: Int) in name + " " + String(format: "%03d", index) }
        for index in 0..<30 {
            #expect(try gateway.request("POST", "/v1/tickets/\(ticketID)/replies", json: ["text": label("Resposta", index)], bearer: seeded.maria).status == 201)
        }
        // Workflow logs the replies (by event) before the agent's entries come.
        #expect(try waitFor(60) {
            let view = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.ana, conform: false)
            return ((view.json["workflow"] as? [String: Any])?["discussion"] as? [[String: Any]])?.count == 30
        })
        for index in 0..<60 {
            #expect(try gateway.request("POST", "/v1/tickets/\(ticketID)/discussion", json: ["text": label("Nota", index), "is_public": index % 5 != 0],
                                        bearer: seeded.ana).status == 201)
        }
        let result = try PortalBrowser.run("ticket_history_pages.py", gateway, [ticketID], environment: [
            "PORTAL_CUSTOMER": "maria@acme.com.br:\(seeded.password)", "PORTAL_AGENT": "ana@suporte.example:\(seeded.password)"])
        #expect(result.status == 0, Comment(rawValue: result.output + "\n" + result.error))
        #expect(result.output.hasPrefix("OK"))
    }
}
