import ServiceKit

/// Settings of the ticket view cache (docs/GATEWAY.md, "View cache").
///
/// | setting | environment | default |
/// |---|---|---|
/// | lifetime of an entry (0 disables the cache) | `GATEWAY_VIEW_CACHE_TTL_MS` | 5000 |
/// | memory for entries (bytes counted: bodies, keys, overhead) | `GATEWAY_VIEW_CACHE_MAX_BYTES` | 64 MiB |
/// | events older than this waiting for the gateway in a publisher's outbox disable the cache | `GATEWAY_VIEW_CACHE_MAX_LAG_MS` | 1000 |
/// | a feed stream silent for longer disables the cache (heartbeats every 500 ms) | `GATEWAY_VIEW_CACHE_SILENCE_MS` | 1500 |
/// | after a ticket's event, its views are not stored for | `GATEWAY_VIEW_CACHE_SETTLE_MS` | 1000 |
public struct ViewCacheConfiguration: Sendable {
    public var ttlMilliseconds = 5_000
    public var maxBytes = 64 << 20
    public var maxLagMilliseconds = 1_000
    public var silenceMilliseconds = 1_500
    public var settleMilliseconds = 1_000

    public init() {}

    /// Reads the `GATEWAY_VIEW_CACHE_*` variables over the defaults.
    /// - Throws: ``ServiceKit/ConfigurationError`` naming a malformed variable (``EnvironmentSettings``).
    public init(environment: [String: String]) throws {
        self.init()
        let settings = EnvironmentSettings(environment)
        func read(_ name: String, _ value: inout Int) throws {
            if let number = try settings.integer(name, in: 0...(1 << 40)) { value = number }
        }
        try read("GATEWAY_VIEW_CACHE_TTL_MS", &ttlMilliseconds)
        try read("GATEWAY_VIEW_CACHE_MAX_BYTES", &maxBytes)
        try read("GATEWAY_VIEW_CACHE_MAX_LAG_MS", &maxLagMilliseconds)
        try read("GATEWAY_VIEW_CACHE_SILENCE_MS", &silenceMilliseconds)
        try read("GATEWAY_VIEW_CACHE_SETTLE_MS", &settleMilliseconds)
    }

    /// False when the TTL or the memory bound is 0.
    public var isEnabled: Bool { ttlMilliseconds > 0 && maxBytes > 0 }
}
