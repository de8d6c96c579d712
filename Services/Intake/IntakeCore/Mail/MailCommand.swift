import Foundation
import Messages
import RPC
import ServiceKit
import Storage

/// `intake ingest-mail`: reads one raw RFC 5322 message on standard input (an MTA pipe, e.g.
/// Postfix `mailbox_command` or an alias `|intake ingest-mail`) and takes it in against the
/// intake database named by the usual configuration (`--data-dir`, `INTAKE_DATABASE_URL`,
/// `OCORRENCIAS_SECRET`). Events go to intake's outbox; the running service delivers them.
///
/// Prints one JSON line with the outcome. Exit status follows sysexits(3), which MTAs understand:
/// 0 taken in (opened, replied or a duplicate) or, for a message that cannot be parsed,
/// `quarantined` (kept for agents, see ``IntakeContext/receive(raw:source:tokens:settings:bounce:)``),
/// or `held` (the sender is an authorized contact of several organizations: an agent chooses),
/// or `automatic` (an out-of-office, a delivery report, a list's mail: ``MailMessage/automaticReason``;
/// held for agents, neither a ticket nor a reply, bounced by nobody),
/// 67 `EX_NOUSER` rejected (unknown or foreign sender: the MTA bounces it with the reason; the
/// message is also held for agents), 65 `EX_DATAERR` empty input, or `unreadable` (GMime cannot
/// parse it but a sender could be read: the MTA bounces it; held) or `too_large` (over
/// `INTAKE_MAX_MAIL_BYTES`: only the header block is held; 0 instead when no sender may be answered), 75 `EX_TEMPFAIL` storage
/// unavailable (the MTA retries later), 78 `EX_CONFIG` bad configuration.
///
/// With `INTAKE_SMTP_URL` set, intake answers rejected, unreadable and oversized mail itself, as
/// for mail read over IMAP: the answer is queued in the same transaction (``MailBounceQueue``, sent
/// by the running service) under the same rules (never to robots, daemons or our own address, at
/// most `INTAKE_BOUNCE_LIMIT_PER_HOUR` answers per sender), and the command exits 0 with `answer`
/// `queued` or `suppressed: <why>` — the MTA must not bounce it a second time, nor bounce what the
/// rules keep unanswered (backscatter to forged senders, loops with auto-responders).
public enum MailCommand {
    public static func run(arguments: [String]) -> Never {
        let configuration: ServiceConfiguration
        var settings: IntakeSettings
        do {
            configuration = try ServiceConfiguration(serviceName: "intake", arguments: ["intake"] + arguments)
            settings = try IntakeSettings(environment: configuration.environment, dataDirectory: configuration.dataDirectory)
            settings.maxFrameBytes = configuration.limits.maxFrameSize
        } catch {
            finish(78, ["outcome": "error", "reason": "\(error)"])
        }
        let bounce: MailBounce?
        do { bounce = try MailBounce.fromEnvironment(configuration.environment) } catch {
            finish(78, ["outcome": "error", "reason": "\(error)"])
        }
        let (raw, size) = readCapped(FileHandle.standardInput, limit: settings.maxMailBytes)
        guard size > 0 else { finish(65, ["outcome": "error", "reason": "mensagem vazia / empty message"]) }
        do {
            let database = try openDatabase(.fromEnvironment(service: "intake", dataDirectory: configuration.dataDirectory,
                                                             environment: configuration.environment),
                                            migrations: IntakeService.migrations)
            defer { database.close() }
            let intake = try IntakeContext(database: database, settings: settings) { _, _, _ in
                throw RPCError(.unimplemented, "the e-mail command acts as a service: it never asks workflow")
            }
            let tokens = ReplyToken(secret: try configuration.deploymentSecret())
            if size > settings.maxMailBytes {
                let receipt = try intake.receiveOversized(header: raw, sizeBytes: size, source: "pipe", tokens: tokens, bounce: bounce)
                // Answered by intake, or else by the MTA with the reason, unless no sender may be answered.
                finish(bounce != nil || receipt.readableSender.isEmpty ? 0 : 65,
                       answered(receipt, ["outcome": "too_large", "reason": reasonText(receipt.outcome), "quarantine_id": receipt.quarantineID ?? ""]))
            }
            let receipt = try intake.receive(raw: raw, source: "pipe", tokens: tokens,
                                             settings: MailIngestSettings(environment: configuration.environment), bounce: bounce)
            switch receipt.outcome {
            case .opened(let id, let code):
                finish(0, ["outcome": "opened", "ticket_id": id, "code": code])
            case .duplicate(let id, let code):
                finish(0, ["outcome": "duplicate", "ticket_id": id, "code": code])
            case .replied(let id, let code, let message):
                finish(0, ["outcome": "replied", "ticket_id": id, "code": code, "reply_id": message])
            case .rejected(let reason) where receipt.unparsable && !receipt.readableSender.isEmpty:
                // Unreadable, but a sender could be read: answered by intake, or else the MTA bounces it.
                finish(bounce != nil ? 0 : 65,
                       answered(receipt, ["outcome": "unreadable", "reason": reason, "quarantine_id": receipt.quarantineID ?? ""]))
            case .rejected(let reason) where receipt.unparsable:
                // Kept for agents: the MTA must not bounce it (we could not read who sent it).
                finish(0, ["outcome": "quarantined", "reason": reason, "quarantine_id": receipt.quarantineID ?? ""])
            case .rejected(let reason) where receipt.automatic:
                // An out-of-office or a delivery report: kept for agents, bounced by nobody (no loop).
                finish(0, answered(receipt, ["outcome": "automatic", "reason": reason, "quarantine_id": receipt.quarantineID ?? ""]))
            case .held(let reason):
                // Kept for an agent to choose the organization: nothing for the MTA to do.
                finish(0, ["outcome": "held", "reason": reason, "quarantine_id": receipt.quarantineID ?? ""])
            case .rejected(let reason):
                finish(bounce != nil ? 0 : 67,
                       answered(receipt, ["outcome": "rejected", "reason": reason, "quarantine_id": receipt.quarantineID ?? ""]))
            }
        } catch {
            finish(75, ["outcome": "error", "reason": "\(error)"])
        }
    }

