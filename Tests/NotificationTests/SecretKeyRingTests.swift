import Foundation
import Messages
@testable import NotificationCore
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

/// The key sealing webhook secrets can be rotated: a key ring (current key + previous keys for
/// reading), sealed values naming their key, and `ResealSecrets` moving every secret to the
/// current key.
@Suite("Notification: secrets key rotation (key ring, ResealSecrets)", .serialized)
struct SecretKeyRingTests {
    static let oldKey = String(repeating: "11", count: 32)
    static let newKey = String(repeating: "22", count: 32)
    static let strangerKey = String(repeating: "33", count: 32)

    static func box(_ hex: String, previous: [String] = []) -> SecretBox {
        SecretBox(key: SecretBox.hex(hex)!, previous: previous.map { SecretBox.hex($0)! })
    }

    @Test("Sealed values name their key; previous keys open, unknown ones are reported; old keys from variable and file")
    func ring() throws {
        let old = Self.box(Self.oldKey), ring = Self.box(Self.newKey, previous: [Self.oldKey])
        #expect(old.currentKeyID != ring.currentKeyID && old.currentKeyID.count == 8)
        #expect(ring.keyIDs == [ring.currentKeyID, old.currentKeyID])
        let underOld = old.seal("secret-under-the-old-key")
        #expect(underOld.hasPrefix("sb2:\(old.currentKeyID):"))
        #expect(try ring.open(underOld) == "secret-under-the-old-key")
        #expect(!ring.isCurrent(underOld))
        let moved = try #require(try ring.reseal(underOld))
        #expect(ring.isCurrent(moved) && moved.hasPrefix("sb2:\(ring.currentKeyID):"))
        #expect(try ring.reseal(moved) == nil, "already under the current key")
        #expect(try Self.box(Self.newKey).open(moved) == "secret-under-the-old-key", "the old key is no longer needed")
        // Values of the previous format (`sb1:`, no key id) open under any key of the ring.
        let legacy = "sb1:" + underOld.split(separator: ":", maxSplits: 2)[2]
        #expect(try ring.open(legacy) == "secret-under-the-old-key")
        #expect(try ring.reseal("clear-text-secret").map { try ring.open($0) } == "clear-text-secret")
        // A key that is not in the ring: the error names it.
        let stranger = Self.box(Self.strangerKey)
        do {
            _ = try ring.open(stranger.seal("x"))
            Issue.record("opened a value sealed under an unknown key")
        } catch let error as SecretBoxError {
            #expect(error.keyID == stranger.currentKeyID)
            #expect(error.description.contains(stranger.currentKeyID))
        }
        #expect(throws: SecretBoxError.self) { _ = try Self.box(Self.newKey).open(legacy) }

        // Configuration: NOTIFICATION_SECRETS_OLD_KEYS and _OLD_KEYS_FILE.
        let directory = try TemporaryDirectory(prefix: "keyring")
        let file = "\(directory.path)/old-keys"
        try "# retired 2026-11\n\(Self.strangerKey)\n\n".write(toFile: file, atomically: true, encoding: .utf8)
        let loaded = try SecretBox.load(environment: [
            "NOTIFICATION_SECRETS_KEY": Self.newKey, "NOTIFICATION_SECRETS_OLD_KEYS": "\(Self.oldKey), \(Self.newKey)",
            "NOTIFICATION_SECRETS_OLD_KEYS_FILE": file,
        ], dataDirectory: directory.path)
        #expect(loaded.keyIDs == [ring.currentKeyID, old.currentKeyID, stranger.currentKeyID])
        #expect(try loaded.open(stranger.seal("y")) == "y")
        #expect(throws: NotificationConfigurationError.self) {
            _ = try SecretBox.load(environment: ["NOTIFICATION_SECRETS_OLD_KEYS": "abcd"], dataDirectory: directory.path)
        }
        #expect(throws: NotificationConfigurationError.self) {
            _ = try SecretBox.load(environment: ["NOTIFICATION_SECRETS_OLD_KEYS_FILE": "\(directory.path)/missing"],
                                   dataDirectory: directory.path)
        }
    }

    @Test("After a key rotation, secrets under the old key still sign; ResealSecrets moves them all to the new key",
          arguments: TestEngines.all)
    func rotation(engine: DatabaseEngine) throws {
        let secret = "ring-secret-0123456789abcdef"
        let hooks = try TemporaryDirectory(prefix: "hooks")
        let receiver = try PythonPeer.webhook(directory: hooks.path, secret: secret)
        // The service runs with the new key, the old one still configured for reading.
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: try FreePort.next()),
                                              environment: ["NOTIFICATION_SECRETS_KEY": Self.newKey,
                                                            "NOTIFICATION_SECRETS_OLD_KEYS": Self.oldKey])
        let old = Self.box(Self.oldKey), current = Self.box(Self.newKey)
        let underOld = old.seal(secret)
        try harness.database.write { tx in
            // Sealed before the rotation (new and previous format), and a removed webhook whose
            // secret was sealed under a key nobody configured any more.
            try WebhookStore.insert(tx, WebhookRecord(id: "hook-old", url: receiver.url, sealedSecret: underOld,
                                                      eventKinds: ["TicketOpened"], accessLevel: 0, internalEntries: false,
                                                      active: true, createdAtMs: 1))
            try WebhookStore.insert(tx, WebhookRecord(id: "hook-sb1", url: receiver.url,
                                                      sealedSecret: "sb1:" + old.seal(secret).split(separator: ":", maxSplits: 2)[2],
                                                      eventKinds: ["SolutionGiven"], accessLevel: 0, internalEntries: false,
                                                      active: true, createdAtMs: 2))
            try WebhookStore.insert(tx, WebhookRecord(id: "hook-lost", url: receiver.url,
                                                      sealedSecret: Self.box(Self.strangerKey).seal(secret),
                                                      eventKinds: ["TicketOpened"], accessLevel: 0, internalEntries: false,
                                                      active: false, createdAtMs: 3))
            // hook-old was rotated lately: its previous secret still signs, sealed under the old key too.
            try tx.execute("UPDATE notification_webhooks SET previous_secret = ?, previous_until = ? WHERE id = 'hook-old'",
                           [.text(old.seal("previous-ring-secret-0123456789")), .integer(Int64(Date().timeIntervalSince1970 * 1000) + 3_600_000)])
        }
        let first = Events.opened(ticketID: "t-ring-1")
        try harness.deliver([Events.envelope(first, key: first.ticketID)])
        #expect(waitFor(15) { receiver.files("json").count == 1 })
        #expect(try ReceivedWebhook.all(in: hooks.path).first?.0.verified == true, "signed with the secret sealed under the old key")

        #expect(throws: RPCError.self) {
            _ = try harness.client.call(NotificationV1.Notification.resealSecrets, NotificationV1.ResealSecretsRequest(),
                                        options: harness.options(NotificationHarness.agent()))
        }
        let resealed = try harness.client.call(NotificationV1.Notification.resealSecrets, NotificationV1.ResealSecretsRequest(),
                                               options: harness.options(NotificationHarness.administrator()))
        #expect(resealed.keyID == current.currentKeyID)
        #expect(resealed.resealed == 2 && resealed.alreadyCurrent == 0)
        #expect(resealed.unreadableWebhookIDs == ["hook-lost"])
        let stored = try WebhookSecretTests.storedSecrets(harness)
        for id in ["hook-old", "hook-sb1"] {
            let value = try #require(stored[id])
            #expect(value.hasPrefix("sb2:\(current.currentKeyID):") && !value.contains(secret))
            #expect(try current.open(value) == secret, "opens without the old key")
        }
        let previous = try harness.database.read { tx in try tx.scalar("SELECT previous_secret FROM notification_webhooks WHERE id = 'hook-old'") }
        guard case .text(let sealedPrevious) = previous else { Issue.record("no previous secret: \(previous)"); return }
        #expect(sealedPrevious.hasPrefix("sb2:\(current.currentKeyID):") && (try? current.open(sealedPrevious)) == "previous-ring-secret-0123456789",
                "the previous secret still signing moved to the new key too")
        // A webhook registered now is sealed under the new key; a second reseal has nothing to do.
        let registered = try WebhookAndConfidentialityTests.register(harness, url: receiver.url, secret: secret, kinds: ["StageChanged"])
        #expect(try WebhookSecretTests.storedSecrets(harness)[registered.id]?.hasPrefix("sb2:\(current.currentKeyID):") == true)
        let again = try harness.client.call(NotificationV1.Notification.resealSecrets, NotificationV1.ResealSecretsRequest(),
                                            options: harness.options(NotificationHarness.administrator()))
        #expect(again.resealed == 0 && again.alreadyCurrent == 3 && again.unreadableWebhookIDs == ["hook-lost"])

        let second = Events.opened(ticketID: "t-ring-2")
        try harness.deliver([Events.envelope(second, key: second.ticketID)])
        #expect(waitFor(15) { receiver.files("json").count == 2 })
        #expect(try ReceivedWebhook.all(in: hooks.path).allSatisfy { $0.0.verified })
    }
}
