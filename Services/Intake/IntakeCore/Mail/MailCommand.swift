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
/// 67 `EX_NOUSER` rejected (unknown or foreign sender: the MTA bounces it with the reason; the
/// message is also held for agents), 65 `EX_DATAERR` empty input, 75 `EX_TEMPFAIL` storage
/// unavailable (the MTA retries later), 78 `EX_CONFIG` bad configuration.
public enum MailCommand {
    public static func run(arguments: [String]) -> Never {
        let configuration: ServiceConfiguration
        let settings: IntakeSettings
        do {
            configuration = try ServiceConfiguration(serviceName: "intake", arguments: ["intake"] + arguments)
            settings = try IntakeSettings(environment: configuration.environment, dataDirectory: configuration.dataDirectory)
        } catch {
            finish(78, ["outcome": "error", "reason": "\(error)"])
        }
        let raw = Array(FileHandle.standardInput.readDataToEndOfFile())
        guard !raw.isEmpty else { finish(65, ["outcome": "error", "reason": "mensagem vazia / empty message"]) }
        do {
            let database = try openDatabase(.fromEnvironment(service: "intake", dataDirectory: configuration.dataDirectory,
                                                             environment: configuration.environment),
                                            migrations: IntakeService.migrations)
            defer { database.close() }
            let intake = try IntakeContext(database: database, settings: settings) { _, _ in
                throw RPCError(.unimplemented, "the e-mail command never changes contacts")
            }
            let receipt = try intake.receive(raw: raw, source: "pipe", tokens: ReplyToken(secret: try configuration.deploymentSecret()),
                                             settings: MailIngestSettings(environment: configuration.environment))
            switch receipt.outcome {
            case .opened(let id, let code):
                finish(0, ["outcome": "opened", "ticket_id": id, "code": code])
            case .duplicate(let id, let code):
                finish(0, ["outcome": "duplicate", "ticket_id": id, "code": code])
            case .replied(let id, let code, let message):
                finish(0, ["outcome": "replied", "ticket_id": id, "code": code, "reply_id": message])
            case .rejected(let reason) where receipt.unparsable:
                // Kept for agents: the MTA must not bounce it (we could not read who sent it).
                finish(0, ["outcome": "quarantined", "reason": reason, "quarantine_id": receipt.quarantineID ?? ""])
            case .held(let reason):
                // Kept for an agent to choose the organization: nothing for the MTA to do.
                finish(0, ["outcome": "held", "reason": reason, "quarantine_id": receipt.quarantineID ?? ""])
            case .rejected(let reason):
                finish(67, ["outcome": "rejected", "reason": reason, "quarantine_id": receipt.quarantineID ?? ""])
            }
        } catch {
            finish(75, ["outcome": "error", "reason": "\(error)"])
        }
    }

    private static func finish(_ status: Int32, _ fields: [String: String]) -> Never {
        let data = (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])) ?? Data("{}".utf8)
        FileHandle.standardOutput.write(data + Data("\n".utf8))
        if status != 0, let reason = fields["reason"] { FileHandle.standardError.write(Data("intake ingest-mail: \(reason)\n".utf8)) }
        exit(status)
    }
}
