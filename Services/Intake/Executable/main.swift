// The intake service executable: configuration, storage, RPC server and shutdown come from
// ServiceKit; everything intake does lives in IntakeCore.
//   intake [--port P --data-dir D ...]       run the service
//   intake ingest-mail [--data-dir D]        take in one raw e-mail from standard input
//   intake backup --to DIR [--data-dir D]    copy the database and attachment files while running
import IntakeCore
import ServiceKit

if CommandLine.arguments.count > 1 && CommandLine.arguments[1] == "ingest-mail" {
    MailCommand.run(arguments: Array(CommandLine.arguments.dropFirst(2)))
}
// Opening tickets is write-heavy: a larger SQLite writer cache, checkpoints mostly off the writer
// thread (same durability).
ServiceMain.run(name: "intake", migrations: IntakeService.migrations, databaseTuning: { IntakeService.databaseTuning($0) },
                backupFiles: ContentBackup.files,
                commands: ["ingest-mail [--data-dir D]   uma mensagem crua na entrada / one raw e-mail on standard input (docs/INTAKE.md)"]) { runtime, router in
    try IntakeService.register(runtime: runtime, router: &router)
}
