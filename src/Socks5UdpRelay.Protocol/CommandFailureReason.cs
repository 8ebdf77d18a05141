namespace Socks5UdpRelay.Protocol;

/// <summary>The <c>reason</c> of a <c>…-FAILED</c> answer (the README, "Client commands").</summary>
public enum CommandFailureReason
{
    /// <summary>A reason this reader does not know (or none): the raw text says more.</summary>
    Other = 0,

    /// <summary><c>malformed</c>: the line was not <c>VERB key=value …</c> (syntax, a forbidden byte, a repeated key, over 1024 bytes).</summary>
    Malformed,

    /// <summary><c>unknown</c>: the server does not offer this verb.</summary>
    Unknown,

    /// <summary><c>invalid</c>: a missing, unknown or out-of-range key, or a mapping not held.</summary>
    Invalid,

    /// <summary><c>policy</c>: the destination is refused, as a datagram to it would be.</summary>
    Policy,

    /// <summary><c>unresolved</c>: the destination's name could not be resolved.</summary>
    Unresolved,

    /// <summary><c>limit</c>: a configured limit (destinations, mappings) is reached.</summary>
    Limit,

    /// <summary><c>rate-limit</c>: commands arrive faster than the server accepts them.</summary>
    RateLimit,
}

/// <summary>Wire names of <see cref="CommandFailureReason"/>.</summary>
public static class CommandFailureReasons
{
    public const string Malformed = "malformed";
    public const string Unknown = "unknown";
    public const string Invalid = "invalid";
    public const string Policy = "policy";
    public const string Unresolved = "unresolved";
    public const string Limit = "limit";
    public const string RateLimit = "rate-limit";

    /// <summary>The wire name; <see cref="CommandFailureReason.Other"/> has none and throws.</summary>
    public static string ToWireName(this CommandFailureReason reason) => reason switch
    {
        CommandFailureReason.Malformed => Malformed,
        CommandFailureReason.Unknown => Unknown,
        CommandFailureReason.Invalid => Invalid,
        CommandFailureReason.Policy => Policy,
        CommandFailureReason.Unresolved => Unresolved,
        CommandFailureReason.Limit => Limit,
        CommandFailureReason.RateLimit => RateLimit,
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, "Not a reason a server writes."),
    };

    /// <summary>The reason for a wire name; <see cref="CommandFailureReason.Other"/> for anything else.</summary>
    public static CommandFailureReason FromWireName(ReadOnlySpan<char> name) => name switch
    {
        Malformed => CommandFailureReason.Malformed,
        Unknown => CommandFailureReason.Unknown,
        Invalid => CommandFailureReason.Invalid,
        Policy => CommandFailureReason.Policy,
        Unresolved => CommandFailureReason.Unresolved,
        Limit => CommandFailureReason.Limit,
        RateLimit => CommandFailureReason.RateLimit,
        _ => CommandFailureReason.Other,
    };
}
