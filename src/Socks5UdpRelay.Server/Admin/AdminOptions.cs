namespace Socks5UdpRelay.Server.Admin;

/// <summary>
/// The <c>Admin</c> section: the flow view (README, "Flow view") on the HTTP endpoint of the
/// <c>Metrics</c> section. Off until a token is given.
/// </summary>
internal sealed class AdminOptions
{
    public const string SectionName = "Admin";

    /// <summary>The smallest token accepted: 16 characters of a random token are more guesses than anyone can make.</summary>
    public const int MinTokenLength = 16;

    /// <summary>
    /// The bearer token every data and action route asks for (<c>Authorization: Bearer …</c>).
    /// Empty by default: without a token (here or in <see cref="TokenFile"/>) the flow view is off.
    /// The proxy can carry a client to this host's loopback, so being on loopback proves nothing.
    /// </summary>
    public string Token { get; set; } = "";

    /// <summary>A file whose first line is the token (a mounted secret), read once at start; instead of <see cref="Token"/>.</summary>
    public string TokenFile { get; set; } = "";

    /// <summary>How often <c>/flows/stream</c> reports changes; 1 s by default, at least 100 ms.</summary>
    public TimeSpan StreamInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Streams open at once; the next is answered 503. Each costs one snapshot of every association per interval, shared.</summary>
    public int MaxStreams { get; set; } = 4;

    /// <summary>The most associations one <c>/flows</c> page or stream holds (<c>limit=</c> may ask for fewer; 100 by default).</summary>
    public int MaxPageSize { get; set; } = 1000;
}
