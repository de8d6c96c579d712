import Foundation
import Messages
@testable import NotificationCore
import Observability
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

/// Webhook signing secrets are stored sealed (libsodium secretbox) and can be rotated.
@Suite("Notification: webhook secrets encrypted at rest, rotation", .serialized)
struct WebhookSecretTests {
    static func storedSecrets(_ harness: NotificationHarness) throws -> [String: String] {
        try harness.database.read { tx in
            Dictionary(uniqueKeysWithValues: try tx.query("SELECT id, secret FROM notification_webhooks", []).map {
                (try $0.text("id"), try $0.text("secret"))
            })
        }
    }

    @Test("The column never holds the secret; signatures verify before and after a rotation; a generated secret is shown once",
          arguments: TestEngines.all)
    func encryptedAndRotated(engine: DatabaseEngine) throws {
        let secret = "first-secret-0123456789abcdef"
        let hooks = try TemporaryDirectory(prefix: "hooks")
        var receiver = try PythonPeer.webhook(directory: hooks.path, secret: secret)
        let port = receiver.port
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: try FreePort.next()))
        let webhook = try WebhookAndConfidentialityTests.register(harness, url: receiver.url, secret: secret, kinds: ["TicketOpened"])
        let stored = try #require(try Self.storedSecrets(harness)[webhook.id])
        #expect(stored.hasPrefix("sb2:"))
        #expect(!stored.contains(secret) && !stored.contains(Digest.hex(Array(secret.utf8))))
        // The key is the local one kept in the data directory (mode 0600).
        let keyPath = "\(harness.directory.path)/notification-secrets.key"
        let attributes = try FileManager.default.attributesOfItem(atPath: keyPath)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let box = try SecretBox.load(environment: [:], dataDirectory: harness.directory.path)
        #expect(try box.open(stored) == secret)

        let first = Events.opened(ticketID: "t-secret-1")
        try harness.deliver([Events.envelope(first, key: first.ticketID)])
        #expect(waitFor(15) { receiver.files("json").count == 1 })
        #expect(try ReceivedWebhook.all(in: hooks.path).first?.0.verified == true)
        // The receiver stores the request before it answers: wait for the answer too, or the
        // kill below may cut it and the retry of this delivery reach the next receiver.
        #expect(waitFor(15) { (try? harness.deliveries(ticketID: "t-secret-1").first { $0.channel == "webhook" }?.state) == "sent" })

        // Rotation: only administrators; the new secret is sealed too.
        var rotate = NotificationV1.RotateWebhookSecretRequest()
        rotate.id = webhook.id
        rotate.secret = "second-secret-0123456789abcdef"
        #expect(throws: RPCError.self) {
            _ = try harness.client.call(NotificationV1.Notification.rotateWebhookSecret, rotate, options: harness.options(NotificationHarness.agent()))
        }
        let rotated = try harness.client.call(NotificationV1.Notification.rotateWebhookSecret, rotate,
                                              options: harness.options(NotificationHarness.administrator()))
        #expect(rotated.secret == rotate.secret)
        let restored = try #require(try Self.storedSecrets(harness)[webhook.id])
        #expect(restored.hasPrefix("sb2:") && !restored.contains(rotate.secret) && restored != stored)

        // The receiver now knows only the new secret: the next delivery verifies with it.
        kill(receiver.process.processIdentifier, SIGKILL)
        receiver.process.waitUntilExit()
        let hooks2 = try TemporaryDirectory(prefix: "hooks")
        receiver = try PythonPeer(script: "webhook_receiver.py", port: port, directory: hooks2.path,
                                  arguments: ["--dir", hooks2.path, "--secret", rotate.secret, "--fail-first", "0"])
        let second = Events.opened(ticketID: "t-secret-2")
        try harness.deliver([Events.envelope(second, key: second.ticketID)])
        #expect(waitFor(15) { (try? harness.deliveries(ticketID: "t-secret-2").first { $0.channel == "webhook" }?.state) == "sent" })
        // At least once: on a loaded machine an attempt the receiver took may time out on our side
        // and be sent again; every copy is the same delivery, verified with the new secret.
        let received = try ReceivedWebhook.all(in: hooks2.path).map(\.0)
        #expect(!received.isEmpty)
        #expect(received.allSatisfy { $0.verified })
        #expect(Set(received.compactMap { $0.header("X-Ocorrencias-Delivery") }).count == 1)

        // A generated secret comes back once, 64 hex characters, and is not in the column.
        rotate.secret = ""
        let generated = try harness.client.call(NotificationV1.Notification.rotateWebhookSecret, rotate,
                                                options: harness.options(NotificationHarness.administrator()))
        #expect(generated.secret.count == 64)
        #expect(try !(Self.storedSecrets(harness)[webhook.id] ?? "").contains(generated.secret))
        rotate.id = "missing"
        #expect(throws: RPCError.self) {
            _ = try harness.client.call(NotificationV1.Notification.rotateWebhookSecret, rotate,
                                        options: harness.options(NotificationHarness.administrator()))
        }
    }

    @Test("a rotated secret keeps signing beside the new one for the overlap, so a receiver still on the old one, or already on the new one, accepts every delivery; rotated immediately, the old one stops at once",
          arguments: TestEngines.all)
    func rotationOverlap(engine: DatabaseEngine) throws {
        let first = "first-secret-0123456789abcdef", second = "second-secret-0123456789abcdef"
        var hooks = try TemporaryDirectory(prefix: "hooks")
        var receiver = try PythonPeer.webhook(directory: hooks.path, secret: first)
        let port = receiver.port
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: try FreePort.next()))
        let webhook = try WebhookAndConfidentialityTests.register(harness, url: receiver.url, secret: first, kinds: ["TicketOpened"])
        let administrator = harness.options(NotificationHarness.administrator())
        func restartReceiver(knowing secret: String) throws {
            kill(receiver.process.processIdentifier, SIGKILL)
            receiver.process.waitUntilExit()
            hooks = try TemporaryDirectory(prefix: "hooks")
            receiver = try PythonPeer(script: "webhook_receiver.py", port: port, directory: hooks.path,
                                      arguments: ["--dir", hooks.path, "--secret", secret, "--fail-first", "0"])
        }
        func deliver(_ ticket: String) throws -> String? {
            let opened = Events.opened(ticketID: ticket)
            try harness.deliver([Events.envelope(opened, key: opened.ticketID)])
            var state: String?
            _ = waitFor(15) {
                state = try? harness.deliveries(ticketID: ticket).first { $0.channel == "webhook" }?.state
                return state == "sent" || state == "failed" || state == "dead"
            }
            return state
        }

        // Rotated with the default overlap: 24 hours of two signatures.
        var rotate = NotificationV1.RotateWebhookSecretRequest()
        rotate.id = webhook.id
        rotate.secret = second
        let before = Int64(Date().timeIntervalSince1970 * 1000)
        let rotated = try harness.client.call(NotificationV1.Notification.rotateWebhookSecret, rotate, options: administrator)
        let until = rotated.webhook?.previousSecretUntilMs ?? 0
        #expect(until >= before + 86_400_000 && until <= before + 86_400_000 + 60_000, "\(until - before)")
        // A receiver still on the first secret accepts; the header carries both signatures.
        #expect(try deliver("t-overlap-1") == "sent")
        let request = try #require(try ReceivedWebhook.all(in: hooks.path).first?.0)
        #expect(request.verified)
        #expect(request.header("X-Ocorrencias-Signature")?.split(separator: ",").count == 2)
        // A receiver already on the second accepts too.
        try restartReceiver(knowing: second)
        #expect(try deliver("t-overlap-2") == "sent")
        #expect(try ReceivedWebhook.all(in: hooks.path).allSatisfy { $0.0.verified })

        // An overlap beyond 7 days is refused naming the field, and nothing changes.
        rotate.secret = "third-secret-0123456789abcdef"
        rotate.overlapSeconds = 604_801
        let refused = SuppressionTests.rpcError { _ = try harness.client.call(NotificationV1.Notification.rotateWebhookSecret, rotate, options: administrator) }
        #expect(refused?.code == .invalidArgument && refused?.violations.map(\.field) == ["overlap_seconds"])
        // Rotated immediately (a leaked secret): the second secret stops signing at once.
        rotate.overlapSeconds = 0
        rotate.immediately = true
        let leaked = try harness.client.call(NotificationV1.Notification.rotateWebhookSecret, rotate, options: administrator)
        #expect(leaked.webhook?.previousSecretUntilMs == 0)
        let accepted = try ReceivedWebhook.all(in: hooks.path).count
        let outcome = try deliver("t-overlap-3")
        #expect(outcome == "failed" || outcome == "dead", "the receiver on the second secret refuses it: \(outcome ?? "none")")
        #expect(try ReceivedWebhook.all(in: hooks.path).count == accepted)
        kill(receiver.process.processIdentifier, SIGKILL)
        receiver.process.waitUntilExit()
    }

    @Test("A delivery claimed before a rotation and sent after it is signed with the secrets as they are at sending: after an immediate rotation with the new one alone, within an overlap with both",
          arguments: TestEngines.all)
    func claimedBeforeRotation(engine: DatabaseEngine) throws {
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: try FreePort.next()))
        let administrator = harness.options(NotificationHarness.administrator())
        // Two webhooks, each with a receiver that knows only the secret it is rotated to.
        let (overlapFirst, overlapSecond) = ("overlap-first-0123456789abcdef", "overlap-second-0123456789abcdef")
        let (leakedFirst, leakedSecond) = ("leaked-first-0123456789abcdef", "leaked-second-0123456789abcdef")
        let overlapHooks = try TemporaryDirectory(prefix: "hooks"), leakedHooks = try TemporaryDirectory(prefix: "hooks")
        let overlapReceiver = try PythonPeer.webhook(directory: overlapHooks.path, secret: overlapSecond)
        let leakedReceiver = try PythonPeer.webhook(directory: leakedHooks.path, secret: leakedSecond)
        defer { overlapReceiver.stop(); leakedReceiver.stop() }
        let overlapped = try WebhookAndConfidentialityTests.register(harness, url: overlapReceiver.url, secret: overlapFirst, kinds: ["TicketOpened"])
        let leaked = try WebhookAndConfidentialityTests.register(harness, url: leakedReceiver.url, secret: leakedFirst, kinds: ["TicketOpened"])

        // A second dispatcher (as another instance would be) sends what the test claims for it.
        let dispatcher = DeliveryDispatcher(database: harness.database, settings: harness.settings,
                                            logger: Logger(service: "notification", level: .critical),
                                            publisher: EventPublisher(source: "notification"),
                                            secrets: try SecretBox.load(environment: [:], dataDirectory: harness.directory.path),
                                            instanceID: "in-flight")
        dispatcher.start()
        defer { dispatcher.stop() }
        // Due tomorrow, so the service's own dispatcher leaves them alone; claimed now, before
        // the rotations, with tomorrow's clock.
        let tomorrow = Date().addingTimeInterval(86_400)
        let lane = "webhook|claimed-before-rotation"
        var bodies: [String: [UInt8]] = [:]
        try harness.database.write { tx in
            for webhook in [overlapped, leaked] {
                let id = "in-flight-\(webhook.id)"
                bodies[id] = Array("{\"delivery\":\"\(id)\"}".utf8)
                try DeliveryStore.insert(tx, NewDelivery(id: id, eventID: "e-\(id)", recipient: "webhook:\(webhook.id)", channel: .webhook,
                                                         eventKind: "TicketOpened", ticketID: "t-in-flight", lane: lane, target: webhook.url,
                                                         messageID: id, payload: bodies[id]!, webhookID: webhook.id), now: tomorrow)
            }
        }
        let claimed = try harness.database.write { tx in
            try DeliveryClaims.claim(tx, lane: lane, instance: "in-flight", limit: 10, now: tomorrow.addingTimeInterval(1), lease: 60)
        }
        #expect(claimed.count == 2)

        var rotate = NotificationV1.RotateWebhookSecretRequest()
        rotate.id = overlapped.id
        rotate.secret = overlapSecond
        _ = try harness.client.call(NotificationV1.Notification.rotateWebhookSecret, rotate, options: administrator)
        rotate.id = leaked.id
        rotate.secret = leakedSecond
        rotate.immediately = true
        _ = try harness.client.call(NotificationV1.Notification.rotateWebhookSecret, rotate, options: administrator)

        // Only now do the claims reach the lane.
        let claims = InsertClaims(instance: "in-flight", leaseEnd: tomorrow.addingTimeInterval(61)) { _, _ in true }
        for delivery in claimed { claims.add(lane: lane, delivery) }
        dispatcher.committed(claims)
        #expect(waitFor(15) {
            (try? harness.deliveries(ticketID: "t-in-flight").filter { $0.state == "sent" }.count) == 2
        }, "\((try? harness.deliveries(ticketID: "t-in-flight").map { "\($0.state) \($0.serverAnswer)" }) ?? [])")

        func signature(_ directory: TemporaryDirectory) throws -> (header: String, timestamp: Int64) {
            let requests = try ReceivedWebhook.all(in: directory.path).map(\.0)
            #expect(requests.count == 1 && requests.allSatisfy(\.verified))
            let request = try #require(requests.first)
            return (request.header("X-Ocorrencias-Signature") ?? "", Int64(request.header("X-Ocorrencias-Timestamp") ?? "") ?? 0)
        }
        // Within the overlap: the new signature first, then the previous one.
        let overlap = try signature(overlapHooks)
        #expect(overlap.header == WebhookSignature.header(secrets: [overlapSecond, overlapFirst], timestamp: overlap.timestamp,
                                                          body: bodies["in-flight-\(overlapped.id)"]!))
        // Revoked immediately: the new secret alone, although the claim predates the rotation.
        let revoked = try signature(leakedHooks)
        #expect(revoked.header == WebhookSignature.sign(secret: leakedSecond, timestamp: revoked.timestamp,
                                                        body: bodies["in-flight-\(leaked.id)"]!))
    }

    @Test("A secret stored in clear text before encryption is sealed and still signs", arguments: TestEngines.all)
    func legacySecretsSealed(engine: DatabaseEngine) throws {
        let secret = "legacy-secret-0123456789abcdef"
        let hooks = try TemporaryDirectory(prefix: "hooks")
        let receiver = try PythonPeer.webhook(directory: hooks.path, secret: secret)
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: try FreePort.next()))
        try harness.database.write { tx in
            try WebhookStore.insert(tx, WebhookRecord(id: "legacy-1", url: receiver.url, sealedSecret: secret, eventKinds: ["TicketOpened"],
                                                      accessLevel: 0, internalEntries: false, active: true, createdAtMs: 1))
        }
        let box = try SecretBox.load(environment: [:], dataDirectory: harness.directory.path)
        #expect(try harness.database.write { try WebhookStore.sealLegacySecrets($0, box: box) } == 1)
        let stored = try #require(try Self.storedSecrets(harness)["legacy-1"])
        #expect(stored.hasPrefix("sb2:") && !stored.contains(secret))
        let event = Events.opened(ticketID: "t-legacy")
        try harness.deliver([Events.envelope(event, key: event.ticketID)])
        #expect(waitFor(15) { receiver.files("json").count == 1 })
        #expect(try ReceivedWebhook.all(in: hooks.path).first?.0.verified == true)
    }

    @Test("Keys: a sealed value opens only with its key; configured keys must be 64 hex characters")
    func keys() throws {
        let directory = try TemporaryDirectory(prefix: "keys")
        let configured = String(repeating: "ab", count: 32)
        let box = try SecretBox.load(environment: ["NOTIFICATION_SECRETS_KEY": configured], dataDirectory: directory.path)
        let sealed = box.seal("s3cret-value")
        #expect(try box.open(sealed) == "s3cret-value")
        #expect(box.seal("s3cret-value") != sealed, "a fresh nonce each time")
        let other = try SecretBox.load(environment: [:], dataDirectory: directory.path)
        #expect(throws: SecretBoxError.self) { _ = try other.open(sealed) }
        var altered = Array(sealed.utf8)
        altered[altered.count - 1] = altered[altered.count - 1] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        #expect(throws: SecretBoxError.self) { _ = try box.open(String(decoding: altered, as: UTF8.self)) }
        #expect(throws: NotificationConfigurationError.self) {
            _ = try SecretBox.load(environment: ["NOTIFICATION_SECRETS_KEY": "short"], dataDirectory: directory.path)
        }
        let file = "\(directory.path)/key.hex"
        try (configured + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let fromFile = try SecretBox.load(environment: ["NOTIFICATION_SECRETS_KEY_FILE": file], dataDirectory: directory.path)
        #expect(try fromFile.open(sealed) == "s3cret-value")
        // The local key persists: loading again gives the same key.
        let again = try SecretBox.load(environment: [:], dataDirectory: directory.path)
        #expect(try again.open(other.seal("x")) == "x")
    }
}
