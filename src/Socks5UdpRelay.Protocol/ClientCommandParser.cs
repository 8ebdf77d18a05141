namespace Socks5UdpRelay.Protocol;

/// <summary>
/// Reads a command line a client wrote on its control connection (the README, "Client
/// commands"): <c>VERB key=value …\n</c>, US-ASCII, at most 1024 bytes with its <c>\n</c>, single
/// spaces, each key once, values of printable ASCII without space or <c>=</c>. Span-based and
/// allocation-free, so a server can call it for every line.
/// </summary>
/// <remarks>
/// Checks go from the outside in, and the first failure decides the answer: the line's syntax
/// (<see cref="ClientCommandStatus.Malformed"/>), then the verb against what the server offers
/// (<see cref="ClientCommandStatus.UnknownVerb"/>), then the keys
/// (<see cref="ClientCommandStatus.Invalid"/>). Unlike notice readers, a server does not ignore
/// keys it does not know: a command it would half understand is refused. One <c>\r</c> before
/// the <c>\n</c> is tolerated, for clients that end lines the Internet way.
/// </remarks>
public static class ClientCommandParser
{
    /// <summary>The scratch <see cref="Parse"/> needs: room for a name of 255 bytes or an address.</summary>
    public const int ScratchLength = NoticeFormat.EndpointScratchLength;

    private const int TtlMax = 255;

    /// <summary>
    /// Parses <paramref name="line"/> (with or without its <c>\n</c>). <paramref name="offered"/>
    /// are the verbs this server accepts; any other is <see cref="ClientCommandStatus.UnknownVerb"/>.
    /// <paramref name="scratch"/> (at least <see cref="ScratchLength"/> bytes) holds the
    /// destination's address bytes or unescaped name, which <paramref name="command"/> views.
    /// </summary>
    public static ClientCommandStatus Parse(ReadOnlySpan<byte> line, OfferedCommands offered, Span<byte> scratch, out ClientCommand command)
    {
        command = default;
        if (line.Length > NoticeFormat.MaxLineLength)
        {
            return ClientCommandStatus.Malformed;
        }

        if (line.EndsWith("\n"u8))
        {
            line = line[..^1];
            if (line.EndsWith("\r"u8))
            {
                line = line[..^1];
            }
        }

        int space = line.IndexOf((byte)' ');
        var verbText = space < 0 ? line : line[..space];
        var fields = space < 0 ? default : line[(space + 1)..];
        if (!IsToken(verbText) || (space >= 0 && !IsWellFormedFieldList(fields)))
        {
            return ClientCommandStatus.Malformed;
        }

        var verb = ToVerb(verbText);
        if (verb == ClientCommandVerb.Unknown || (offered & OfferedCommandsFormat.ForVerb(verb)) == 0)
        {
            command = new ClientCommand(ClientCommandVerb.Unknown, verbText, default, default, 0, default, 0);
            return ClientCommandStatus.UnknownVerb;
        }

        ReadOnlySpan<byte> destinationText = default;
        ReadOnlySpan<byte> ttlText = default;
        ReadOnlySpan<byte> mappingText = default;
        bool hasDestination = false, hasTtl = false, hasMapping = false, unknownKey = false;
        var rest = fields;
        while (NextField(ref rest, out var key, out var value))
        {
            if (key.SequenceEqual("dst"u8) && verb == ClientCommandVerb.Set)
            {
                destinationText = value;
                hasDestination = true;
            }
            else if (key.SequenceEqual("ttl"u8) && verb == ClientCommandVerb.Set)
            {
                ttlText = value;
                hasTtl = true;
            }
            else if (key.SequenceEqual("map"u8) && verb is ClientCommandVerb.Set or ClientCommandVerb.Unmap)
            {
                mappingText = value;
                hasMapping = true;
            }
            else
            {
                unknownKey = true;
            }
        }

        int mapping = 0;
        bool mappingOk = !hasMapping || IPAddressText.TryParseDecimal(mappingText, ushort.MaxValue, out mapping);
        bool valid = !unknownKey && mappingOk;
        SocksAddress destination = default;
        int ttl = 0;
        switch (verb)
        {
            case ClientCommandVerb.Set:
                valid &= hasDestination && hasTtl
                    && NoticeFormat.TryParseEndpoint(destinationText, scratch, out destination) && destination.Port != 0
                    && TryParseTtl(ttlText, out ttl);
                break;
            case ClientCommandVerb.Unmap:
                // Mapping 0 is the association itself: it ends with the control connection, not by UNMAP.
                valid &= hasMapping && mapping != 0;
                break;
        }

        command = valid
            ? new ClientCommand(verb, verbText, destinationText, destination, ttl, mappingText, (ushort)mapping)
            : new ClientCommand(verb, verbText, destinationText, default, 0, mappingText, 0);
        return valid ? ClientCommandStatus.Valid : ClientCommandStatus.Invalid;
    }

