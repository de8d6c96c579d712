import Foundation
import Messages
import RPC
import RPCTransport
import Storage
import Testing
import TestSupport

@Suite("Gateway public RPC port and readiness with real services", .serialized)
struct ProxyTests {
    /// intake, workflow, notification and knowledge as real processes, and the gateway in front.
    final class Deployment: @unchecked Sendable {
        private(set) var services: [ServiceProcess]
        let gateway: GatewayHarness
        let directory: TemporaryDirectory
        /// The settings the four services started with (addresses, data directory, databases' URLs).
        let serviceEnvironment: [String: String]
        private let ports: [String: Int]

        /// - Parameters:
        ///   - serviceEnvironment: extra settings of the four services (e.g. `WORKFLOW_FLOW`).
        ///   - gatewayEnvironment: extra settings of the gateway (e.g. `GATEWAY_VIEW_CACHE_TTL_MS`).
        init(engine: DatabaseEngine, serviceEnvironment: [String: String] = [:], gatewayEnvironment: [String: String] = [:]) throws {
            directory = try TemporaryDirectory()
            let secret = "proxy-test-secret-\(UUID().uuidString)"
            var services: [ServiceProcess] = []
            var addresses: [String: String] = [:]
            let names = ["intake", "workflow", "notification", "knowledge"]
            var ports: [String: Int] = [:]
            for name in names {
                ports[name] = try FreePort.next()
                addresses["\(name.uppercased())_ADDRESSES"] = "127.0.0.1:\(ports[name]!)"
            }
            // Every service knows where the others are (events travel between them).
            var environment = addresses
            environment["OCORRENCIAS_DATA_DIR"] = directory.path
            environment["OCORRENCIAS_SECRET"] = secret
            environment["OCORRENCIAS_LOG_LEVEL"] = "notice"
            // Test webhook receivers listen on 127.0.0.1, which notification blocks by default.
            environment["NOTIFICATION_WEBHOOK_BLOCKED_NETWORKS"] = ""
            for (key, value) in serviceEnvironment { environment[key] = value }
            for name in names {
                services.append(try ServiceProcess(name: name, environment: environment, port: ports[name]))
            }
            addresses["OCORRENCIAS_SECRET"] = secret
            for (key, value) in gatewayEnvironment { addresses[key] = value }
            self.services = services
            self.serviceEnvironment = environment
            self.ports = ports
            gateway = try GatewayHarness(engine: engine, extra: addresses)
        }

        /// Stops service `name` and starts it again, on its port with its settings, so it reads
        /// again what it reads at the start (workflow's flows, edited in its database).
        func restart(_ name: String) throws {
            guard let index = services.firstIndex(where: { $0.name == name }) else { return }
            services[index].stop()
            services[index] = try ServiceProcess(name: name, environment: serviceEnvironment, port: ports[name])
        }

        /// Service `name`'s database (SQLite file in ``directory`` or its PostgreSQL URL), opened
        /// without migrations.
        func database(of name: String) throws -> any Database {
            try openDatabase(DatabaseConfiguration(url: serviceEnvironment["\(name.uppercased())_DATABASE_URL"],
                                                   sqlitePath: "\(directory.path)/\(name).sqlite", poolSize: 1), migrations: [])
        }

        deinit { for service in services { service.stop() } }
    }

