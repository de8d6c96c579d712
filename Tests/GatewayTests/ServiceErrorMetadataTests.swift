import Foundation
import GatewayCore
import Messages
import Observability
import RPC
import RPCTransport
import ServiceKit
import Storage
import Synchronization
import Testing
import TestSupport

/// What a service's error metadata becomes at the gateway: a marker (handler started, response
/// too large) is said by the HTTP status alone, never as a field in `details`; a known wait
/// becomes `Retry-After`; the RPC port passes the metadata on, and `ocorre call --json` prints it.
@Suite("Service error metadata at the gateway", .serialized)
struct ServiceErrorMetadataTests {
    static let legacyStarted = FieldViolation(field: "", reason: "handler_started", pt: "O serviço já tinha começado.", en: "The service had started.")

    @Test("the one RPC→HTTP mapping: markers (new metadata or an old server's violations) are no field details; Retry-After from status.retry_after_ms, rounded up, else 1 on a 503")
    func mapping() throws {
        let unavailable = "banco de dados indisponível no momento / the database is unavailable right now"
        for error in [RPCError(.unavailable, unavailable, metadata: [ErrorMetadata.handlerStarted: "true"]),
                      try #require(RPCError(status: RPCError(.unavailable, unavailable, violations: [Self.legacyStarted]).status))] {
            let answer = APIError(error)
            #expect(answer.status == 503 && answer.details.isEmpty && answer.messageEN == "the database is unavailable right now")
            #expect(answer.headers.contains { $0 == ("Retry-After", "1") })
        }
        let large = APIError(RPCError.responseTooLarge(bytes: 5_000_000, limit: 4 << 20))
        #expect(large.status == 500 && large.code == "RESPONSE_TOO_LARGE" && large.details.isEmpty)
        let draining = APIError(RPCError(.unavailable, "encerrando / draining", metadata: [ErrorMetadata.retryAfterMilliseconds: "4200"]))
        #expect(draining.headers.filter { $0.0 == "Retry-After" }.map(\.1) == ["5"])
        let limited = APIError(RPCError(.resourceExhausted, "limite / limit", metadata: [ErrorMetadata.retryAfterMilliseconds: "2000"]))
        #expect(limited.status == 429 && limited.headers.filter { $0.0 == "Retry-After" }.map(\.1) == ["2"])
        #expect(APIError(RPCError(.resourceExhausted, "limite / limit")).headers.isEmpty, "no wait known, none made up")
        let absurd = APIError(RPCError(.unavailable, "x", metadata: [ErrorMetadata.retryAfterMilliseconds: String(Int.max)]))
        #expect(absurd.headers.filter { $0.0 == "Retry-After" }.map(\.1) == ["86400"], "at most a day, no overflow")
        let invalid = APIError(RPCError(.invalidArgument, "inválido / invalid", violations: [FieldViolation(field: "subject", reason: "required", pt: "p", en: "e")],
                                        metadata: [ErrorMetadata.retryAfterMilliseconds: "1000"]))
        #expect(invalid.details.map(\.field) == ["subject"] && invalid.headers.isEmpty)
    }

    /// How the stand-in intake fails `LookupCustomers`.
    enum Failure: String { case storage, legacy, draining }

