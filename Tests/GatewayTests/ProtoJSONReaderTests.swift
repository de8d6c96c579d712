import Foundation
import CMessages
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

@Suite("JSON numbers and wrong types on the dictionary path")
struct ProtoJSONNumberTests {
    static func failure(_ text: String, _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>) -> ProtoJSON.Failure? {
        let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
        do {
            _ = try ProtoJSON.encode(object, as: descriptor)
            return nil
        } catch {
            return error as? ProtoJSON.Failure
        }
    }

    @Test("a number out of its field's range or with a fraction is refused naming the field (never wrapped nor rounded); whole numbers as text or 1.0 / 1e2 still pass")
    func exactIntegers() throws {
        let shapes = BenchV1.CodecShapes._descriptor.pointer
        for (text, field) in [(#"{"i32": 2147483648}"#, "i32"), (#"{"i32": -2147483649}"#, "i32"), (#"{"u32": -1}"#, "u32"),
                              (#"{"u32": 4294967296}"#, "u32"), (#"{"i64": 99999999999999999999}"#, "i64"), (#"{"u64": -5}"#, "u64"),
                              (#"{"i32": 1.5}"#, "i32"), (#"{"i32": "2.5"}"#, "i32"), (#"{"i32": "99999999999"}"#, "i32"),
                              (#"{"item": {"count": 4294967296}}"#, "item.count"), (#"{"r_i32": [1, 3000000000]}"#, "r_i32[1]"),
                              (#"{"color": 4294967297}"#, "color")] {
            let failure = try #require(Self.failure(text, shapes), "accepted: \(text)")
            #expect(failure.field == field, "\(text): \(failure.field)")
            #expect(failure.pt.hasPrefix("esperava um número inteiro") && failure.en.hasPrefix("expected a whole number"), "\(failure)")
        }
        for text in [#"{"i32": 1.0}"#, #"{"i32": 1e2}"#, #"{"i32": "5"}"#, #"{"i32": -2147483648}"#, #"{"u32": 4294967295}"#,
                     #"{"i64": 9223372036854775807}"#, #"{"u64": 18446744073709551615}"#, #"{"i64": "-9223372036854775808"}"#] {
            #expect(Self.failure(text, shapes) == nil, "refused: \(text)")
        }
        let agent = try ProtoJSON.encode(["agent": ["id": "a", "max_access_level": 3.0]], as: WorkflowV1.PutAgentRequest._descriptor.pointer)
        #expect(try WorkflowV1.PutAgentRequest(serializedBytes: agent).agent?.maxAccessLevel == 3)
        let wrapped = try #require(Self.failure(#"{"agent": {"id": "a", "max_access_level": 99999999999}}"#,
                                                WorkflowV1.PutAgentRequest._descriptor.pointer))
        #expect(wrapped.field == "agent.max_access_level")
    }

    @Test("a wrong type, an unknown enum value or a NUL inside a string names the field, with the Portuguese and the English text apart")
    func wrongTypes() throws {
        let organization = IntakeV1.Organization._descriptor.pointer
        for (text, field, pt, en) in [(#"{"name": 123}"#, "name", "esperava texto", "expected a string"),
                                      (#"{"active": "yes"}"#, "active", "esperava true/false", "expected a boolean"),
                                      (#"{"kind": "CLIENTE"}"#, "kind", "valor desconhecido CLIENTE", "unknown value CLIENTE"),
                                      (#"{"bogus": 1}"#, "bogus", "campo desconhecido", "unknown field"),
                                      // Stored as a C string it would end at the NUL, the rest lost.
                                      (#"{"name": "antes\u0000depois"}"#, "name", "texto com o caractere NUL", "text with the NUL character")] {
            let failure = try #require(Self.failure(text, organization), "accepted: \(text)")
            #expect(failure.field == field && failure.pt.hasPrefix(pt) && failure.en.hasPrefix(en), "\(text): \(failure)")
            #expect(!failure.pt.contains(" / ") && !failure.en.contains("esperava"), "\(failure)")
        }
        let nested = try #require(Self.failure(#"{"agent": "x"}"#, WorkflowV1.PutAgentRequest._descriptor.pointer))
        #expect(nested.field == "agent" && nested.pt == "esperava um objeto" && nested.en == "expected an object")
        #expect(nested.description == "agent: esperava um objeto / expected an object")
    }
}
