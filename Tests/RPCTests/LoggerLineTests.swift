import Foundation
import Observability
import Testing

@Suite("JSON log lines")
struct LoggerLineTests {
    @Test("a field named like a line key (service, msg, level, ts) is written as field.<name>: every key once, the line's own service kept")
    func reservedKeys() throws {
        let line = Logger.render(service: "gateway", level: .info, message: "view cache feed open",
                                 fields: ["service": "intake", "msg": "x", "address": "127.0.0.1:7101"])
        #expect(line.components(separatedBy: "\"service\":").count == 2, "\(line)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["service"] as? String == "gateway" && object["msg"] as? String == "view cache feed open")
        #expect(object["field.service"] as? String == "intake" && object["field.msg"] as? String == "x")
        #expect(object["address"] as? String == "127.0.0.1:7101")
    }
}
