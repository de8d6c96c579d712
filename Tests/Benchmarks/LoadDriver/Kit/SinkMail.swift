import Foundation

/// An e-mail as the SMTP sink stored it (`<seq>.eml`): the headers the checks need.
public struct SinkMail: Sendable {
    public var file: String
    public var messageID: String
    public var eventKind: String
    public var ticketCode: String
    public var to: String
    public var subject: String
    /// When the sink stored it (the file's modification time), in epoch milliseconds.
    public var receivedAtMs: Int64 = 0

    /// Every `.eml` file in `directory`, headers parsed (folded lines joined).
    public static func all(in directory: String) -> [SinkMail] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".eml") }.sorted()
        return names.compactMap { name in
            guard let data = FileManager.default.contents(atPath: "\(directory)/\(name)") else { return nil }
            var mail = SinkMail(file: name, raw: String(decoding: data, as: UTF8.self))
            if let date = (try? FileManager.default.attributesOfItem(atPath: "\(directory)/\(name)"))?[.modificationDate] as? Date {
                mail.receivedAtMs = Int64(date.timeIntervalSince1970 * 1000)
            }
            return mail
        }
    }

    init(file: String, raw: String) {
        self.file = file
        var headers: [String: String] = [:]
        var current: (String, String)?
        // "\r\n" is one Character in Swift: normalise line ends before splitting.
        let unix = raw.replacingOccurrences(of: "\r\n", with: "\n")
        for line in unix.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" }) {
            let text = String(line)
            if text.isEmpty { break }
            if text.first == " " || text.first == "\t" {
                current?.1 += " " + text.trimmingCharacters(in: .whitespaces)
                continue
            }
            if let (name, value) = current { headers[name.lowercased()] = value }
            guard let colon = text.firstIndex(of: ":") else { current = nil; continue }
            current = (String(text[..<colon]), text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        if let (name, value) = current { headers[name.lowercased()] = value }
        messageID = headers["message-id"] ?? ""
        eventKind = headers["x-ocorrencias-event"] ?? ""
        ticketCode = headers["x-ocorrencias-ticket"] ?? ""
        to = headers["to"] ?? ""
        subject = Self.decodeWords(headers["subject"] ?? "")
    }

    /// Decodes RFC 2047 encoded words (`=?UTF-8?B?...?=`, `=?UTF-8?Q?...?=`); whitespace between
    /// two encoded words is dropped.
    static func decodeWords(_ text: String) -> String {
        var output = ""
        var lastWasWord = false
        for token in text.split(separator: " ", omittingEmptySubsequences: false) {
            let parts = token.split(separator: "?", omittingEmptySubsequences: false)
            if token.hasPrefix("=?"), token.hasSuffix("?="), parts.count == 5 {
                let payload = String(parts[3])
                var bytes: [UInt8] = []
                if parts[2].uppercased() == "B" {
                    bytes = Data(base64Encoded: payload).map { Array($0) } ?? []
                } else {
                    var iterator = Array(payload.utf8).makeIterator()
                    while let byte = iterator.next() {
                        if byte == UInt8(ascii: "_") { bytes.append(0x20) } else if byte == UInt8(ascii: "="),
                            let high = iterator.next(), let low = iterator.next(),
                            let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) {
                            bytes.append(value)
                        } else { bytes.append(byte) }
                    }
                }
                output += String(decoding: bytes, as: UTF8.self)
                lastWasWord = true
            } else {
                if !output.isEmpty { output += " " }
                output += token
                lastWasWord = false
            }
        }
        _ = lastWasWord
        return output
    }

    /// The bare address in the `To` header, lower-cased.
    public var toAddress: String {
        if let open = to.lastIndex(of: "<"), let close = to.lastIndex(of: ">"), open < close {
            return to[to.index(after: open)..<close].lowercased()
        }
        return to.trimmingCharacters(in: .whitespaces).lowercased()
    }
}
