import Foundation
import Messages
@testable import NotificationCore
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
