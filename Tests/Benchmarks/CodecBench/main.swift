// Measures encode+decode of a typical ticket message through the generated Swift glue and
// libprotobuf-c, and libprotobuf-c alone on the same bytes, on one core.
//   swift run -c release codec-bench [--seconds 3]
import CMessages
import Foundation
import Messages

let seconds = CommandLine.arguments.firstIndex(of: "--seconds").flatMap { Double(CommandLine.arguments[$0 + 1]) } ?? 3

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
let bytes = ticket.serializedBytes()

func measure(_ name: String, _ body: () -> Void) -> Double {
    // Warm up, then run for `seconds`.
    for _ in 0..<10_000 { body() }
    var iterations = 0
    let start = Date()
    while Date().timeIntervalSince(start) < seconds {
        for _ in 0..<10_000 { body() }
        iterations += 10_000
    }
    let rate = Double(iterations) / Date().timeIntervalSince(start)
    print(String(format: "%-38@ %10.0f ops/s", name as NSString, rate))
    return rate
}

print("message: ocorrencias.bench.v1.TicketSample, \(bytes.count) bytes")
var sink = 0
let swift = measure("swift encode+decode (generated glue)") {
    let encoded = ticket.serializedBytes()
    let decoded = try! BenchV1.TicketSample(serializedBytes: encoded)
    sink &+= decoded.subject.utf8.count
}
let descriptor = BenchV1.TicketSample._descriptor.pointer
let c = measure("libprotobuf-c alone unpack+pack") {
    bytes.withUnsafeBufferPointer { input in
        let message = protobuf_c_message_unpack(descriptor, nil, input.count, input.baseAddress)!
        var out = [UInt8](repeating: 0, count: input.count)
        sink &+= protobuf_c_message_pack(message, &out)
        protobuf_c_message_free_unpacked(message, nil)
    }
}
print(String(format: "ratio swift/c: %.2f", swift / c))
print("{\"bytes\":\(bytes.count),\"swift_ops\":\(Int(swift)),\"c_ops\":\(Int(c)),\"ratio\":\(String(format: "%.2f", swift / c)),\"sink\":\(sink % 10)}")
