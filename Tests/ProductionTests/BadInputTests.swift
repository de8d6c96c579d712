import Foundation
import LoadDriverKit
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage
import Synchronization
import Testing
import TestSupport

/// One service started alone on SQLite, with a client that checks it still answers.
private final class LoneService: @unchecked Sendable {
    let process: ServiceProcess
    let secretText = "bad-input-secret-\(UUID().uuidString)"
    let directory: TemporaryDirectory
    var secret: DeploymentSecret { DeploymentSecret(bytes: Array(secretText.utf8)) }

    init(_ name: String, extra: [String: String] = [:]) throws {
        directory = try TemporaryDirectory(prefix: "bad-input")
        var environment = ["OCORRENCIAS_DATA_DIR": directory.path, "OCORRENCIAS_SECRET": secretText,
                           "OCORRENCIAS_LOG_LEVEL": "info"]
        for other in Cluster.services + ["gateway"] { environment["\(other.uppercased())_ADDRESSES"] = "127.0.0.1:9" }
        for (k, v) in extra { environment[k] = v }
        process = try ServiceProcess(name: name, environment: environment)
    }

    func client() -> RPCClient {
        var configuration = ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: process.port)], secret: secret)
        configuration.maxAttempts = 1
        return RPCClient(configuration: configuration)
    }

    /// A fresh connection's health check answers SERVING within `limit` seconds.
    func answers(within limit: Double = 10) -> Bool {
        let client = client()
        defer { client.close() }
        let started = Date()
        guard let response = try? client.call(RpcV1.Health.check, RpcV1.HealthCheckRequest(), options: CallOptions(timeoutMilliseconds: Int(limit * 1000))) else {
            return false
        }
        return response.status == .serving && Date().timeIntervalSince(started) < limit
    }
}

