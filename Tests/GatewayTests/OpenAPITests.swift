import Foundation
import GatewayCore
import Testing

@Suite("OpenAPI document")
struct OpenAPITests {
    @Test("every route of the gateway is in docs/openapi.yaml and every documented operation is a route")
    func routesMatchDocument() throws {
        let spec = OpenAPISpec.shared
        let routes = Set(Gateway.makeRouter().routes.filter { !$0.template.hasPrefix("/portal") && $0.template != "/" && !$0.template.hasPrefix("/assets") }
            .map { "\($0.method) \($0.template)" })
        let documented = Set(spec.operations.keys)
        #expect(routes.subtracting(documented).sorted() == [], "routes missing from docs/openapi.yaml")
        #expect(documented.subtracting(routes).sorted() == [], "documented operations without a route")
        for (operation, statuses) in spec.operations {
            #expect(!statuses.isEmpty, "\(operation) declares no response")
        }
    }

    @Test("the document served at /openapi.yaml is the one in docs/ (run scripts/embed-openapi after editing)")
    func embeddedCopyIsCurrent() throws {
        let file = try String(contentsOfFile: OpenAPISpec.documentPath, encoding: .utf8)
        #expect(OpenAPIDocument.yaml + "\n" == file)
    }
}
