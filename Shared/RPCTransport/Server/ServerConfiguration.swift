import RPC

/// How an ``RPCServer`` listens and how much it accepts.
public struct ServerConfiguration: Sendable {
    /// Name reported in HELLO, logs and health (`intake`, `workflow`, ...).
    public var serviceName: String
    /// Address to bind (`127.0.0.1` by default; `0.0.0.0` in containers).
    public var host: String = "127.0.0.1"
    /// Port to bind; 0 lets the OS choose (tests).
    public var port: Int = 0
    /// The deployment secret callers must prove they hold.
    public var secret: DeploymentSecret
    /// Frame size, in-flight, connection and time limits.
    public var limits: RPCLimits = RPCLimits()
    /// Event-loop threads (epoll); defaults to the number of cores.
    public var eventLoops: Int = System.coreCount
    /// Threads running blocking handlers.
    public var workerThreads: Int = 16
    /// How long in-flight calls may take to finish after SIGTERM before connections are closed.
    public var shutdownGracePeriodMilliseconds: Int = 10_000
    /// Replaces the deployment-secret handshake (the gateway's public RPC port authenticates
    /// integration API keys); `nil` keeps the secret.
    public var authenticator: (any ConnectionAuthenticator)?
    /// Whether calls whose principal carries no `principal-binding` are served (an older release's
    /// signers, during the one rolling upgrade: ``PrincipalBinding/acceptUnboundSetting``); a
    /// binding for another service or method is refused either way.
    public var acceptsUnboundPrincipals = false

    public init(serviceName: String, secret: DeploymentSecret) {
        self.serviceName = serviceName
        self.secret = secret
    }
}

/// Facts about the machine.
public enum System {
    /// Online processor cores.
    public static var coreCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}

#if canImport(Glibc)
import Glibc
#endif
