/// The relay's answer to each `RCPT TO` of an e-mail to several recipients, read from the
/// replies of its transfer (libcurl reports only the last refusal, and goes on without the
/// refused recipients: `CURLOPT_MAIL_RCPT_ALLLOWFAILS`), and what they mean for the message.
///
/// libcurl sends one `RCPT TO` per recipient, in the list's order, each after the answer to the
/// previous command, then `DATA` when at least one was accepted; so the answers to the `RCPT TO`s
/// are the replies just before the `354` that answers `DATA`, or — every recipient refused, no
/// `DATA` — the last refusals after the `MAIL FROM`'s `250` (the `221` of a `QUIT` set aside).
enum RecipientReplies {
    /// The answer line to each recipient, in order; nil when the replies do not show them (the
    /// session failed before the recipients, or a reply is missing).
    static func answers(_ lines: [[UInt8]], recipients count: Int) -> [String]? {
        guard count > 0 else { return nil }
        func code(_ line: [UInt8]) -> UInt8? { line.count >= 3 ? line[0] : nil }
        var end: Int
        if let data = lines.lastIndex(where: { $0.starts(with: Array("354".utf8)) }) {
            end = data
        } else {
            end = lines.count
            if end > 0, lines[end - 1].starts(with: Array("221".utf8)) { end -= 1 }
            // Every recipient refused: the answers are all refusals, after an accepted MAIL FROM.
            guard end - count >= 1, lines[(end - count)..<end].allSatisfy({ code($0) == 0x34 || code($0) == 0x35 }),
                  code(lines[end - count - 1]) == 0x32 else { return nil }
        }
        guard end - count >= 0 else { return nil }
        return lines[(end - count)..<end].map { String(decoding: $0, as: UTF8.self) }
    }

    /// The message's outcome given each recipient's answer: unchanged when none was refused;
    /// else the refused recipients split off (``SendOutcome/someRefused(_:refused:)``), each
    /// failed (5xx) or retried (4xx) alone. When every recipient was refused, the message keeps
    /// those to retry (a transient outcome naming each), and fails for good when none is.
    static func outcome(_ outcome: SendOutcome, recipients: [String], answers: [String]) -> SendOutcome {
        var refused: [RecipientRefusal] = []
        var accepted = 0
        for (address, answer) in zip(recipients, answers) {
            if answer.hasPrefix("2") { accepted += 1 } else { refused.append(RecipientRefusal(address: address, answer: answer)) }
        }
        guard !refused.isEmpty else { return outcome }
        if accepted > 0 { return .someRefused(outcome, refused: refused) }
        let retried = refused.filter { !$0.permanent }
        guard !retried.isEmpty else { return .permanent(summary(refused)) }
        let failed = refused.filter(\.permanent)
        return failed.isEmpty ? .transient(summary(retried)) : .someRefused(.transient(summary(retried)), refused: failed)
    }

    /// `a@x: 550 5.1.1 …; b@y: 450 4.2.1 …`.
    static func summary(_ refused: [RecipientRefusal]) -> String {
        refused.map { "\($0.address): \($0.answer)" }.joined(separator: "; ")
    }
}
