import Foundation
import GatewayCore
import Messages
import Testing

@Suite("JSON request bodies read straight into protobuf messages")
struct ProtoJSONReaderTests {
    /// Bodies the direct reader takes: it must pack exactly what the dictionary path packs.
    static let taken: [String] = [
        #"{}"#,
        #" { "i32" : -7 , "i64": 9223372036854775807, "u32": 4294967295, "u64": 9000000000000000000, "s32": -2147483648, "s64": -9223372036854775808 } "#,
        #"{"sf32": -9, "sf64": -10, "flag": true, "text": "aspas \" barra \\ nova\nlinha\ttab \u0001 ç ação 日本 🙂 \ud83d\ude42 </script> \/", "blob": "AAEC/w=="}"#,
        #"{"color": "GREEN", "item": {"name": "x", "count": 2, "blob": "", "leaves": [{"name": "a"}, {"name": ""}], "leaf": {"name": "l"}}}"#,
        #"{"r_i32": [1, -2], "r_i64": [3], "r_u32": [], "r_u64": [5], "r_s32": [-6], "r_s64": [-7], "r_sf32": [-10], "r_sf64": [-11]}"#,
        #"{"r_flag": [true, false], "r_text": ["um", "\"dois\""], "r_blob": ["AQ=="], "r_color": ["RED", "GREEN"], "r_item": [{"name": "i"}, {}]}"#,
        #"{"m_text": [{"key": "k", "value": "v"}], "m_i32": [{"key": 1, "value": "um"}], "m_item": [{"key": 2, "value": {"name": "n"}}]}"#,
        #"{"c_item": {"name": "escolhido"}, "opt_text": "", "text": null, "unknown_but_null": null, "i32": 0, "i64": -0}"#,
    ]

    /// Bodies it leaves to the dictionary path (which accepts some, refuses others).
    static let leftToDictionaryPath: [String] = [
        "", " ", "[]", "{", #"{"i32": 1,}"#, #"{"i32": 1} x"#, #"{"nope": 1}"#, #"{"i32": 1, "i32": 2}"#, #"{"x": null, "x": null}"#,
        #"{"i32": 1.0}"#, #"{"i32": 1e2}"#, #"{"i32": "5"}"#, #"{"i32": 2147483648}"#, #"{"u32": -1}"#, #"{"i32": 01}"#,
        #"{"i64": 99999999999999999999}"#, #"{"flag": 1}"#, #"{"color": 7}"#, #"{"color": "PURPLE"}"#, #"{"fl": 1.5}"#, #"{"db": 2}"#,
        #"{"text": "\u0000"}"#, #"{"text": "\ud800"}"#, #"{"text": "\x"}"#, "{\"text\": \"a\u{01}b\"}", #"{"blob": "%%%"}"#,
        #"{"r_text": ["a", null]}"#, #"{"item": []}"#, #"{"r_i32": 1}"#, "\u{FEFF}{}",
    ]

    @Test("the same bytes as JSONSerialization and the dictionary path, for every field shape; nil for what it does not take")
    func sameAsDictionaryPath() throws {
        let shapes = BenchV1.CodecShapes._descriptor.pointer
        for text in Self.taken {
            let direct = try #require(ProtoJSON.encodeDirect(Array(text.utf8), as: shapes), "taken: \(text)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            #expect(direct == (try ProtoJSON.encode(object, as: shapes)), "\(text)")
        }
        for text in Self.leftToDictionaryPath {
            #expect(ProtoJSON.encodeDirect(Array(text.utf8), as: shapes) == nil, "left: \(text)")
        }
        // Invalid UTF-8 in a string.
        #expect(ProtoJSON.encodeDirect(Array(#"{"text": ""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8), as: shapes) == nil)
    }

    @Test("a ticket open as clients send it")
    func ticketOpen() throws {
        let text = #"{"subject":"Nota fiscal não transmite","category":"PROBLEMA","priority":"NORMAL","product":"ERP","module":"Fiscal","request":"Ao transmitir a NF-e a rotina devolve erro 539.","attachment_ids":["a","b"],"details":{}}"#
        let descriptor = IntakeV1.OpenTicketRequest._descriptor.pointer
        let direct = try #require(ProtoJSON.encodeDirect(Array(text.utf8), as: descriptor))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(direct == (try ProtoJSON.encode(object, as: descriptor)))
        let request = try IntakeV1.OpenTicketRequest(serializedBytes: direct)
        #expect(request.subject == "Nota fiscal não transmite")
        #expect(request.priority == .normal)
        #expect(request.attachmentIDs == ["a", "b"])
    }
}