    @Test("a service whose database goes away mid-call: HTTP 503 with no bogus details entry and Retry-After 1 (new and old servers alike), asked once; a known wait is Retry-After; the RPC port passes status.handler_started on, and ocorre call --json prints the metadata")
    func serviceFailingMidCall() throws {
        let secret = "error-metadata-secret-\(UUID().uuidString)"
        let directory = try TemporaryDirectory()
        let mode = Mutex<Failure>(.storage)
        let runs = Atomic<Int>(0)
        let configuration = try ServiceConfiguration(serviceName: "intake", arguments: ["test"], environment: [
            "OCORRENCIAS_DATA_DIR": directory.path, "OCORRENCIAS_SECRET": secret, "INTAKE_PORT": String(try FreePort.next())])
        let host = try ServiceMain.start(configuration: configuration, migrations: [], logger: Logger(service: "intake", level: .critical)) { _, router in
            router.register(IntakeV1.Intake.lookupCustomers) { _, _ in
                runs.wrappingAdd(1, ordering: .relaxed)
                switch mode.withLock({ $0 }) {
                case .storage: throw StorageError(.busy, "database is locked")
                case .legacy:
                    // What a server before status metadata answered.
                    throw RPCError(.unavailable, "banco de dados indisponível no momento / the database is unavailable right now", violations: [Self.legacyStarted])
                case .draining:
                    throw RPCError(.unavailable, "servidor encerrando / server is draining", metadata: [ErrorMetadata.retryAfterMilliseconds: "4200"])
                }
            }
        }
        defer { host.stop() }
        let address = "127.0.0.1:\(host.port)"
        let gateway = try GatewayHarness(engine: .sqlite, extra: [
            "OCORRENCIAS_SECRET": secret,
            "INTAKE_ADDRESSES": address, "WORKFLOW_ADDRESSES": address, "NOTIFICATION_ADDRESSES": address, "KNOWLEDGE_ADDRESSES": address])
        let admin = try gateway.adminToken()

        for failure in [Failure.storage, .legacy] {
            mode.withLock { $0 = failure }
            let before = runs.load(ordering: .relaxed)
            let answer = try gateway.request("GET", "/v1/customers?q=Acme", bearer: admin)
            #expect(answer.status == 503, "\(failure): \(answer.status) \(answer.text)")
            let error = try #require(answer.json["error"] as? [String: Any])
            #expect(error["code"] as? String == "UNAVAILABLE" && (error["details"] as? [Any])?.isEmpty == true, "\(failure): \(answer.text)")
            #expect(!answer.text.contains("handler_started"), "\(answer.text)")
            #expect(answer.header("Retry-After") == "1")
            #expect(runs.load(ordering: .relaxed) == before + 1, "\(failure): the call had started, and has no idempotency key: not repeated")
        }
        mode.withLock { $0 = .draining }
        let draining = try gateway.request("GET", "/v1/customers?q=Acme", bearer: admin)
        #expect(draining.status == 503 && draining.header("Retry-After") == "5", "\(draining.status) \(draining.headers)")

        // The RPC port: the metadata goes on to the integration, nothing else.
        mode.withLock { $0 = .storage }
        let created = try gateway.request("POST", "/v1/api-keys", json: ["name": "erp", "role": "agent", "access_level": 1], bearer: admin)
        let key = try #require(created.json["key"] as? String, "\(created.text)")
        let client = ProxyTests.client(port: gateway.proxyPort, key: key)
        defer { client.close() }
        var lookup = IntakeV1.LookupCustomersRequest()
        lookup.query = "Acme"
        let forwarded = #expect(throws: RPCError.self) { try client.call(IntakeV1.Intake.lookupCustomers, lookup) }
        #expect(forwarded?.code == .unavailable && forwarded?.metadata == [ErrorMetadata.handlerStarted: "true"] && forwarded?.violations.isEmpty == true,
                "\(String(describing: forwarded))")

        let cli = try GatewayHarness.run(BuildProducts.executable("ocorre"), ["call", "intake/LookupCustomers", #"{"query": "Acme"}"#, "--json"],
                                         environment: ["OCORRE_RPC": "127.0.0.1:\(gateway.proxyPort)", "OCORRE_API_KEY": key,
                                                       "OCORRE_CONFIG": gateway.directory.path + "/none.json"])
        #expect(cli.status != 0 && cli.error.contains("UNAVAILABLE"), "\(cli.error)")
        let printed = try #require((try? JSONSerialization.jsonObject(with: Data(cli.output.utf8))) as? [String: Any], "\(cli.output)")
        let printedError = try #require(printed["error"] as? [String: Any])
        #expect(printedError["code"] as? String == "UNAVAILABLE" && (printedError["details"] as? [Any])?.isEmpty == true)
        #expect((printedError["metadata"] as? [String: String])?[ErrorMetadata.handlerStarted] == "true", "\(cli.output)")
        #expect(printedError["message_en"] as? String == "the intake service is unavailable right now; try again shortly", "the gateway names the service")
    }
}
