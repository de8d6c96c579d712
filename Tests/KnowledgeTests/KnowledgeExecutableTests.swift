import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

/// The real `knowledge` executable over TCP, with principals signed as the gateway signs them.
@Suite("knowledge executable over TCP", .serialized)
struct KnowledgeExecutableTests {
    @Test("editors write, customers search and get suggestions, internal articles never reach customers, events are consumed",
          arguments: TestEngines.all)
    func endToEnd(engine: DatabaseEngine) throws {
        let directory = try TemporaryDirectory()
        let secret = "knowledge-tcp-secret-\(UUID().uuidString)"
        var environment = ["OCORRENCIAS_DATA_DIR": directory.path, "OCORRENCIAS_SECRET": secret, "OCORRENCIAS_LOG_LEVEL": "info"]
        if engine == .postgres {
            environment["KNOWLEDGE_DATABASE_URL"] = try ScratchDatabase(.postgres).configuration.url
        }
        let process = try ServiceProcess(name: "knowledge", environment: environment)
        defer { process.stop() }
        let deployment = DeploymentSecret(bytes: Array(secret.utf8))
        var configuration = ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: process.port)], secret: deployment)
        configuration.callerName = "gateway"
        let client = RPCClient(configuration: configuration)
        defer { client.close() }
        let signer = PrincipalSigner(secret: deployment)
        func options(_ kind: AuthV1.Principal.Kind, _ id: String, permissions: [String] = []) -> CallOptions {
            var principal = AuthV1.Principal()
            principal.kind = kind
            principal.id = id
            principal.displayName = id
            principal.permissions = permissions
            return CallOptions(metadata: signer.metadata(for: principal))
        }
        let editor = options(.agent, "editora", permissions: ["knowledge.edit"])
        let customer = options(.customer, "cliente")
        typealias K = KnowledgeV1.Knowledge

        func create(_ title: String, _ body: String, _ visibility: KnowledgeV1.Visibility) throws -> KnowledgeV1.Article {
            var request = KnowledgeV1.CreateArticleRequest()
            request.kind = .article
            request.title = title
            request.bodyMarkdown = body
            request.product = "erp"
            request.visibility = visibility
            request.state = .published
            return try client.call(K.createArticle, request, options: editor)
        }
        let boleto = try create("Segunda via de boleto", "Financeiro > Cobrança > **Segunda via**.", .customers)
        _ = try create("Boleto: reprocessamento interno", "Somente para a equipe.", .agentsOnly)
        #expect(boleto.bodyHTML.contains("<strong>Segunda via</strong>"))

        var search = KnowledgeV1.SearchRequest()
        search.query = "2 via do boleot"
        let found = try client.call(K.search, search, options: customer)
        #expect(found.hits.map(\.id) == [boleto.id])
        #expect(found.corrections == ["boleot→boleto"])

        var suggest = KnowledgeV1.SuggestRequest()
        suggest.subject = "bolet"
        suggest.draftID = "draft-1"
        #expect(try client.call(K.suggest, suggest, options: customer).hits.map(\.id) == [boleto.id])
        #expect(try client.call(K.suggest, suggest, options: options(.agent, "agente")).hits.count == 2)

        // No principal, a forged one, or a customer writing: refused.
        #expect(throws: RPCError.self) { try client.call(K.search, search) }
        var forged = customer
        forged.metadata[MetadataKey.principal] = editor.metadata[MetadataKey.principal]
        let forgery = #expect(throws: RPCError.self) { try client.call(K.search, search, options: forged) }
        #expect(forgery?.code == .unauthenticated)
        let denied = #expect(throws: RPCError.self) {
            try client.call(K.createArticle, KnowledgeV1.CreateArticleRequest(), options: customer)
        }
        #expect(denied?.code == .permissionDenied)
        // A plain agent (the gateway's agent permissions, no knowledge.write) may not write either.
        let plainAgent = options(.agent, "agente", permissions: ["tickets.read", "tickets.work", "knowledge.read"])
        let agentDenied = #expect(throws: RPCError.self) {
            try client.call(K.createArticle, KnowledgeV1.CreateArticleRequest(), options: plainAgent)
        }
        #expect(agentDenied?.code == .permissionDenied)
        search.query = "NEAR(\"boleto\" -* )"
        #expect(try client.call(K.search, search, options: customer).hits.map(\.id) == [boleto.id])
        search.query = ""
        #expect((#expect(throws: RPCError.self) { try client.call(K.search, search, options: customer) })?.code == .invalidArgument)

        // Workflow delivers a publishable answer through the event sink.
        var answer = WorkflowV1.PublishableAnswerMarked()
        var ticket = WorkflowV1.TicketSummary()
        ticket.ticketID = "tk-1"
        ticket.product = "erp"
        answer.ticket = ticket
        answer.entryID = "e-1"
        answer.question = "Como reemitir boleto?"
        answer.answer = "Use a segunda via."
        var envelope = EventsV1.EventEnvelope()
        envelope.id = "ev-1"
        envelope.type = WorkflowV1.PublishableAnswerMarked.protoName
        envelope.source = "workflow"
        envelope.key = "tk-1"
        envelope.payload = answer.serializedBytes()
        var deliver = EventsV1.DeliverEventsRequest()
        deliver.events = [envelope, envelope]
        let delivered = try client.call(EventsV1.EventSink.deliver, deliver)
        #expect(delivered.accepted == 1 && delivered.duplicates == 1)
        // Read as a service (trusted): an editor's list asks workflow, which is not running here,
        // whether they may see each item's ticket (EditorQueueLevelTests) and fails closed.
        #expect((#expect(throws: RPCError.self) { try client.call(K.listEditorQueue, KnowledgeV1.ListEditorQueueRequest(), options: editor) })?
            .code == .unavailable)
        var service = AuthV1.Principal()
        service.kind = .service
        service.id = "gateway"
        let queue = try client.call(K.listEditorQueue, KnowledgeV1.ListEditorQueueRequest(), options: CallOptions(metadata: signer.metadata(for: service)))
        #expect(queue.items.map(\.question) == ["Como reemitir boleto?"])
        #expect(process.stop() == 0)
    }
}
