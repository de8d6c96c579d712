/// Where an open's, a reply's or an `AddFiles` call's files go among the files it puts on the
/// ticket or message (`file_positions` of `OpenTicketRequest`, `ReplyRequest`, `AddFilesRequest`):
/// the place of each file carried inside the call as the request gives it, the uploads named in
/// `attachment_ids` in the places left, in the order named. Without positions, the uploads come
/// first and the call's own files after them, each in the order given (as before the field).
///
/// A client that keeps the order a person chose need not upload the small files that come
/// before a large one (the gateway's multipart open, reply and discussion entry, `TicketForm`): it sends them inside the call
/// and says where they go.
///
/// ```swift
/// // Chosen: a.txt (small), b.bin (large, uploaded), c.txt (small).
/// let placed = FilePositions(uploads: 1, files: 2, requested: [0, 2])!
/// placed.uploads  // [1]
/// placed.files    // [0, 2]
/// placed.ordered(["b.bin"], ["a.txt", "c.txt"])  // ["a.txt", "b.bin", "c.txt"]
/// ```
struct FilePositions: Sendable, Equatable {
    /// The position of each upload, in the order named.
    let uploads: [Int64]
    /// The position of each file carried inside the call, in the order given.
    let files: [Int64]

    /// - Parameters:
    ///   - uploads: How many distinct uploads the open names.
    ///   - files: How many files it carries.
    ///   - requested: `file_positions`: empty, or one distinct position below `uploads + files`
    ///     per file.
    /// - Returns: nil when `requested` is neither.
    init?(uploads: Int, files: Int, requested: [UInt32]) {
        let total = uploads + files
        guard !requested.isEmpty else {
            self.uploads = (0..<uploads).map(Int64.init)
            self.files = (uploads..<total).map(Int64.init)
            return
        }
        guard requested.count == files, requested.allSatisfy({ Int($0) < total }), Set(requested).count == files else { return nil }
        let taken = Set(requested.map(Int64.init))
        self.files = requested.map(Int64.init)
        self.uploads = (0..<Int64(total)).filter { !taken.contains($0) }
    }

    /// The places of a call's files, checked against what the request names (`named` distinct
    /// `attachment_ids`, `sent` files): positions that are not one distinct place per file add the
    /// ``violation(into:)``. For what the call found (`uploaded` uploads, `carried` files): the
    /// positions requested, or the default order (uploads first) when the call found other than
    /// it named — it has another violation and is refused anyway.
    static func placing(named: Int, sent: Int, requested: [UInt32], uploaded: Int, carried: Int,
                        violations: inout Violations) -> FilePositions {
        let positions = FilePositions(uploads: named, files: sent, requested: requested)
        if positions == nil { violation(into: &violations) }
        return positions.flatMap { $0.uploads.count == uploaded && $0.files.count == carried ? $0 : nil }
            ?? FilePositions(uploads: uploaded, files: carried, requested: [])!
    }

    /// These positions after `first` (an `AddFiles` call's, after the files the ticket has).
    func after(_ first: Int64) -> FilePositions {
        FilePositions(uploads: uploads.map { $0 + first }, files: files.map { $0 + first })
    }

    private init(uploads: [Int64], files: [Int64]) {
        self.uploads = uploads
        self.files = files
    }

    /// `uploaded` and `carried` (one item per upload and per file, in request order) in the order
    /// of their positions: the ticket's list.
    func ordered<Item>(_ uploaded: [Item], _ carried: [Item]) -> [Item] {
        let placed = zip(uploads, uploaded).map { ($0, $1) } + zip(files, carried).map { ($0, $1) }
        return placed.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// The violation of positions that are not one distinct place per file.
    static func violation(into violations: inout Violations) {
        violations.add("file_positions", "invalid",
                       pt: "Posições dos arquivos inválidas: uma por arquivo, distintas, menores que o número de arquivos.",
                       en: "Invalid file positions: one per file, distinct, below the number of files.")
    }
}
