import Messages
import Testing

@Suite("Codec")
struct CodecTests {
    @Test("Frame round-trips every field through libprotobuf-c")
    func frameRoundTrip() throws {
        var frame = RpcV1.Frame()
        frame.callID = .max
        frame.kind = .goaway
        frame.method = "/ocorrencias.intake.v1.Intake/OpenTicket"
        frame.timeoutMs = 30_000
        frame.metadata = ["request-id": "r-1", "emoji": "🎫", "vazio": ""]
        frame.payload = [0, 1, 2, 255, 0]
        var status = RpcV1.Status()
        status.code = 3
        status.message = "pedido inválido"
        var violation = RpcV1.FieldViolation()
        violation.field = "contact.email"
        violation.reason = "invalid_format"
        violation.description = "E-mail inválido."
        violation.descriptionEn = "Invalid e-mail."
        status.violations = [violation, violation]
        frame.status = status
        frame.endStream = true
        frame.window = 7
        let decoded = try RpcV1.Frame(serializedBytes: frame.serializedBytes())
        #expect(decoded == frame)
    }

    @Test("default values encode to zero bytes and decode back")
    func defaults() throws {
        #expect(RpcV1.Frame().serializedBytes().isEmpty)
        #expect(try RpcV1.Frame(serializedBytes: [UInt8]()) == RpcV1.Frame())
    }

    @Test("built-in messages round-trip")
    func builtins() throws {
        var health = RpcV1.HealthCheckResponse()
        health.status = .notServing
        health.detail = "banco de dados indisponível"
        #expect(try RpcV1.HealthCheckResponse(serializedBytes: health.serializedBytes()) == health)
        var list = RpcV1.ListMethodsResponse()
        list.service = "intake"
        var info = RpcV1.MethodInfo()
        info.name = "/x/Y"
        info.requestType = "a.B"
        info.responseType = "a.C"
        info.clientStreaming = true
        list.methods = [info]
        #expect(try RpcV1.ListMethodsResponse(serializedBytes: list.serializedBytes()) == list)
        var echo = RpcV1.EchoRequest()
        echo.payload = Array(repeating: 7, count: 100_000)
        #expect(try RpcV1.EchoRequest(serializedBytes: echo.serializedBytes()) == echo)
    }

    @Test("unknown enum values decode to the zero value")
    func unknownEnum() throws {
        // field 2 (kind), varint 99
        let frame = try RpcV1.Frame(serializedBytes: [0x10, 99])
        #expect(frame.kind == .unspecified)
    }

    @Test("malformed bytes throw", arguments: [
        [0x0a] as [UInt8],                  // length-delimited field without length
        [0x1a, 0x05, 0x61],                 // string longer than the buffer
        [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // varint too long
        [0x0b],                             // start group (unsupported)
    ])
    func malformed(bytes: [UInt8]) {
        #expect(throws: ProtoDecodingError.self) { try RpcV1.Frame(serializedBytes: bytes) }
    }

    @Test("length-prefixed encoding carries the exact size")
    func lengthPrefix() {
        var echo = RpcV1.EchoRequest()
        echo.payload = Array(repeating: 1, count: 300)
        var buffer: [UInt8] = [9]
        let size = echo.appendLengthPrefixed(to: &buffer)
        #expect(size == echo.serializedSize())
        #expect(buffer.count == 1 + 4 + size)
        let announced = Int(buffer[1]) << 24 | Int(buffer[2]) << 16 | Int(buffer[3]) << 8 | Int(buffer[4])
        #expect(announced == size)
    }
}

@Suite("Codec: oneofs, maps, nested enums")
struct CodecShapesTests {
    static func ticket() -> BenchV1.TicketSample {
        var t = BenchV1.TicketSample()
        t.id = "6f1c2a9e-0b7d-4c2e-9a51-3d8e2f4b7c10"
        t.code = "2026-000123"
        t.organizationID = "org-42"
        t.contactID = "contact-7"
        t.category = .exigenciaFiscal
        t.priority = .urgente
        t.subject = "Erro na emissão da NF-e após atualização"
        t.request = "Ao emitir a nota fiscal o sistema trava na tela de transmissão."
        t.openedAtMs = 1_795_000_000_000
        t.customFields = ["versao": "12.1.2310", "banco": "SQL Server"]
        t.tags = ["nfe", "fiscal"]
        t.dueAtMs = 1_795_100_000_000
        t.origin = .agentID("agent-3")
        return t
    }

    @Test("every field kind round-trips")
    func roundTrip() throws {
        let t = Self.ticket()
        #expect(try BenchV1.TicketSample(serializedBytes: t.serializedBytes()) == t)
        var other = t
        other.origin = .representativeID("rep-1")
        other.dueAtMs = nil
        let decoded = try BenchV1.TicketSample(serializedBytes: other.serializedBytes())
        #expect(decoded == other)
        #expect(decoded.dueAtMs == nil)
    }

    @Test("presence of a zero value in a one-field oneof is kept")
    func presenceOfZero() throws {
        var t = BenchV1.TicketSample()
        t.dueAtMs = 0
        #expect(try BenchV1.TicketSample(serializedBytes: t.serializedBytes()).dueAtMs == 0)
    }
}
