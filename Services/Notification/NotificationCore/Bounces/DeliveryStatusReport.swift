import Foundation

/// What a delivery status notification (RFC 3464, `multipart/report; report-type=delivery-status`)
/// says about one of our messages: the original Message-ID (from the returned headers), and per
/// recipient the action, status and diagnostic.
///
/// The report's MIME parts are opened first (``MIMEFlattening``: base64 and quoted-printable
/// parts decoded, nested multiparts included), then read as lines; headers folded over lines are
/// unfolded. `message/global-delivery-status` (RFC 6533) is read like `message/delivery-status`.
struct DeliveryStatusReport: Equatable {
    struct Recipient: Equatable {
        var address: String
        /// "failed", "delayed", "delivered", "relayed", "expanded".
        var action: String
        /// RFC 3463 status, e.g. "5.1.1".
        var status: String
        var diagnostic: String
    }

    /// The Message-ID of the message the report is about (without angle brackets).
    var originalMessageID: String
    var recipients: [Recipient]

    /// Parses `raw`; nil when it is not a delivery status report about a message with a Message-ID.
    static func parse(_ raw: [UInt8]) -> DeliveryStatusReport? {
        let text = String(decoding: MIMEFlattening.flatten(raw), as: UTF8.self)
        var lines: [String] = []
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
            if let first = line.first, first == " " || first == "\t", let last = lines.last, !last.isEmpty {
                lines[lines.count - 1] = last + " " + line.trimmingCharacters(in: .whitespaces)
            } else {
                lines.append(line)
            }
        }
        func field(_ line: String) -> (String, String)? {
            guard let colon = line.firstIndex(of: ":") else { return nil }
            let name = line[..<colon].lowercased()
            guard !name.isEmpty, !name.contains(" ") else { return nil }
            return (name, line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        guard lines.contains(where: { $0.lowercased().contains("report-type=delivery-status") || $0.lowercased().contains("delivery-status") && $0.lowercased().contains("content-type") })
        else { return nil }

        // The report's own headers come first (up to the first blank line); its own Message-ID is
        // not the original one.
        let bodyStart = lines.firstIndex(of: "") ?? lines.count
        var original = ""
        var recipients: [Recipient] = []
        var current: Recipient?
        for line in lines[bodyStart...] {
            if line.isEmpty {
                if let done = current, !done.action.isEmpty { recipients.append(done) }
                current = nil
                continue
            }
            guard let (name, value) = field(line) else { continue }
            switch name {
            case "message-id" where original.isEmpty:
                original = value.trimmingCharacters(in: CharacterSet(charactersIn: "<> "))
            case "final-recipient", "original-recipient":
                let address = value.split(separator: ";", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? value
                if current == nil { current = Recipient(address: address, action: "", status: "", diagnostic: "") }
                if name == "final-recipient" { current?.address = address }
            case "action":
                if current == nil { current = Recipient(address: "", action: "", status: "", diagnostic: "") }
                current?.action = value.lowercased().split(separator: " ").first.map(String.init) ?? ""
            case "status":
                current?.status = value.split(separator: " ").first.map(String.init) ?? ""
            case "diagnostic-code":
                let diagnostic = value.split(separator: ";", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? value
                current?.diagnostic = diagnostic
            default:
                break
            }
        }
        if let done = current, !done.action.isEmpty { recipients.append(done) }
        guard !original.isEmpty, !recipients.isEmpty else { return nil }
        return DeliveryStatusReport(originalMessageID: original, recipients: recipients)
    }

    /// The delivery id inside one of our Message-IDs (`n.<32 hex>.<token>@domain` or
    /// `n.<32 hex>@domain`), if it is one.
    static func deliveryID(inMessageID messageID: String) -> String? {
        let local = messageID.split(separator: "@", maxSplits: 1).first ?? ""
        let parts = local.split(separator: ".", maxSplits: 2)
        guard parts.count >= 2, parts[0] == "n", parts[1].count == 32,
              parts[1].allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { return nil }
        return String(parts[1])
    }
}
