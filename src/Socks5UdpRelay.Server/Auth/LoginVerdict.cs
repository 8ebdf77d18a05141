namespace Socks5UdpRelay.Server.Auth;

/// <summary>What a login attempt came to; every verdict but <see cref="Accepted"/> is answered as a failure after <c>Auth:FailureDelay</c>.</summary>
internal enum LoginVerdict
{
    Accepted,

    /// <summary>Unknown user or wrong password (derived).</summary>
    Rejected,

    /// <summary><c>Auth:MaxConcurrentAttemptsPerClient</c> checks of this client are under way: not derived.</summary>
    TooManyAtOnce,

    /// <summary><c>Auth:MaxQueuedDerivations</c> checks are waiting: not derived.</summary>
    QueueFull,
}
