// Measures encode+decode of a typical ticket message through the generated Swift glue and
// libprotobuf-c, encode and decode separately, and libprotobuf-c alone on the same bytes, on one
// core. The last line is JSON (`swift_ops` = Swift encode+decode, `c_ops` = C unpack+pack).
//   swift build -c release --product codec-bench && .build/release/codec-bench [--seconds 3]
// `--only roundtrip|encode|decode|c` runs one measurement (for profilers such as callgrind); any
// other value (e.g. `none`) runs none, a start-up baseline. `--iterations N` runs each measurement
// exactly N times instead of for a duration (instructions per operation under callgrind: the
// difference between two values of N). See docs/CODEC.md.
import CMessages
import Foundation
import Messages

func option(_ name: String) -> String? {
    CommandLine.arguments.firstIndex(of: name).flatMap { $0 + 1 < CommandLine.arguments.count ? CommandLine.arguments[$0 + 1] : nil }
}
let seconds = option("--seconds").flatMap(Double.init) ?? 3
let only = option("--only")
let fixedIterations = option("--iterations").flatMap(Int.init)

/// The ticket every measurement encodes; a `let`, so the loops borrow it instead of copying it.
func sampleTicket() -> BenchV1.TicketSample {
    var ticket = BenchV1.TicketSample()
    ticket.id = "6f1c2a9e-0b7d-4c2e-9a51-3d8e2f4b7c10"
    ticket.code = "2026-000123"
    ticket.organizationID = "org-0042"
    ticket.contactID = "contact-0007"
    ticket.category = .problema
    ticket.priority = .alta
    ticket.subject = "Erro na emissão da NF-e após atualização"
    ticket.request = "Ao emitir a nota fiscal o sistema trava na tela de transmissão desde a versão 12.1."
    ticket.openedAtMs = 1_795_000_000_000
    ticket.customFields = ["versao": "12.1.2310"]
    ticket.tags = ["nfe"]
    return ticket
}
let ticket = sampleTicket()
let bytes = ticket.serializedBytes()
precondition((try? BenchV1.TicketSample(serializedBytes: bytes)) == ticket, "round trip failed")

/// Operations per second of `body`, run in batches of 10 000 for `seconds` after a warm-up.
func measure(_ name: String, key: String, _ body: () -> Void) -> Double {
    if let only, only != key { return 0 }
    if let fixedIterations {
        for _ in 0..<fixedIterations { body() }
        return Double(fixedIterations)
    }
    for _ in 0..<10_000 { body() }
    var iterations = 0
    let start = Date()
    while Date().timeIntervalSince(start) < seconds {
        for _ in 0..<10_000 { body() }
        iterations += 10_000
    }
    let rate = Double(iterations) / Date().timeIntervalSince(start)
    print(String(format: "%-44@ %10.0f ops/s", name as NSString, rate))
    return rate
}

print("message: ocorrencias.bench.v1.TicketSample, \(bytes.count) bytes")
var sink = 0
let swift = measure("swift encode+decode (generated glue)", key: "roundtrip") {
    let encoded = ticket.serializedBytes()
    let decoded = try! BenchV1.TicketSample(serializedBytes: encoded)
    sink &+= decoded.subject.utf8.count
}
let encode = measure("swift encode only (serializedBytes)", key: "encode") {
    sink &+= ticket.serializedBytes().count
}
let decode = measure("swift decode only (init(serializedBytes:))", key: "decode") {
    let decoded = try! BenchV1.TicketSample(serializedBytes: bytes)
    sink &+= decoded.subject.utf8.count
}
let descriptor = BenchV1.TicketSample._descriptor.pointer
let c = measure("libprotobuf-c alone unpack+pack", key: "c") {
    bytes.withUnsafeBufferPointer { input in
        let message = protobuf_c_message_unpack(descriptor, nil, input.count, input.baseAddress)!
        var out = [UInt8](repeating: 0, count: input.count)
        sink &+= protobuf_c_message_pack(message, &out)
        protobuf_c_message_free_unpacked(message, nil)
    }
}
let ratio = c > 0 ? swift / c : 0
print(String(format: "ratio swift/c: %.2f", ratio))
print("{\"bytes\":\(bytes.count),\"swift_ops\":\(Int(swift)),\"swift_encode_ops\":\(Int(encode)),\"swift_decode_ops\":\(Int(decode)),\"c_ops\":\(Int(c)),\"ratio\":\(String(format: "%.2f", ratio)),\"sink\":\(sink % 10)}")
