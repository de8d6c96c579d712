import Messages
import Testing

/// `Status.metadata` (field 4, 2026-12-01) during a rolling upgrade: what a reader built before it
/// makes of a new server's status. protobuf-c (every version's decoder) skips fields its
/// descriptor does not know, so such a reader sees exactly the old fields.
@Suite("Status with metadata, read by an older definition")
struct StatusCompatibilityTests {
    static func newStatus() -> RpcV1.Status {
        var violation = RpcV1.FieldViolation()
        violation.field = "contact.email"
        violation.reason = "required"
        violation.description = "Obrigatório."
        violation.descriptionEn = "Required."
        var status = RpcV1.Status()
        status.code = 14
        status.message = "banco indisponível / database unavailable"
        status.violations = [violation]
        status.metadata = ["status.handler_started": "true", "status.retry_after_ms": "1500"]
        return status
    }

    @Test("the new status is the old one's bytes plus field 4 entries: without them, byte for byte what an old server sent")
    func oldFieldsUnchanged() throws {
        let status = Self.newStatus()
        var oldForm = status
        oldForm.metadata = [:]
        let fields = try topLevelFields(of: status.serializedBytes())
        #expect(fields.filter { $0.number == 4 }.count == 2)
        #expect(fields.filter { $0.number != 4 }.flatMap(\.bytes) == oldForm.serializedBytes())
    }

    @Test("fields the definition does not know are skipped: a status with fields of a later version (9, varint; 10, bytes) decodes to what this one knows, in a Frame too")
    func unknownFieldsSkipped() throws {
        let status = Self.newStatus()
        let later = status.serializedBytes() + varintField(9, 300) + lengthDelimited(10, [1, 2, 3])
        let decoded = try RpcV1.Status(serializedBytes: later)
        #expect(decoded.code == 14 && decoded.message == status.message && decoded.violations.count == 1)
        #expect(decoded.metadata == status.metadata)
        var frame = RpcV1.Frame()
        frame.kind = .response
        frame.callID = 7
        let frameBytes = frame.serializedBytes() + lengthDelimited(7, later)
        let read = try RpcV1.Frame(serializedBytes: frameBytes)
        #expect(read.callID == 7 && read.status?.metadata == status.metadata && read.status?.violations.first?.field == "contact.email")
    }
}