@Suite("Production: bad input at the doors", .serialized)
struct BadInputTests {
    @Test("random and mutated frames before and after authentication, and malformed messages to every method, never crash a service", arguments: Cluster.services)
    func fuzz(service: String) throws {
        let lone = try LoneService(service)
        defer { lone.process.stop() }
        var random = SplitMix64(state: UInt64(service.utf8.reduce(7) { $0 &* 31 &+ Int($1) }))

        // Before authentication: garbage, forged lengths, frames of every kind.
        var connected = 0
        for round in 0..<150 {
            guard let connection = try? RawConnection(port: lone.process.port, timeoutSeconds: 1) else { continue }
            connected += 1
            switch round % 5 {
            case 0: connection.send(random.bytes(Int.random(in: 1...300, using: &random)))
            case 1: connection.send([0xFF, 0xFF, 0xFF, 0xF0] + random.bytes(64))
            case 2:
                var frame = RpcV1.Frame()
                frame.kind = RpcV1.Frame.Kind.allCases.randomElement(using: &random)!
                frame.callID = random.next()
                frame.method = "/ocorrencias.intake.v1.Intake/OpenTicket"
                frame.payload = random.bytes(40)
                _ = connection.sendFrame(frame)
            case 3: connection.send(RawConnection.framed(random.mutate(RpcV1.Frame().serializedBytes() + random.bytes(8))))
            default: connection.send(RawConnection.framed(random.bytes(Int.random(in: 0...200, using: &random))))
            }
        }
        #expect(connected == 150)
        #expect(lone.process.process.isRunning)
        #expect(lone.answers(), "\(service) stopped answering after pre-authentication fuzz:\n\(lone.process.log.suffix(2000))")

        // After authentication: mutated frames around valid requests.
        let methods = try lone.client().call(RpcV1.Reflection.listMethods, RpcV1.ListMethodsRequest(), options: CallOptions(timeoutMilliseconds: 5_000)).methods
        #expect(!methods.isEmpty)
        let admin = PrincipalSigner(secret: lone.secret).metadata(for: Cast.administrator)
        for _ in 0..<40 {
            // 10 s for the handshake's answers: the service may still be closing the fuzz's connections.
            guard let connection = try? RawConnection(port: lone.process.port, timeoutSeconds: 10), connection.authenticate(lone.secret) else {
                Issue.record("\(service): authentication over a raw connection failed")
                break
            }
            for callID in 1...10 {
                var frame = RpcV1.Frame()
                frame.kind = .request
                frame.callID = UInt64(callID)
                frame.method = methods.randomElement(using: &random)!.name
                frame.metadata = admin
                frame.endStream = true
                frame.timeoutMs = 2_000
                frame.payload = random.bytes(Int.random(in: 0...64, using: &random))
                let bytes = frame.serializedBytes()
                let body = Bool.random(using: &random) ? random.mutate(bytes) : bytes
                guard connection.send(RawConnection.framed(body)) else { break }
            }
        }
        #expect(lone.process.process.isRunning)
        #expect(lone.answers(), "\(service) stopped answering after post-authentication fuzz:\n\(lone.process.log.suffix(2000))")

        // Every unary method with an empty, a random and a mutated message, as an administrator.
        let client = lone.client()
        defer { client.close() }
        var statuses: [String: Int] = [:]
        for method in methods where !method.clientStreaming && !method.serverStreaming {
            for payload in [[], random.bytes(32), random.mutate([0x0A, 0x03, 0x61, 0x62, 0x63, 0x10, 0x01])] as [[UInt8]] {
                do {
                    _ = try client.callRaw(path: method.name, payload: payload, options: CallOptions(timeoutMilliseconds: 5_000, metadata: admin))
                    statuses["OK", default: 0] += 1
                } catch let error as RPCError {
                    statuses[error.code.name, default: 0] += 1
                    #expect(error.code != .internal && error.code != .unknown,
                            "\(service) \(method.name) answered \(error) to a malformed request")
                }
            }
        }
        #expect(lone.process.process.isRunning, "\(service) crashed on malformed messages:\n\(lone.process.log.suffix(3000))")
        #expect(lone.answers())
        let unary = methods.filter { !$0.clientStreaming && !$0.serverStreaming }.count
        #expect(statuses.values.reduce(0, +) == unary * 3)
        #expect(statuses["UNAVAILABLE", default: 0] == 0, "\(service): \(statuses)")
        print("fuzz \(service): \(unary) unary methods, statuses \(statuses.sorted { $0.key < $1.key })")
    }

    @Test("slow-loris and a connection flood on a service's RPC port leave it answering others, and the stalled connections are closed")
    func rpcSlowLorisAndFlood() throws {
        let lone = try LoneService("intake")
        defer { lone.process.stop() }
        // Slow-loris: a frame prefix, then a byte now and then, never completing a frame.
        let slow = (0..<150).compactMap { _ in try? RawConnection(port: lone.process.port, timeoutSeconds: 1) }
        let flood = (0..<600).compactMap { _ in try? RawConnection(port: lone.process.port, timeoutSeconds: 1) }
        #expect(slow.count == 150 && flood.count == 600)
        let stop = Atomic<Bool>(false)
        let trickle = Thread {
            for connection in slow { _ = connection.send([0, 0, 1]) }
            while !stop.load(ordering: .relaxed) {
                for connection in slow { _ = connection.send([0x08]) }
                usleep(500_000)
            }
        }
        trickle.start()
        var answered = 0
        for _ in 0..<8 {
            if lone.answers(within: 3) { answered += 1 }
            usleep(500_000)
        }
        #expect(answered == 8, "the service answered \(answered) of 8 health checks during the attack")
        // The auth timeout (5 s) and the frame timeout (10 s) close what never completes: both
        // have passed 8 s from here (waited for, while the trickle goes on: a loaded machine's
        // timers may fire late). A connection still open costs its 1 s receive timeout per look.
        Thread.sleep(forTimeInterval: 8)
        _ = waitFor(30) { slow.allSatisfy { $0.isClosedByPeer() } && flood.prefix(50).allSatisfy { $0.isClosedByPeer() } }
        stop.store(true, ordering: .relaxed)
        let closedSlow = slow.filter { $0.isClosedByPeer() }.count
        let closedFlood = flood.prefix(50).filter { $0.isClosedByPeer() }.count
        #expect(closedSlow == slow.count, "slow connections closed by the service: \(closedSlow) of \(slow.count)")
        #expect(closedFlood == 50, "idle unauthenticated connections closed: \(closedFlood) of 50")
        #expect(lone.answers())
    }

    @Test("slow-loris and a connection flood on the gateway's HTTP port leave it answering others")
    func httpSlowLorisAndFlood() throws {
        let httpPort = try FreePort.next()
        let lone = try LoneService("gateway", extra: ["GATEWAY_HTTP_PORT": String(httpPort), "GATEWAY_RPC_PROXY_PORT": String(try FreePort.next()),
                                                      "GATEWAY_PWHASH": "minimal", "GATEWAY_HTTP_TIMEOUT_SECONDS": "10"])
        defer { lone.process.stop() }
        func healthz() -> Bool {
            guard let connection = try? RawConnection(port: httpPort, timeoutSeconds: 3) else { return false }
            guard connection.send(Array("GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8)) else { return false }
            guard let head = connection.read(12) else { return false }
            return String(decoding: head, as: UTF8.self).hasPrefix("HTTP/1.1 200")
        }
        #expect(healthz())
        let slow = (0..<200).compactMap { _ in try? RawConnection(port: httpPort, timeoutSeconds: 1) }
        let flood = (0..<400).compactMap { _ in try? RawConnection(port: httpPort, timeoutSeconds: 1) }
        #expect(slow.count == 200 && flood.count == 400)
        let stop = Atomic<Bool>(false)
        let trickle = Thread {
            for connection in slow { _ = connection.send(Array("GET /healthz HTTP/1.1\r\nHost: x\r\n".utf8)) }
            while !stop.load(ordering: .relaxed) {
                for connection in slow { _ = connection.send(Array("X".utf8)) }
                usleep(500_000)
            }
        }
        trickle.start()
        var answered = 0
        for _ in 0..<8 {
            if healthz() { answered += 1 }
            usleep(500_000)
        }
        stop.store(true, ordering: .relaxed)
        #expect(answered == 8, "the gateway answered \(answered) of 8 requests during the attack")
        #expect(lone.process.process.isRunning)
    }
}
