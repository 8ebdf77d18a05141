namespace Socks5UdpRelay.Protocol;

/// <summary>
/// The verbs of command lines (client → server) and of their answers (server → client), the
/// README, "Client commands". An answer's verb is the command's verb and <c>-OK</c> or
/// <c>-FAILED</c>; no notice verb ends that way, which is how a client tells answers from notices.
/// </summary>
public static class CommandVerbs
{
    public const string Set = "SET";
    public const string Map = "MAP";
    public const string Unmap = "UNMAP";

    /// <summary>The answer to a line that is no command at all, or to a verb the server does not offer.</summary>
    public const string Command = "COMMAND";

    public const string OkSuffix = "-OK";
    public const string FailedSuffix = "-FAILED";

    public const string SetOk = "SET-OK";
    public const string SetFailed = "SET-FAILED";
    public const string MapOk = "MAP-OK";
    public const string MapFailed = "MAP-FAILED";
    public const string UnmapOk = "UNMAP-OK";
    public const string UnmapFailed = "UNMAP-FAILED";
    public const string CommandFailed = "COMMAND-FAILED";

    /// <summary>True for a verb that ends in <c>-OK</c> or <c>-FAILED</c> after at least one byte: an answer, never a notice.</summary>
    public static bool IsAnswer(ReadOnlySpan<byte> verb)
        => (verb.Length > OkSuffix.Length && verb.EndsWith("-OK"u8))
            || (verb.Length > FailedSuffix.Length && verb.EndsWith("-FAILED"u8));
}

/// <summary>The keys of command and answer lines beyond those notices share (<see cref="NoticeKeys"/>: <c>dst</c>, <c>addr</c>, <c>map</c>, <c>reason</c>).</summary>
public static class CommandKeys
{
    /// <summary>SET: the IPv4 TTL / IPv6 hop limit, 1-255 or <see cref="DefaultTtl"/>.</summary>
    public const string Ttl = "ttl";

    /// <summary>MAP-OK: the new mapping's outbound port.</summary>
    public const string Port = "port";

    /// <summary>COMMAND-FAILED reason=unknown: the verb that is not offered, escaped as a name.</summary>
    public const string Verb = "verb";

    /// <summary>The <c>ttl</c> value that restores the system default.</summary>
    public const string DefaultTtl = "default";
}
