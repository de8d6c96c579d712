import Foundation

extension MailMessage {
    /// MIME entities (Content-Type fields) a message may have. Real mail has a few dozen at most;
    /// GMime's time grows with the square of the nesting depth (60,000 nested multiparts, 4 MB:
    /// 11 s) and its memory with the number of parts (100,000 parts, 5 MB: 220 MB), and each part
    /// would become a stored file.
    public static let maxParts = 500
    /// Bytes of the top-level header block (real ones: a few KiB, Exchange's up to ~50 KiB).
    public static let maxHeaderBytes = 1 << 20

    /// Refuses, before GMime reads it, a message over ``maxParts`` or ``maxHeaderBytes``: a MIME
    /// or header bomb is held in the quarantine with a clear reason instead of keeping intake busy.
    /// One pass over the bytes, counting the lines that start a `Content-Type` field (any case,
    /// blanks before the colon and a folded value allowed) in two ways, each at most ``maxParts``:
    /// those in a part's header block (the message's own, or the lines after a boundary line
    /// `--…` up to the next empty line), and those anywhere naming a `multipart/` type (what
    /// nests). A log or an HTTP trace pasted into a body or sent as a text file, full of
    /// `Content-Type: application/json` lines, counts neither way.
    /// - Throws: ``MailError/tooComplex(_:)``.
    static func checkStructure(_ raw: [UInt8]) throws {
        if MailHeaders.block(raw, limit: maxHeaderBytes + 1).count > maxHeaderBytes {
            throw MailError.tooComplex("cabeçalho da mensagem acima de \(maxHeaderBytes / 1024) KiB / message header over \(maxHeaderBytes / 1024) KiB")
        }
        let name = Array("content-type".utf8), multipart = Array("multipart/".utf8)
        func starts(_ prefix: [UInt8], at index: Int) -> Bool {
            guard index + prefix.count <= raw.count else { return false }
            for offset in 0..<prefix.count where raw[index + offset] | 0x20 != prefix[offset] && raw[index + offset] != prefix[offset] { return false }
            return true
        }
        func skipBlanks(_ index: Int) -> Int {
            var index = index
            while index < raw.count, raw[index] == 0x20 || raw[index] == 0x09 { index += 1 }
            return index
        }
        var parts = 0, containers = 0
        var inPartHeader = true
        var index = 0
        while index < raw.count {
            // At a line start.
            let first = raw[index]
            if first == 0x0A || (first == 0x0D && index + 1 < raw.count && raw[index + 1] == 0x0A) {
                inPartHeader = false
            } else if first == 0x2D, index + 1 < raw.count, raw[index + 1] == 0x2D {
                inPartHeader = true
            } else if starts(name, at: index) {
                var value = skipBlanks(index + name.count)
                if value < raw.count, raw[value] == 0x3A {
                    value = skipBlanks(value + 1)
                    // A folded value: on the next line, after its leading blanks.
                    if value < raw.count, raw[value] == 0x0D { value += 1 }
                    if value < raw.count, raw[value] == 0x0A { value = skipBlanks(value + 1) }
                    if inPartHeader { parts += 1 }
                    if starts(multipart, at: value) { containers += 1 }
                    if parts > maxParts || containers > maxParts {
                        throw MailError.tooComplex("mensagem com mais de \(maxParts) partes MIME / message with more than \(maxParts) MIME parts")
                    }
                }
            }
            guard let newline = raw[index...].firstIndex(of: 0x0A) else { break }
            index = newline + 1
        }
    }
}
