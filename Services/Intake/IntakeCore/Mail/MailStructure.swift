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
    /// One pass over the bytes: counts the lines that start a `Content-Type` field (any case,
    /// blanks before the colon allowed).
    /// - Throws: ``MailError/tooComplex(_:)``.
    static func checkStructure(_ raw: [UInt8]) throws {
        if MailHeaders.block(raw, limit: maxHeaderBytes + 1).count > maxHeaderBytes {
            throw MailError.tooComplex("cabeçalho da mensagem acima de \(maxHeaderBytes / 1024) KiB / message header over \(maxHeaderBytes / 1024) KiB")
        }
        let name = Array("content-type".utf8)
        var parts = 0
        var index = 0
        let count = raw.count
        while index < count {
            // At a line start.
            if raw[index] | 0x20 == 0x63, index + name.count < count {
                var matched = true
                for offset in 1..<name.count where raw[index + offset] | 0x20 != name[offset] {
                    matched = false
                    break
                }
                if matched {
                    var after = index + name.count
                    while after < count, raw[after] == 0x20 || raw[after] == 0x09 { after += 1 }
                    if after < count, raw[after] == 0x3A {
                        parts += 1
                        if parts > maxParts {
                            throw MailError.tooComplex("mensagem com mais de \(maxParts) partes MIME / message with more than \(maxParts) MIME parts")
                        }
                    }
                }
            }
            guard let newline = raw[index...].firstIndex(of: 0x0A) else { break }
            index = newline + 1
        }
    }
}