    private static ClientCommandVerb ToVerb(ReadOnlySpan<byte> verb)
    {
        if (verb.SequenceEqual("SET"u8))
        {
            return ClientCommandVerb.Set;
        }

        if (verb.SequenceEqual("MAP"u8))
        {
            return ClientCommandVerb.Map;
        }

        return verb.SequenceEqual("UNMAP"u8) ? ClientCommandVerb.Unmap : ClientCommandVerb.Unknown;
    }

    private static bool TryParseTtl(ReadOnlySpan<byte> text, out int ttl)
    {
        if (text.SequenceEqual("default"u8))
        {
            ttl = ClientCommand.DefaultTtl;
            return true;
        }

        return IPAddressText.TryParseDecimal(text, TtlMax, out ttl) && ttl > 0;
    }

    /// <summary>A verb or key: one or more printable ASCII bytes, no space, no <c>=</c>.</summary>
    private static bool IsToken(ReadOnlySpan<byte> text) => !text.IsEmpty && NoticeFormat.IsValue(text);

    /// <summary>
    /// <c>key=value</c> fields separated by single spaces, none repeated. Quadratic in the number
    /// of fields, which a 1024-byte line keeps to a few hundred short comparisons at worst.
    /// </summary>
    private static bool IsWellFormedFieldList(ReadOnlySpan<byte> fields)
    {
        if (fields.IsEmpty)
        {
            return false; // a space after the verb with nothing behind it
        }

        var rest = fields;
        int start = 0;
        while (!rest.IsEmpty)
        {
            int space = rest.IndexOf((byte)' ');
            var token = space < 0 ? rest : rest[..space];
            if (space >= 0 && space == rest.Length - 1)
            {
                return false; // a trailing space
            }

            int eq = token.IndexOf((byte)'=');
            if (eq <= 0 || !IsToken(token[..eq]) || !NoticeFormat.IsValue(token[(eq + 1)..]) || IsRepeated(fields[..start], token[..eq]))
            {
                return false;
            }

            start += token.Length + 1;
            rest = space < 0 ? default : rest[(space + 1)..];
        }

        return true;
    }

    private static bool IsRepeated(ReadOnlySpan<byte> earlier, ReadOnlySpan<byte> key)
    {
        while (NextField(ref earlier, out var seen, out _))
        {
            if (seen.SequenceEqual(key))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The next field of a list already checked well formed.</summary>
    private static bool NextField(scoped ref ReadOnlySpan<byte> rest, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        if (rest.IsEmpty)
        {
            key = default;
            value = default;
            return false;
        }

        int space = rest.IndexOf((byte)' ');
        var token = space < 0 ? rest : rest[..space];
        rest = space < 0 ? default : rest[(space + 1)..];
        int eq = token.IndexOf((byte)'=');
        key = token[..eq];
        value = token[(eq + 1)..];
        return true;
    }
}
