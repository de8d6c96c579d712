import Foundation
@testable import GatewayCore
import Testing

/// Every `POST` route either honours `Idempotency-Key` (``IdempotencyCoverage/enforced``, naming
/// who stores its answers) or is on the documented exclusion list with its reason: a new POST
/// route in neither fails here, so it cannot silently ignore the key.
@Suite("Idempotency-Key coverage of the POST routes")
struct IdempotencyCoverageTests {
    static let posts = Gateway.makeRouter().routes.filter { $0.method == "POST" }

    @Test("every POST route is either enforced or excluded with a reason, never both, and nothing else is listed")
    func everyPostIsClassified() {
        let names = Set(Self.posts.map(\.name))
        for name in names.sorted() {
            let enforced = IdempotencyCoverage.enforced[name] != nil, excluded = IdempotencyCoverage.exclusions[name] != nil
            #expect(enforced != excluded,
                    "\(name): add it to IdempotencyCoverage.enforced (and store its answers by key) or to .exclusions with the reason, in docs/GATEWAY.md too")
        }
        for listed in Set(IdempotencyCoverage.enforced.keys).union(IdempotencyCoverage.exclusions.keys) {
            #expect(names.contains(listed), "\(listed) is listed but is no POST route")
        }
        for (name, reason) in IdempotencyCoverage.exclusions { #expect(reason.count > 20, "\(name): say why") }
    }

    @Test("an enforced route that is one RPC names that RPC: the service's handler is the one storing answers")
    func enforcedNamesTheRPC() {
        for route in Self.posts {
            guard let owner = IdempotencyCoverage.enforced[route.name], let binding = route.binding else { continue }
            let method = binding.methodPath.split(separator: "/").last.map(String.init) ?? ""
            #expect(owner == "\(binding.service).\(method)", "\(route.name): \(owner) vs \(binding.service).\(method)")
        }
    }

    @Test("the retry tests' routes are enforced ones; docs/GATEWAY.md names every exclusion")
    func testedAndDocumented() throws {
        for item in IdempotentRetryTests.cases + IdempotentRetryConfigurationTests.cases() {
            #expect(IdempotencyCoverage.enforced[item.route] != nil, "\(item.route)")
        }
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let guide = try String(contentsOf: url.appendingPathComponent("docs/GATEWAY.md"), encoding: .utf8)
        let section = try #require(guide.range(of: "## Idempotency-Key").map { String(guide[$0.lowerBound...]) })
        for name in IdempotencyCoverage.exclusions.keys {
            let path = String(name.dropFirst("POST ".count))
            #expect(section.contains("`POST \(path)`"), "docs/GATEWAY.md's Idempotency-Key section must name \(name) and why")
        }
    }
}
