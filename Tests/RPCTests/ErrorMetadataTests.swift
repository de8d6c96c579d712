import Messages
import RPC
import Testing

/// What of an error's metadata travels (`status.*` only, within limits), and the two wire forms of
/// the handler-started and response-too-large markers during a rolling upgrade: an old server's
/// marker violation read by a new client here; a new server's metadata read by an old client
/// (field 4 of `Status`, unknown to it, skipped) in `MessagesTests.StatusCompatibilityTests`.
@Suite("Error metadata on the wire")
struct ErrorMetadataTests {
    static let legacyHandlerStarted = FieldViolation(field: "", reason: "handler_started",
                                                     pt: "O serviço já tinha começado a chamada: repita-a só com chave de idempotência.",
                                                     en: "The service had started the call: repeat it only with an idempotency key.")
    static let legacyResponseTooLarge = FieldViolation(field: "", reason: "response_too_large",
                                                       pt: "A resposta (5000000 bytes) passa do limite de uma chamada (4194304 bytes, OCORRENCIAS_RPC_MAX_FRAME_BYTES).",
                                                       en: "The answer (5000000 bytes) is larger than one call may carry (4194304 bytes, OCORRENCIAS_RPC_MAX_FRAME_BYTES).")

    /// `status` read back as a client reads it: encoded, decoded, turned into an error.
    static func overTheWire(_ status: RpcV1.Status) throws -> RPCError? {
        RPCError(status: try RpcV1.Status(serializedBytes: status.serializedBytes()))
    }

    @Test("only status.* keys travel: server.cause (the logged cause of INTERNAL) and the client's transport.* never do")
    func onlyStatusKeysTravel() throws {
        let error = RPCError(.unavailable, "banco de dados indisponível no momento / the database is unavailable right now", metadata: [
            RPCError.causeKey: "StorageError.busy: database is locked at /var/lib/ocorrencias/intake.sqlite",
            "transport.sent": "false", "idempotency-key": "k-1",
            ErrorMetadata.handlerStarted: "true", ErrorMetadata.retryAfterMilliseconds: "1500",
        ])
        #expect(error.status.metadata == [ErrorMetadata.handlerStarted: "true", ErrorMetadata.retryAfterMilliseconds: "1500"])
        #expect(error.status.metadata[RPCError.causeKey] == nil)
        let read = try #require(try Self.overTheWire(error.status))
        #expect(read.metadata == [ErrorMetadata.handlerStarted: "true", ErrorMetadata.retryAfterMilliseconds: "1500"])
        #expect(read.handlerStarted && read.retryAfterMilliseconds == 1500 && read.violations.isEmpty)
        // The same rule on reading: whatever a server sends outside status.* is dropped.
        var sent = RpcV1.Status()
        sent.code = RPCStatusCode.unavailable.rawValue
        sent.metadata = ["transport.sent": "false", RPCError.causeKey: "x", ErrorMetadata.retryAfterMilliseconds: "20"]
        #expect(try Self.overTheWire(sent)?.metadata == [ErrorMetadata.retryAfterMilliseconds: "20"])
    }

    @Test("at most 16 entries, keys up to 64 bytes, values up to 256: the known keys are kept first, then the others in key order")
    func limits() {
        var metadata: [String: String] = [:]
        for index in 0..<40 { metadata["status.extra_\(index < 10 ? "0" : "")\(index)"] = "v" }
        metadata["status." + String(repeating: "k", count: 60)] = "long key"
        metadata["status.long_value"] = String(repeating: "é", count: 200)
        metadata[ErrorMetadata.handlerStarted] = "true"
        metadata[ErrorMetadata.retryAfterMilliseconds] = "1000"
        let kept = ErrorMetadata.wire(metadata)
        #expect(kept.count == ErrorMetadata.maxEntries)
        #expect(kept[ErrorMetadata.handlerStarted] == "true" && kept[ErrorMetadata.retryAfterMilliseconds] == "1000")
        #expect(kept["status.extra_00"] == "v" && kept["status.extra_13"] == "v" && kept["status.extra_14"] == nil)
        #expect(kept.keys.allSatisfy { $0.utf8.count <= ErrorMetadata.maxKeyBytes }, "a 67-byte key is dropped")
        #expect(kept["status.long_value"] == nil, "a 400-byte value is dropped")
        #expect(ErrorMetadata.wire(["status.a": "1", "status.b": "2"]) == ["status.a": "1", "status.b": "2"])
    }

    @Test("retry-after is a positive number of milliseconds, or nothing")
    func retryAfter() {
        for (value, expected) in [("2500", 2500), ("0", nil), ("-3", nil), ("soon", nil), ("", nil)] as [(String, Int?)] {
            #expect(RPCError(.unavailable, "x", metadata: [ErrorMetadata.retryAfterMilliseconds: value]).retryAfterMilliseconds == expected, "\(value)")
        }
        #expect(RPCError(.unavailable, "x").retryAfterMilliseconds == nil)
    }

    @Test("old form → new reader: an older server's marker violation (empty field) becomes the metadata and leaves the violations; a real field's violation stays")
    func oldServerNewClient() throws {
        let started = try #require(try Self.overTheWire(RPCError(.unavailable, "banco indisponível / database unavailable",
                                                                 violations: [Self.legacyHandlerStarted]).status))
        #expect(started.handlerStarted && started.violations.isEmpty && started.metadata == [ErrorMetadata.handlerStarted: "true"])
        let large = try #require(try Self.overTheWire(RPCError(.resourceExhausted, "resposta grande demais / response too large",
                                                               violations: [Self.legacyResponseTooLarge]).status))
        #expect(large.isResponseTooLarge && large.violations.isEmpty)
        // Only with the code that carried it, and only with an empty field.
        let invalid = FieldViolation(field: "subject", reason: "handler_started", pt: "?", en: "?")
        let argument = try #require(try Self.overTheWire(RPCError(.invalidArgument, "inválido / invalid", violations: [invalid, Self.legacyHandlerStarted]).status))
        #expect(!argument.handlerStarted && argument.violations.count == 2 && argument.metadata.isEmpty)
        let exhausted = try #require(try Self.overTheWire(RPCError(.resourceExhausted, "janela / window", violations: [Self.legacyHandlerStarted]).status))
        #expect(!exhausted.handlerStarted && !exhausted.isResponseTooLarge && exhausted.violations.count == 1)
    }

    @Test("new form → new reader: the markers and retry-after come back from a Frame's status as they were sent (the old reader's side: MessagesTests.StatusCompatibilityTests)")
    func newServerNewClient() throws {
        var frame = RpcV1.Frame()
        frame.kind = .response
        frame.callID = 7
        frame.status = RPCError(.unavailable, "banco indisponível / database unavailable",
                                metadata: [ErrorMetadata.handlerStarted: "true", ErrorMetadata.retryAfterMilliseconds: "1500"]).status
        let read = try RpcV1.Frame(serializedBytes: frame.serializedBytes())
        let error = try #require(RPCError(status: read.status))
        #expect(error.handlerStarted && error.retryAfterMilliseconds == 1500 && error.violations.isEmpty && read.callID == 7)
    }
}
