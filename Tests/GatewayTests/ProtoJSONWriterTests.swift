import Foundation
import GatewayCore
import Messages
import Testing

@Suite("JSON text straight from protobuf messages")
struct ProtoJSONWriterTests {
    /// Every field shape the code generator supports, set from JSON (escapes, non-ASCII text,
    /// extreme numbers, unknown enum numbers, maps, oneofs, nested and repeated messages).
    nonisolated(unsafe) static let shapes: [String: Any] = [
        "i32": -7, "i64": Int64.max, "u32": UInt32.max, "u64": 18_000_000_000_000_000_000 as UInt64, "s32": Int32.min, "s64": Int64.min,
        "f32": 7, "f64": 8, "sf32": -9, "sf64": -10, "fl": 1.5, "db": 3.25e-7, "flag": true,
        "text": "aspas \" barra \\ nova\nlinha\ttab \u{01} ç ação 日本 🙂 </script>", "blob": "AAEC/w==", "color": 7,
        "item": ["name": "x", "count": 2, "blob": "", "leaves": [["name": "a"], ["name": ""]], "leaf": ["name": "l"]],
        "r_i32": [1, -2], "r_i64": [3], "r_u32": [4], "r_u64": [5], "r_s32": [-6], "r_s64": [-7], "r_f32": [8], "r_f64": [9],
        "r_sf32": [-10], "r_sf64": [-11], "r_fl": [0.5], "r_db": [1e300, -0.0], "r_flag": [true, false], "r_text": ["um", "\"dois\""],
        "r_blob": ["AQ=="], "r_color": ["RED", "GREEN", 9], "r_item": [["name": "i"], [:]],
        "m_text": [["key": "k", "value": "v"]], "m_i32": [["key": 1, "value": "um"]], "m_item": [["key": 2, "value": ["name": "n"]]],
        "m_color": [["key": "c", "value": "RED"]], "m_blob": [["key": true, "value": "Ag=="]], "m_db": [["key": -3, "value": 2.5]],
        "c_item": ["name": "escolhido"], "opt_text": "",
    ]

    @Test("the same bytes as decoding to a dictionary and writing it, for every field shape and for empty messages")
    func sameAsDictionaryPath() throws {
        let shapes = BenchV1.CodecShapes._descriptor.pointer
        for json in [Self.shapes, [:], ["c_db": 0.1, "opt_item": [:] as [String: Any]]] {
            let bytes = try ProtoJSON.encode(json, as: shapes)
            let direct = try ProtoJSON.jsonText(bytes, as: shapes)
            let viaDictionary = JSONWriter.data(try ProtoJSON.decode(bytes, as: shapes))
            #expect(String(decoding: direct, as: UTF8.self) == String(decoding: viaDictionary, as: UTF8.self))
            #expect(try JSONSerialization.jsonObject(with: Data(direct)) is [String: Any], "valid JSON")
        }
    }

    @Test("a ticket view as the gateway sends it, with the top-level id captured from the same decoding")
    func ticketView() throws {
        var view = WorkflowV1.TicketView()
        var row = WorkflowV1.TicketRow()
        row.ticketID = "t-1"
        row.subject = "Nota \"fiscal\" <b>"
        row.priority = .alta
        row.slaState = "at_risk"
        row.slaDueAtMs = 1_790_000_000_000
        view.row = row
        var entry = WorkflowV1.DiscussionEntry()
        entry.text = "linha 1\nlinha 2"
        entry.isPublic = true
        view.discussion = [entry, entry]
        let bytes = view.serializedBytes()
        let descriptor = WorkflowV1.TicketView._descriptor.pointer
        let direct = try ProtoJSON.jsonText(bytes, as: descriptor, capturing: "solution")
        #expect(direct.json == JSONWriter.data(try ProtoJSON.decode(bytes, as: descriptor)))
        #expect(direct.captured == "")
        var ticket = IntakeV1.Ticket()
        ticket.id = "id-çã"
        #expect(try ProtoJSON.jsonText(ticket.serializedBytes(), as: IntakeV1.Ticket._descriptor.pointer, capturing: "id").captured == "id-çã")
        #expect(throws: ProtoJSON.Failure.self) { try ProtoJSON.jsonText([0xFF, 0xFF, 0xFF], as: descriptor) }
    }
}
