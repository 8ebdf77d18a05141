namespace Socks5UdpRelay.Server.Auth;

/// <summary>The <c>Auth</c> section: RFC 1929 users. With any user configured, every client must authenticate.</summary>
internal sealed class AuthOptions
{
    public const string SectionName = "Auth";

    public List<UserOptions> Users { get; set; } = [];

    /// <summary>How long a failed attempt waits before its answer: slows password guessing to one try per connection per this.</summary>
    public TimeSpan FailureDelay { get; set; } = TimeSpan.FromSeconds(1);
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
