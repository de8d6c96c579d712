import CGMime
import Foundation
import Synchronization

/// One received e-mail, parsed by GMime: headers decoded (RFC 2047), bodies decoded
/// (quoted-printable, base64) and read as text by ``MailCharset`` (their charset, or
/// windows-1252 when it lies or is missing), attachments (forwarded messages too) as bytes.
/// A MIME or header bomb is refused before GMime reads it (``checkStructure(_:)``).
///
/// ```swift
/// let mail = try MailMessage(raw: Array(FileHandle.standardInput.readDataToEndOfFile()))
/// print(mail.subject, mail.fromAddress, mail.text)
/// ```
public struct MailMessage: Sendable {
    public struct Attachment: Sendable {
        public var fileName: String
        public var contentType: String
        public var bytes: [UInt8]
    }

    /// Without angle brackets. When the message has none, one derived from its SHA-256, so the
    /// same raw message always gets the same id.
    public var messageID: String
    /// What tells this message from a different one reusing its Message-ID, the same for every
    /// delivery of it (``MailFingerprint/content(_:)``); empty when unknown (matches any).
    public var contentFingerprint = ""
    public var fromAddress: String
    public var fromName: String
    /// Addresses of To, Cc and Delivered-To/X-Original-To, lower-cased.
    public var recipients: [String]
    public var subject: String
    public var inReplyTo: String
    public var references: String
    /// The plain-text body (LF line ends); from the HTML part, converted, when there is no text part.
    public var text: String
    public var html: String
    public var attachments: [Attachment]
    /// `Auto-Submitted`, `Precedence` and `Return-Path` as received (empty when absent): an
    /// automatic message or one with a null sender (`<>`) is never answered with a bounce.
    public var autoSubmitted = ""
    public var precedence = ""
    public var returnPath = ""
    /// `X-Autoreply` / `X-Autorespond` as `Name: value`, empty when absent (``automaticReason``).
    public var autoReply = ""

    private static let initialized = Mutex(false)

    /// Parses a raw RFC 5322 message.
    /// - Throws: ``MailError/malformed`` when GMime finds no message, ``MailError/tooComplex(_:)``
    ///   for a MIME or header bomb (``checkStructure(_:)``).
    public init(raw: [UInt8]) throws {
        try Self.checkStructure(raw)
        Self.initialized.withLock { done in
            if !done { cgmime_init(); done = true }
        }
        guard let message = raw.withUnsafeBytes({ buffer in
            cgmime_parse(buffer.baseAddress?.assumingMemoryBound(to: CChar.self), buffer.count)
        }) else { throw MailError.malformed("não é uma mensagem RFC 5322 / not an RFC 5322 message") }
        defer { cgmime_unref(UnsafeMutableRawPointer(message)) }
        func string(_ pointer: UnsafePointer<CChar>?) -> String { pointer.map { String(cString: $0) } ?? "" }

        let id = string(cgmime_message_id(message)).trimmingCharacters(in: CharacterSet(charactersIn: "<> \t\r\n"))
        messageID = id.isEmpty ? "sha256-\(MailFingerprint.hex(raw))@intake.invalid" : id
        contentFingerprint = MailFingerprint.content(raw)
        subject = MailCharset.singleLine(MailCharset.repairC1(string(cgmime_subject(message))))
        inReplyTo = string(cgmime_header(message, "In-Reply-To"))
        references = string(cgmime_header(message, "References"))
        autoSubmitted = string(cgmime_header(message, "Auto-Submitted")).trimmingCharacters(in: .whitespaces)
        precedence = string(cgmime_header(message, "Precedence")).trimmingCharacters(in: .whitespaces)
        returnPath = string(cgmime_header(message, "Return-Path")).trimmingCharacters(in: .whitespaces)
        autoReply = Self.autoReplyHeader { string(cgmime_header(message, $0)) }
        let from = cgmime_addresses(message, 0)
        fromAddress = cgmime_address_count(from) > 0 ? string(cgmime_address_email(from, 0)).lowercased() : ""
        fromName = cgmime_address_count(from) > 0 ? MailCharset.repairC1(string(cgmime_address_name(from, 0))) : ""
        var recipients: [String] = []
        for which in [Int32(1), 2] {
            let list = cgmime_addresses(message, which)
            for index in 0..<cgmime_address_count(list) {
                let address = string(cgmime_address_email(list, index))
                if !address.isEmpty { recipients.append(address.lowercased()) }
            }
        }
        for header in ["Delivered-To", "X-Original-To", "Envelope-To"] {
            let value = string(cgmime_header(message, header)).trimmingCharacters(in: .whitespaces)
            if !value.isEmpty { recipients.append(value.lowercased()) }
        }
        self.recipients = recipients

        var plain: [String] = []
        var html: [String] = []
        var attachments: [Attachment] = []
        let parts = cgmime_leaf_parts(message)
        defer { cgmime_free_parts(parts) }
        for index in 0..<cgmime_parts_count(parts) {
            guard let part = cgmime_parts_at(parts, index) else { continue }
            let typePointer = cgmime_part_mime_type(part)
            let type = string(typePointer).lowercased()
            cgmime_free(typePointer)
            let fileName = MailCharset.repairC1(string(cgmime_part_filename(part)))
            let bytes = cgmime_part_bytes(part)
            let count = Int(cgmime_bytes_length(bytes))
            let content = count == 0 ? [] : Array(UnsafeBufferPointer(start: cgmime_bytes_data(bytes), count: count))
            cgmime_bytes_free(bytes)
            if !Self.isAttachment(type: type, fileName: fileName, disposedAsAttachment: cgmime_part_is_attachment(part) != 0,
                                  onlyPart: cgmime_parts_count(parts) == 1) {
                let text = MailCharset.decode(content, charset: string(cgmime_part_charset(part)))
                if type == "text/html" { html.append(text) } else { plain.append(text) }
                continue
            }
            var name = fileName
            if name.isEmpty, cgmime_part_is_message(part) != 0 {
                name = Self.fileName(subject: string(cgmime_part_message_subject(part)), extension: ".eml")
            }
            if name.isEmpty { name = "anexo-\(attachments.count + 1)" + Self.extensionFor(type) }
            attachments.append(Attachment(fileName: name, contentType: type, bytes: content))
        }
        self.html = html.joined(separator: "\n")
        // Line ends as LF: GMime keeps a quoted-printable body's CRLF ("\r\n" is one Swift Character,
        // which a split on "\n" does not see).
        let plainText = plain.joined(separator: "\n").replacingOccurrences(of: "\r\n", with: "\n")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        text = plainText.isEmpty ? HTMLText.plainText(self.html) : plainText
        self.attachments = attachments
    }

