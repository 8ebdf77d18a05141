namespace Socks5UdpRelay.Server.Auth;

/// <summary>The <c>Auth</c> section: RFC 1929 users. With any user configured, every client must authenticate.</summary>
internal sealed class AuthOptions
{
    public const string SectionName = "Auth";

    public List<UserOptions> Users { get; set; } = [];

    /// <summary>How long a failed attempt waits before its answer: slows password guessing to one try per connection per this.</summary>
    public TimeSpan FailureDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Password checks (key derivations) one client (an IPv4 address, an IPv6 /64) may have waiting
    /// or running at once; past it an attempt fails at once, without deriving, answered after
    /// <see cref="FailureDelay"/> like a wrong password. A derivation takes about 0.1 s, so 4 still
    /// lets one address log in some 30 new sessions a second (a session that logged in recently is
    /// recognised without a derivation and not counted).
    /// </summary>
    public int MaxConcurrentAttemptsPerClient { get; set; } = 4;

    /// <summary>
    /// Threads that derive password hashes, apart from the thread pool that serves every connection.
    /// 0 (default): half the processors, at least one, so password guessing can take at most that share
    /// of the CPU and never the threads relaying and logging in others.
    /// </summary>
    public int DerivationThreads { get; set; }

    /// <summary>
    /// Password checks waiting for a derivation thread, all clients together; past it an attempt fails
    /// at once (answered after <see cref="FailureDelay"/>). 32 waits at most about 3 s on one thread.
    /// </summary>
    public int MaxQueuedDerivations { get; set; } = 32;

    /// <summary>The derivation threads <see cref="DerivationThreads"/> asks for, with 0 resolved.</summary>
    public int EffectiveDerivationThreads => DerivationThreads > 0 ? DerivationThreads : Math.Max(1, Environment.ProcessorCount / 2);
}

/// <summary>One user; give exactly one of the password sources.</summary>
internal sealed class UserOptions
{
    public string? Name { get; set; }

    /// <summary>A hash from <c>Socks5UdpRelay.Server hash-password</c>: <c>pbkdf2-sha256$…</c>.</summary>
    public string? PasswordHash { get; set; }

    /// <summary>A file holding the password or its hash (a container secret, e.g. /run/secrets/alice).</summary>
    public string? PasswordFile { get; set; }

    /// <summary>An environment variable holding the password or its hash.</summary>
    public string? PasswordEnv { get; set; }
}
