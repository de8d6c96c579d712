/// A number of bytes as people read it, in binary units: `100 MiB`, `256 KiB`, `1,5 MiB`
/// (Portuguese decimal comma) / `1.5 MiB`. Used where an answer states a limit (a 413 names the
/// limit in bytes and in this form) and by `ocorre` for its own size checks.
public enum ByteCount {
    /// `bytes` in the largest binary unit it reaches (B, KiB, MiB, GiB), whole when exact, else
    /// with one decimal (rounded), with a comma when `portuguese`.
    public static func text(_ bytes: Int, portuguese: Bool = false) -> String {
        let units: [(Int, String)] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        guard let (size, name) = units.first(where: { bytes >= $0.0 }) else { return "\(bytes) B" }
        if bytes % size == 0 { return "\(bytes / size) \(name)" }
        // Tenths, rounded half up, in integers (no locale-dependent formatting).
        let tenths = (bytes * 10 + size / 2) / size
        let text = tenths % 10 == 0 ? "\(tenths / 10)" : "\(tenths / 10)\(portuguese ? "," : ".")\(tenths % 10)"
        return "\(text) \(name)"
    }

    /// `"<bytes> bytes (<text>)"`, as a limit is stated in an error's message.
    public static func stated(_ bytes: Int, portuguese: Bool = false) -> String {
        "\(bytes) bytes (\(text(bytes, portuguese: portuguese)))"
    }
}