    static func client(port: Int, key: String) -> RPCClient {
        var configuration = ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: port)], secret: .random())
        configuration.apiKey = key
        configuration.callerName = "proxy-test"
        configuration.maxAttempts = 1
        return RPCClient(configuration: configuration)
    }

    @Test("an API key reaches each service's methods through one port; bad and revoked keys are refused; /readyz is 200", arguments: TestEngines.all)
    func proxy(engine: DatabaseEngine) throws {
        let deployment = try Deployment(engine: engine)
        let gateway = deployment.gateway
        let admin = try gateway.adminToken()
        #expect(try gateway.request("GET", "/readyz").status == 200)

        let created = try gateway.request("POST", "/v1/api-keys", json: ["name": "ERP", "role": "agent", "access_level": 1], bearer: admin)
        #expect(created.status == 201, "\(created.text)")
        let key = try #require(created.json["key"] as? String)
        let keyID = try #require((created.json["api_key"] as? [String: Any])?["id"] as? String)
        // The key also works as a bearer credential over HTTP.
        let me = try gateway.request("GET", "/v1/me", bearer: key)
        #expect((me.json["principal"] as? [String: Any])?["kind"] as? String == "integration")

        let client = Self.client(port: gateway.proxyPort, key: key)
        defer { client.close() }
        // Built-ins go to the service named in `service` metadata.
        let health = try client.call(RpcV1.Health.check, RpcV1.HealthCheckRequest(), options: CallOptions(metadata: [MetadataKey.service: "intake"]))
        #expect(health.status == .serving, "\(health.detail)")
        var echo = RpcV1.EchoRequest()
        echo.payload = Array("olá".utf8)
        let echoed = try client.call(RpcV1.Echo.echo, echo, options: CallOptions(metadata: [MetadataKey.service: "knowledge"]))
        #expect(echoed.payload == echo.payload)
        // Without it the gateway answers: reflection lists every service's methods.
        let everything = try client.call(RpcV1.Reflection.listMethods, RpcV1.ListMethodsRequest())
        #expect(everything.methods.contains { $0.name == WorkflowV1.Workflow.getTicket.path })
        // Naming a service lists its methods alone, and never the internal ones (it went to the
        // service as it was, listing event delivery, the event feed and the built-ins).
        let intakeOnly = try client.call(RpcV1.Reflection.listMethods, RpcV1.ListMethodsRequest(),
                                         options: CallOptions(metadata: [MetadataKey.service: "intake"]))
        #expect(intakeOnly.methods.contains { $0.name == IntakeV1.Intake.openTicket.path })
        #expect(intakeOnly.service == "intake")
        let forwarded = [RpcV1.Health.check.path, RpcV1.Echo.echo.path, RpcV1.Echo.echoStream.path, RpcV1.Reflection.listMethods.path,
                         RpcV1.Stats.outbox.path]
        #expect(!intakeOnly.methods.contains { !$0.name.hasPrefix("/ocorrencias.intake.v1.") && !forwarded.contains($0.name) },
                "\(intakeOnly.methods.map(\.name))")
        #expect(intakeOnly.methods.contains { $0.name == RpcV1.Health.check.path }, "the CLI finds `intake/Check` there")
        // A service's outbox figures need what GET /metrics needs (an agent key has neither);
        // other built-ins are unknown here.
        for (path, code) in [(RpcV1.Stats.outbox.path, RPCStatusCode.permissionDenied), ("/ocorrencias.rpc.v1.Nothing/Here", .unimplemented)] {
            do {
                _ = try client.callRaw(path: path, payload: [], options: CallOptions(metadata: [MetadataKey.service: "intake"]))
                Issue.record("\(path) answered an agent's key")
            } catch let error as RPCError {
                #expect(error.code == code, "\(path): \(error)")
            }
        }
        let operations = try gateway.request("POST", "/v1/api-keys", json: ["name": "Painel", "role": "agent", "permissions": ["metrics.read"]],
                                             bearer: admin)
        let metricsReader = Self.client(port: gateway.proxyPort, key: try #require(operations.json["key"] as? String, "\(operations.text)"))
        defer { metricsReader.close() }
        _ = try metricsReader.call(RpcV1.Stats.outbox, RpcV1.OutboxStatsRequest(), options: CallOptions(metadata: [MetadataKey.service: "intake"]))
        // A domain method, forwarded to intake with the key's principal signed in (intake refuses
        // calls without a valid principal, so an answer proves it arrived signed).
        var lookup = IntakeV1.LookupCustomersRequest()
        lookup.query = "Acme"
        _ = try client.call(IntakeV1.Intake.lookupCustomers, lookup)
        // Event delivery is internal.
        #expect(throws: RPCError.self) {
            _ = try client.callRaw(path: "/ocorrencias.events.v1.EventSink/Deliver", payload: [])
        }
        do {
            _ = try client.callRaw(path: "/ocorrencias.events.v1.EventSink/Deliver", payload: [])
        } catch let error as RPCError {
            #expect(error.code == .permissionDenied)
        }
        // Unknown methods of a known service come back UNIMPLEMENTED from the service.
        do {
            _ = try client.callRaw(path: "/ocorrencias.intake.v1.Nothing/Here", payload: [])
            Issue.record("expected an error")
        } catch let error as RPCError {
            #expect(error.code == .unimplemented)
        }
        // Made-up names, one with a quote and a line break: refused by the service, each counted
        // under one `(unknown)` series; none reaches /metrics as a label of its own.
        for path in ["/ocorrencias.intake.v1.Intake/Made1", "/ocorrencias.intake.v1.Intake/X\"} 1\nfake_series 9"] {
            #expect(throws: RPCError.self) { _ = try client.callRaw(path: path, payload: []) }
        }

        // A wrong key cannot connect; the deployment secret is not accepted there either.
        let stranger = Self.client(port: gateway.proxyPort, key: "ocr_\(keyID)_wrong")
        defer { stranger.close() }
        do {
            _ = try stranger.call(RpcV1.Health.check, RpcV1.HealthCheckRequest())
            Issue.record("a wrong key was accepted")
        } catch let error as RPCError {
            #expect(error.code == .unauthenticated)
        }
        let insider = RPCClient(configuration: ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: gateway.proxyPort)],
                                                                   secret: DeploymentSecret(bytes: Array(gateway.environment["OCORRENCIAS_SECRET"]!.utf8))))
        defer { insider.close() }
        #expect(throws: RPCError.self) { _ = try insider.call(RpcV1.Health.check, RpcV1.HealthCheckRequest()) }

        // Revoking the key stops calls on connections already open.
        #expect(try gateway.request("DELETE", "/v1/api-keys/\(keyID)", bearer: admin).status == 204)
        do {
            _ = try client.call(RpcV1.Health.check, RpcV1.HealthCheckRequest(), options: CallOptions(metadata: [MetadataKey.service: "intake"]))
            Issue.record("a revoked key was accepted")
        } catch let error as RPCError {
            #expect(error.code == .unauthenticated)
        }
        #expect(try gateway.request("GET", "/v1/me", bearer: key).status == 401)

        let metrics = try gateway.request("GET", "/metrics", bearer: admin)
        #expect(metrics.text.contains("gateway_rpc_client_calls_total{service=\"gateway\",method=\"/ocorrencias.rpc.v1.Health/Check\",code=\"OK\"}"))
        #expect(metrics.text.contains("gateway_rpc_client_calls_total{service=\"gateway\",method=\"(unknown)\",code=\"UNIMPLEMENTED\"} 3\n"),
                "\(metrics.text)")
        #expect(!metrics.text.contains("Made1") && !metrics.text.contains("fake_series"))
        #expect(PrometheusExpositionTests.validate(metrics.text).problems.isEmpty, "\(PrometheusExpositionTests.validate(metrics.text).problems)")
    }

    @Test("streaming calls through the public port: client-streaming upload, server-streaming download, bidirectional echo (intake answers only signed principals: the key's was signed in); a cancel reaches the service call; a revoked key stops",
          arguments: TestEngines.all)
    func streaming(engine: DatabaseEngine) throws {
        let deployment = try Deployment(engine: engine)
        let gateway = deployment.gateway
        let admin = try gateway.adminToken()
        let created = try gateway.request("POST", "/v1/api-keys", json: ["name": "ERP", "role": "agent", "access_level": 1], bearer: admin)
        let key = try #require(created.json["key"] as? String, "\(created.text)")
        let client = Self.client(port: gateway.proxyPort, key: key)
        defer { client.close() }

        // Client-streaming: a 3 MiB file in 1 MiB messages, checked by SHA-256 at intake.
        let content = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        let upload = try client.streamingCall(IntakeV1.Intake.uploadAttachment, options: CallOptions(timeoutMilliseconds: 20_000))
        for offset in stride(from: 0, to: content.count, by: 1 << 20) {
            var message = IntakeV1.UploadAttachmentRequest()
            if offset == 0 {
                message.fileName = "dump.bin"
                message.contentType = "application/octet-stream"
                message.sizeBytes = Int64(content.count)
                message.sha256 = Digest.hex(Digest.sha256(content))
            }
            message.data = Array(content[offset..<min(offset + (1 << 20), content.count)])
            try upload.send(message)
        }
        let reference = try upload.finish()
        #expect(reference.sizeBytes == Int64(content.count) && !reference.id.isEmpty)

        // Server-streaming: read back byte-exact in 64 KiB chunks.
        var ask = IntakeV1.DownloadAttachmentRequest()
        ask.attachmentID = reference.id
        ask.chunkBytes = 64 << 10
        let download = try client.serverStream(IntakeV1.Intake.downloadAttachment, ask, options: CallOptions(timeoutMilliseconds: 20_000))
        var received: [UInt8] = []
        var chunks = 0
        while let chunk = try download.receive() {
            received += chunk.data
            chunks += 1
        }
        #expect(received == content)
        #expect(chunks == 48)

        // Bidirectional: the built-in echo stream of the service named in metadata, message by message.
        let echo = try client.streamingCall(RpcV1.Echo.echoStream, options: CallOptions(timeoutMilliseconds: 10_000, metadata: [MetadataKey.service: "knowledge"]))
        for word in ["um", "dois", "três"] {
            var message = RpcV1.EchoRequest()
            message.payload = Array(word.utf8)
            try echo.send(message)
            #expect(try echo.receive()?.payload == Array(word.utf8))
        }
        try echo.closeSend()
        #expect(try echo.receive() == nil)

        // Cancelling a download after its first chunk cancels the call the gateway made to intake.
        ask.chunkBytes = 4 << 10
        let slow = try client.serverStream(IntakeV1.Intake.downloadAttachment, ask, options: CallOptions(timeoutMilliseconds: 20_000))
        #expect(try slow.receive() != nil)
        slow.cancel()
        let cancelled = "gateway_rpc_client_calls_total{service=\"gateway\",method=\"/ocorrencias.intake.v1.Intake/DownloadAttachment\",code=\"CANCELLED\"} 1"
        var scraped = ""
        #expect(try waitFor {
            scraped = try gateway.request("GET", "/metrics", bearer: admin).text
            return scraped.contains(cancelled)
        }, "\(scraped.split(separator: "\n").filter { $0.contains("DownloadAttachment") })")
        #expect(try gateway.request("GET", "/metrics", bearer: admin).text
            .contains("gateway_rpc_client_calls_total{service=\"gateway\",method=\"/ocorrencias.intake.v1.Intake/UploadAttachment\",code=\"OK\"} 1"))

        // A revoked key stops streams too.
        let keyID = try #require((created.json["api_key"] as? [String: Any])?["id"] as? String)
        #expect(try gateway.request("DELETE", "/v1/api-keys/\(keyID)", bearer: admin).status == 204)
        do {
            let stream = try client.serverStream(IntakeV1.Intake.downloadAttachment, ask)
            _ = try stream.receive()
            Issue.record("a revoked key streamed")
        } catch let error as RPCError {
            #expect(error.code == .unauthenticated)
        }
    }
}