    /// `fields` with intake's own answer, when it decided one: `queued` or `suppressed: <why>`.
    static func answered(_ receipt: MailReceipt, _ fields: [String: String]) -> [String: String] {
        var fields = fields
        switch receipt.bounce {
        case .queued?: fields["answer"] = "queued"
        case .suppressed(let why)?: fields["answer"] = "suppressed: \(why)"
        case nil: break
        }
        return fields
    }

    static func reasonText(_ outcome: MailOutcome) -> String {
        if case .rejected(let reason) = outcome { return reason }
        return ""
    }

    /// Reads `handle` to its end, keeping at most `limit` bytes; a longer input keeps only its
    /// first ``MailHeaders/limit`` bytes (for the header block) and is read on to its end (an MTA
    /// writing into a closed pipe would report a failure instead of our answer). The bytes kept
    /// and the whole size.
    static func readCapped(_ handle: FileHandle, limit: Int64) -> ([UInt8], Int64) {
        var kept: [UInt8] = []
        var size: Int64 = 0
        while true {
            let chunk = handle.readData(ofLength: 1 << 20)
            if chunk.isEmpty { break }
            size += Int64(chunk.count)
            if size <= limit {
                kept.append(contentsOf: chunk)
            } else if kept.count > MailHeaders.limit {
                kept.removeSubrange(MailHeaders.limit...)
            } else if kept.count < MailHeaders.limit {
                kept.append(contentsOf: chunk.prefix(MailHeaders.limit - kept.count))
            }
        }
        return (kept, size)
    }

    private static func finish(_ status: Int32, _ fields: [String: String]) -> Never {
        let data = (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])) ?? Data("{}".utf8)
        FileHandle.standardOutput.write(data + Data("\n".utf8))
        if status != 0, let reason = fields["reason"] { FileHandle.standardError.write(Data("intake ingest-mail: \(reason)\n".utf8)) }
        exit(status)
    }
}
