import Foundation
import GatewayCore
import Testing
import TestSupport

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

    @Test("docs/openapi.yaml is valid YAML for a real parser (tools such as schemathesis load it)")
    func documentParses() throws {
        let check = try ChildProcess.run("/usr/bin/python3", [
            "-c", "import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); assert d['openapi'].startswith('3.1') and d['paths']",
            OpenAPISpec.documentPath,
        ])
        #expect(check.status == 0, "\(check.errorText)")
    }
}

@Suite("RPC bindings")
struct BindingTests {
    @Test("every path parameter and query argument of a binding names a field of its request message")
    func mappedFieldsExist() {
        for route in Gateway.makeRouter().routes {
            guard let binding = route.binding else { continue }
            for field in binding.mappedFields {
                #expect(binding.requestHasField(field), "\(route.method) \(route.template): \(binding.requestType) has no field \(field)")
            }
            for parameter in route.template.split(separator: "/") where parameter.hasPrefix("{") {
                let name = String(parameter.dropFirst().dropLast())
                #expect(binding.path[name] != nil, "\(route.method) \(route.template): {\(name)} is not mapped")
            }
        }
    }

    @Test("RPC statuses map to HTTP in one place")
    func statusMapping() {
        #expect(APIError.httpStatus(for: .invalidArgument) == 400)
        #expect(APIError.httpStatus(for: .unauthenticated) == 401)
        #expect(APIError.httpStatus(for: .permissionDenied) == 403)
        #expect(APIError.httpStatus(for: .notFound) == 404)
        #expect(APIError.httpStatus(for: .alreadyExists) == 409)
        #expect(APIError.httpStatus(for: .failedPrecondition) == 422)
        #expect(APIError.httpStatus(for: .resourceExhausted) == 429)
        #expect(APIError.httpStatus(for: .unavailable) == 503)
        #expect(APIError.httpStatus(for: .internal) == 500)
    }
}

@Suite("Portal assets")
struct PortalAssetTests {
    @Test("the portal served is Services/Gateway/PortalAssets (run scripts/embed-portal after editing)")
    func embeddedPortalIsCurrent() throws {
        var directory = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { directory.deleteLastPathComponent() }
        directory.appendPathComponent("Services/Gateway/PortalAssets")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(Set(["dashboard.js", "index.html", "portal.css", "portal.js", "quarantine.js"]).isSubset(of: Set(names)), "\(names)")
        for name in names {
            let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            let served = Gateway.makeRouter().match(method: "GET", path: name == "index.html" ? "/portal/" : "/assets/\(name)")
            guard case .found = served else {
                Issue.record("no route for \(name)")
                continue
            }
            #expect(PortalAssetProbe.text(name) + "\n" == text, "\(name) is stale: run scripts/embed-portal")
        }
    }
}
