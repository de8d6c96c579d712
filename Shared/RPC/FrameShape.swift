/// A cheap look at a `Frame`'s protobuf wire tags before protobuf-c decodes it: decoding costs
/// an allocation per map entry or repeated element, so a frame of 424,000 tiny metadata entries
/// (within the 4 MiB frame limit) kept an event loop busy for a third of a second. The walk reads
/// tags and lengths only (no allocation) and refuses a frame whose shape no peer of ours sends,
/// before decoding it (docs/PROTOCOL.md, "Frame shape").
public enum FrameShape {
    /// What a frame may hold; the defaults are far above what any caller of ours sends.
    public struct Limits: Sendable, Hashable {
        /// Entries of `Frame.metadata` (field 5).
        public var maxMetadataEntries = 64
        /// Bytes of all `Frame.metadata` entries together (keys, values and their framing).
        public var maxMetadataBytes = 16 << 10
        /// Top-level fields other than metadata: the nine known ones occur once each; a newer
        /// peer's unknown fields are allowed up to this count.
        public var maxOtherFields = 64
        /// `status.violations` plus `status.metadata` entries: a server's error may name many
        /// fields (intake names up to 1,000 uploads), and a client keeps the first 16 metadata
        /// entries of a server that sends thousands; a client never sends a status.
        public var maxStatusEntries = 65_536
        /// Fields inside one metadata entry, violation or status metadata entry (2–4 known).
        public var maxFieldsPerEntry = 8

        public init() {}

        /// What a server accepts from its clients: no frame of a client carries a status.
        public static var fromClients: Limits {
            var limits = Limits()
            limits.maxStatusEntries = 16
            return limits
        }
    }

    /// Why a frame's shape is refused: what was counted, how much, and the limit.
    public struct Violation: Error, Sendable, Hashable {
        /// What overflowed: `metadata entries`, `metadata bytes`, `fields`, `status entries`,
        /// `fields per entry`.
        public let what: String
        public let count: Int
        public let limit: Int
    }

    /// The outcome of a walk: the frame's call id (for an answer to the call alone) and, when the
    /// shape is refused, why.
    public struct Scan: Sendable, Hashable {
        public var callID: UInt64 = 0
        public var violation: Violation?
    }

    /// Walks `bytes` (one `Frame`'s body) without decoding it.
    /// - Returns: `nil` when the bytes are not a valid protobuf wire sequence (the caller's
    ///   decoding would fail too); otherwise the call id and any limit the frame exceeds.
    public static func scan(_ bytes: UnsafeRawBufferPointer, limits: Limits) -> Scan? {
        var scan = Scan()
        do throws(Problem) {
            try walkFrame(bytes, limits: limits, callID: &scan.callID)
        } catch {
            switch error {
            case .malformed: return nil
            case .exceeded(let violation): scan.violation = violation
            }
        }
        return scan
    }

    fileprivate enum Problem: Error {
        case malformed
        case exceeded(Violation)
    }

    private static func count(_ what: String, _ count: inout Int, limit: Int) throws(Problem) {
        count += 1
        if count > limit { throw .exceeded(Violation(what: what, count: count, limit: limit)) }
    }

    private static func walkFrame(_ bytes: UnsafeRawBufferPointer, limits: Limits, callID: inout UInt64) throws(Problem) {
        var reader = WireReader(bytes: bytes)
        var metadataEntries = 0, metadataBytes = 0, otherFields = 0, statusEntries = 0
        while !reader.atEnd {
            let (field, wireType) = try reader.tag()
            if field == 5 && wireType == 2 {
                let entry = try reader.lengthDelimited()
                try count("metadata entries", &metadataEntries, limit: limits.maxMetadataEntries)
                metadataBytes += entry.count
                if metadataBytes > limits.maxMetadataBytes {
                    throw .exceeded(Violation(what: "metadata bytes", count: metadataBytes, limit: limits.maxMetadataBytes))
                }
                try walkEntry(entry, limits: limits)
                continue
            }
            try count("fields", &otherFields, limit: limits.maxOtherFields)
            if field == 1 && wireType == 0 {
                callID = try reader.varint()
            } else if field == 7 && wireType == 2 {
                try walkStatus(try reader.lengthDelimited(), limits: limits, entries: &statusEntries)
            } else {
                try reader.skip(wireType)
            }
        }
    }

    /// `Status.violations` (3) and `Status.metadata` (4) count as status entries.
    private static func walkStatus(_ bytes: UnsafeRawBufferPointer, limits: Limits, entries: inout Int) throws(Problem) {
        var reader = WireReader(bytes: bytes)
        var others = 0
        while !reader.atEnd {
            let (field, wireType) = try reader.tag()
            if (field == 3 || field == 4) && wireType == 2 {
                let entry = try reader.lengthDelimited()
                try count("status entries", &entries, limit: limits.maxStatusEntries)
                try walkEntry(entry, limits: limits)
                continue
            }
            try count("fields", &others, limit: limits.maxOtherFields)
            try reader.skip(wireType)
        }
    }

    /// The fields of one map entry or violation, counted against ``Limits/maxFieldsPerEntry``.
    private static func walkEntry(_ bytes: UnsafeRawBufferPointer, limits: Limits) throws(Problem) {
        var reader = WireReader(bytes: bytes)
        var fields = 0
        while !reader.atEnd {
            let (_, wireType) = try reader.tag()
            try reader.skip(wireType)
            try count("fields per entry", &fields, limit: limits.maxFieldsPerEntry)
        }
    }
}

/// Reads protobuf wire-format tags, varints and lengths from raw bytes, without allocating.
private struct WireReader {
    let bytes: UnsafeRawBufferPointer
    var index = 0

    var atEnd: Bool { index >= bytes.count }

    mutating func varint() throws(FrameShape.Problem) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while index < bytes.count && shift < 64 {
            let byte = bytes[index]
            index += 1
            value |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        throw .malformed
    }

    /// Field number and wire type of the next tag.
    mutating func tag() throws(FrameShape.Problem) -> (UInt64, UInt8) {
        let key = try varint()
        guard key >> 3 != 0 else { throw .malformed }
        return (key >> 3, UInt8(key & 7))
    }

    mutating func lengthDelimited() throws(FrameShape.Problem) -> UnsafeRawBufferPointer {
        let length = try varint()
        guard length <= UInt64(bytes.count - index) else { throw .malformed }
        let start = index
        index += Int(length)
        return UnsafeRawBufferPointer(rebasing: bytes[start..<index])
    }

    /// Skips a value of `wireType`; groups (which protobuf-c refuses) are malformed.
    mutating func skip(_ wireType: UInt8) throws(FrameShape.Problem) {
        switch wireType {
        case 0: _ = try varint()
        case 1: try advance(8)
        case 2: _ = try lengthDelimited()
        case 5: try advance(4)
        default: throw .malformed
        }
    }

    private mutating func advance(_ count: Int) throws(FrameShape.Problem) {
        guard bytes.count - index >= count else { throw .malformed }
        index += count
    }
}