    /// Every header value where a reply token may appear: recipients, In-Reply-To, References.
    public var threadingText: String {
        (recipients + [inReplyTo, references]).joined(separator: " ")
    }

    /// Message-IDs named by In-Reply-To and References, without brackets.
    public var referencedMessageIDs: [String] {
        Self.messageIDs(in: "\(inReplyTo) \(references)")
    }

    /// Message-IDs threading looks up (each costs two queries): at most ``maxThreadingIDs``, each
    /// once — In-Reply-To's, then the first of References (the thread's root: the e-mail that
    /// opened a ticket) and its last ones (the latest replies). A References header of thousands
    /// of ids (up to the 1 MiB header limit) no longer means thousands of queries.
    public var threadingMessageIDs: [String] {
        let named = Self.messageIDs(in: references)
        let kept = named.count <= Self.maxThreadingIDs ? named : Array(named.prefix(10)) + Array(named.suffix(Self.maxThreadingIDs - 10))
        var seen = Set<String>()
        return (Self.messageIDs(in: inReplyTo).prefix(5) + kept).filter { seen.insert($0).inserted }
    }

    /// See ``threadingMessageIDs``.
    public static let maxThreadingIDs = 50

    static func messageIDs(in text: String) -> [String] {
        text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" || $0 == "," })
            .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "<>")) }.filter { !$0.isEmpty }
    }

    /// Whether a leaf part is a file rather than the body: marked `attachment`, or not plain text
    /// or HTML (images, PDFs, a forwarded message, text/calendar), or text with a file name (Apple
    /// Mail sends a `.txt` or `.html` file `inline` with its name; it is a file, not the body)
    /// unless it is the message's only part (an old system naming its one body part).
    static func isAttachment(type: String, fileName: String, disposedAsAttachment: Bool, onlyPart: Bool) -> Bool {
        disposedAsAttachment || (!fileName.isEmpty && !onlyPart) || !(type == "text/plain" || type == "text/html")
    }

    /// A file name made of an attached message's subject (`Pedido 123 travado.eml`): characters
    /// that file systems refuse replaced, at most 100 characters; empty when there is no subject.
    static func fileName(subject: String, extension suffix: String) -> String {
        let cleaned = String(subject.map { "/\\:*?\"<>|".contains($0) || $0.isNewline || ($0.asciiValue ?? 0x20) < 0x20 ? "_" : $0 })
            .trimmingCharacters(in: .whitespaces)
        return cleaned.isEmpty ? "" : String(cleaned.prefix(100)) + suffix
    }

    static func extensionFor(_ type: String) -> String {
        switch type {
        case "image/png": return ".png"
        case "image/jpeg": return ".jpg"
        case "image/gif": return ".gif"
        case "image/webp": return ".webp"
        case "image/heic": return ".heic"
        case "application/pdf": return ".pdf"
        case "application/zip", "application/x-zip-compressed": return ".zip"
        case "application/xml", "text/xml": return ".xml"
        case "application/ms-tnef", "application/vnd.ms-tnef": return ".dat"
        case "message/rfc822", "message/global": return ".eml"
        case "text/plain": return ".txt"
        case "text/html": return ".html"
        case "text/csv": return ".csv"
        case "text/calendar": return ".ics"
        default: return ".bin"
        }
    }
}

/// Why a message could not be taken in.
public enum MailError: Error, CustomStringConvertible, Equatable {
    case malformed(String)
    /// Over ``MailMessage/maxParts`` or ``MailMessage/maxHeaderBytes``: not read at all.
    case tooComplex(String)

    public var description: String {
        switch self {
        case .malformed(let text), .tooComplex(let text): return text
        }
    }
}
