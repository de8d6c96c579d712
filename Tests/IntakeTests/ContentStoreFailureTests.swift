import Foundation
@testable import IntakeCore
import Messages
import RPC
import RPCTransport
import Storage
import Testing
import TestSupport

/// A failing disk under the content store is told as such (`UNAVAILABLE`, "armazenamento de
/// anexos indisponível" or "sem espaço em disco"), not as "erro interno", and leaves nothing:
/// no row, no temporary file (`ContentStoreFailures.swift`).
@Suite("Content store failures", .serialized)
struct ContentStoreFailureTests {
    @Test("an unwritable store (temporary directory, content directory) answers UNAVAILABLE with a clear message and stores nothing; a stored file gone is DATA_LOSS on download",
          arguments: TestEngines.all)
    func unwritableStore(engine: DatabaseEngine) throws {
        // Every content in a file.
        let harness = try IntakeHarness(engine, environment: ["INTAKE_INLINE_CONTENT_BYTES": "0"])
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = harness.options(IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example")))
        let root = harness.intake.contents.root
        let manager = FileManager.default

        // The temporary directory is not a directory: the upload cannot begin.
        try manager.removeItem(atPath: root + "/tmp")
        #expect(manager.createFile(atPath: root + "/tmp", contents: Data()))
        let noTemporary = rpcError { _ = try harness.upload(randomBytes(10_000, seed: 1), as: maria) }
        #expect(noTemporary?.code == .unavailable)
        #expect(noTemporary?.message == "armazenamento de anexos indisponível; tente mais tarde / attachment storage unavailable; try again later")
        try manager.removeItem(atPath: root + "/tmp")
        try manager.createDirectory(atPath: root + "/tmp", withIntermediateDirectories: true)

        // The content's directory cannot be made (a file stands where `ab/` goes): the file is
        // written, but cannot be put in place; its temporary file goes too.
        let bytes = randomBytes(10_000, seed: 2)
        let sha = sha256Hex(bytes)
        let blocker = root + "/" + sha.prefix(2)
        #expect(manager.createFile(atPath: blocker, contents: Data()))
        let noDirectory = rpcError { _ = try harness.upload(bytes, as: maria) }
        #expect(noDirectory?.code == .unavailable && noDirectory?.message.hasPrefix("armazenamento de anexos indisponível") == true,
                "\(String(describing: noDirectory))")
        #expect(harness.intake.contents.pendingUploads().isEmpty, "no temporary file left")
        #expect(try harness.count("attachments") == 0 && harness.count("contents") == 0)

        // Once the disk is fixed, the same upload works and reads back.
        try manager.removeItem(atPath: blocker)
        let stored = try harness.upload(bytes, as: maria)
        #expect(try harness.download(stored.id, as: maria) == bytes)
        // A file removed behind intake's back: the download says the content is lost.
        try manager.removeItem(atPath: harness.intake.contents.path(of: sha))
        let lost = rpcError { _ = try harness.download(stored.id, as: maria) }
        #expect(lost?.code == .dataLoss && lost?.message == "conteúdo do anexo ausente / attachment content missing", "\(String(describing: lost))")
    }

    @Test("a full disk is said to be full; the store's own text stays in the log")
    func fullDisk() {
        let full = IntakeContext.storeFailure(ContentStoreError("write failed: errno 28", code: ENOSPC))
        #expect(full.code == .unavailable)
        #expect(full.message == "sem espaço em disco para anexos; tente mais tarde / no disk space left for attachments; try again later")
        #expect(full.metadata[RPCError.causeKey] == "write failed: errno 28")
        #expect(full.status.metadata[RPCError.causeKey] == nil, "not sent")
        #expect(IntakeContext.storeFailure(ContentStoreError("quota", code: EDQUOT)).message == full.message)
        #expect(IntakeContext.storeFailure(ContentStoreError("denied", code: EACCES)).message.hasPrefix("armazenamento de anexos indisponível"))
    }
}
