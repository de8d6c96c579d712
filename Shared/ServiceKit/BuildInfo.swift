/// Which release these executables are: the `version` of every service's `ready` log line and
/// of `<service> --help`, so an operator reading a log knows what ran.
public enum BuildInfo {
    /// The release, `YYYY.MM.N`; raised with each release (docs/DEPLOYMENT.md, "Logs at start-up").
    public static let version = "2026.12.0"
}
