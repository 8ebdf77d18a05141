namespace Socks5UdpRelay.Protocol;

/// <summary>
/// What a server makes of a command line, in the order it checks (the README, "Client commands",
/// failure classes). Each failure has its answer; none ends the association.
/// </summary>
public enum ClientCommandStatus
{
    /// <summary>A command the server offers, with every key it needs and none it does not know, each in range.</summary>
    Valid = 0,

    /// <summary>Not <c>VERB key=value …</c>: bad syntax, a forbidden byte, a repeated key, or over 1024 bytes. Answer <c>COMMAND-FAILED reason=malformed</c>.</summary>
    Malformed,

    /// <summary>A well-formed line whose verb the server does not offer. Answer <c>COMMAND-FAILED verb=VERB reason=unknown</c>.</summary>
    UnknownVerb,

    /// <summary>An offered verb with a missing, unknown or out-of-range key. Answer <c>VERB-FAILED … reason=invalid</c>.</summary>
    Invalid,
}
