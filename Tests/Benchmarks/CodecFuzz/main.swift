// A seeded random-input loop over frame decoding and message decoding: mutated valid frames,
// random bytes and random length prefixes. Any crash fails the run; malformed input must throw.
//   swift run -c release codec-fuzz [--iterations 1000000] [--seed 42]
import Foundation
import Messages
import RPC
import TestSupport

func argument(_ name: String, default value: UInt64) -> UInt64 {
    CommandLine.arguments.firstIndex(of: name).flatMap { UInt64(CommandLine.arguments[$0 + 1]) } ?? value
}


let iterations = argument("--iterations", default: 1_000_000)
var random = SplitMix64(state: argument("--seed", default: 42))

var seedFrame = RpcV1.Frame()
seedFrame.callID = 7
seedFrame.kind = .request
seedFrame.method = "/ocorrencias.bench.v1.Bench/Call"
seedFrame.metadata = ["request-id": "r", "trace-id": "t"]
var status = RpcV1.Status()
status.code = 3
var violation = RpcV1.FieldViolation()
violation.field = "subject"
status.violations = [violation]
seedFrame.status = status
var ticket = BenchV1.TicketSample()
ticket.subject = "Erro na emissão"
ticket.customFields = ["a": "b"]
ticket.origin = .agentID("x")
seedFrame.payload = ticket.serializedBytes()
var seedBytes: [UInt8] = []
seedFrame.appendLengthPrefixed(to: &seedBytes)

var frames = 0, frameErrors = 0, messages = 0, messageErrors = 0
let start = Date()
for i in 0..<iterations {
    var input: [UInt8]
    switch random.below(3) {
    case 0:  // mutate a valid frame
        input = seedBytes
        for _ in 0...random.below(8) {
            let position = random.below(input.count)
            switch random.below(3) {
            case 0: input[position] = UInt8(truncatingIfNeeded: random.next())
            case 1: input.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
            default: if input.count > 1 { input.remove(at: position) }
            }
        }
    case 1:  // random bytes
        input = (0..<random.below(64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    default:  // random length prefix followed by random body
        let length = UInt32(truncatingIfNeeded: random.next()) >> UInt32(random.below(32))
        input = withUnsafeBytes(of: length.bigEndian, Array.init) + (0..<random.below(128)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }
    var decoder = FrameDecoder(maxFrameSize: 1 << 16)
    // Feed in random slices to exercise partial frames.
    var offset = 0
    decoding: while offset < input.count {
        let take = min(input.count - offset, 1 + random.below(32))
        decoder.append(Array(input[offset..<(offset + take)]))
        offset += take
        do {
            while let frame = try decoder.next() {
                frames += 1
                do {
                    _ = try BenchV1.TicketSample(serializedBytes: frame.payload)
                    messages += 1
                } catch { messageErrors += 1 }
            }
        } catch {
            frameErrors += 1
            break decoding
        }
    }
    do {
        _ = try BenchV1.TicketSample(serializedBytes: input)
        messages += 1
    } catch { messageErrors += 1 }
    if i % 200_000 == 0 && i > 0 { print("… \(i) inputs") }
}
let elapsed = Date().timeIntervalSince(start)
print("fuzz: \(iterations) inputs in \(String(format: "%.1f", elapsed)) s, no crash; frames decoded \(frames), frame errors \(frameErrors), messages decoded \(messages), message errors \(messageErrors)")
