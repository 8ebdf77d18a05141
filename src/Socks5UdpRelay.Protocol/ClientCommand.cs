namespace Socks5UdpRelay.Protocol;

/// <summary>
/// One command line as <see cref="ClientCommandParser"/> read it, viewing the line and a
/// caller's scratch buffer: reading one allocates nothing. What is set depends on the status:
/// <see cref="VerbText"/> whenever the line is not malformed; the echo keys
/// (<see cref="DestinationText"/>, <see cref="MappingText"/>) as written, whenever present; the
/// typed values only for a <see cref="ClientCommandStatus.Valid"/> command.
/// </summary>
public readonly ref struct ClientCommand
{
    /// <summary><c>ttl=default</c>: the system's default TTL / hop limit.</summary>
    public const int DefaultTtl = 0;

    internal ClientCommand(ClientCommandVerb verb, ReadOnlySpan<byte> verbText, ReadOnlySpan<byte> destinationText, SocksAddress destination,
        int ttl, ReadOnlySpan<byte> mappingText, ushort mapping)
    {
        Verb = verb;
        VerbText = verbText;
        DestinationText = destinationText;
        Destination = destination;
        Ttl = ttl;
        MappingText = mappingText;
        Mapping = mapping;
    }

    public ClientCommandVerb Verb { get; }

    /// <summary>The verb as written (for <c>COMMAND-FAILED verb=…</c>).</summary>
    public ReadOnlySpan<byte> VerbText { get; }

    /// <summary>The <c>dst</c> value as written, empty when absent: answers echo it.</summary>
    public ReadOnlySpan<byte> DestinationText { get; }

    /// <summary>SET: the destination, an IP address or a name with <c>%XX</c> undone.</summary>
    public SocksAddress Destination { get; }

    /// <summary>SET: 1-255, or <see cref="DefaultTtl"/> for <c>ttl=default</c>.</summary>
    public int Ttl { get; }

    /// <summary>The <c>map</c> value as written, empty when absent: answers echo it.</summary>
    public ReadOnlySpan<byte> MappingText { get; }

    /// <summary>SET and UNMAP: the mapping named, 0 when absent (SET on the first mapping).</summary>
    public ushort Mapping { get; }
}
