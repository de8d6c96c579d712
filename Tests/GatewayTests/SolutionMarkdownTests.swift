import Foundation
import Testing
import TestSupport

/// A solution's Markdown drawn for the customer as a safe subset, and a malicious one kept inert.
@Suite("A solution's Markdown in the portal", .serialized)
struct SolutionMarkdownTests {
    static let solution = """
        **Passo 1**: reinicie o *serviço*
        e confira o `FIS001 <b>`.

        - Abra o menu Fiscal
        - Leia o [manual](https://exemplo.com/manual)

        1. Salve
        2. Transmita

        <img src=x onerror="window.pwned=1"> [clique](javascript:window.pwned=2) <script>window.pwned=3</script>
        """

    @Test("in the browser: the customer reads bold, italic, lists, a line break, inline code and an https link; <img onerror>, a javascript: link and <script> are shown as text and nothing runs")
    func inBrowser() throws {
        try PortalBrowser.requireChromium()
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let id = try ReplyFilesTests.openTicket(gateway, seeded, subject: "Nota rejeitada")
        #expect(try gateway.request("POST", "/v1/tickets/\(id)/take", bearer: seeded.ana).status == 200)
        let recorded = try gateway.request("POST", "/v1/tickets/\(id)/solution", json: ["text": Self.solution], bearer: seeded.ana)
        #expect(recorded.status == 200, "\(recorded.text)")
        #expect(try gateway.request("POST", "/v1/tickets/\(id)/status", json: ["status": "cliente_informado"], bearer: seeded.ana).status == 200)
        let result = try PortalBrowser.run("solution_markdown.py", gateway, [id], environment: ["PORTAL_CUSTOMER": "maria@acme.com.br:\(seeded.password)"])
        #expect(result.status == 0, Comment(rawValue: result.output + "\n" + result.error))
        #expect(result.output.hasPrefix("OK"))
    }
}
