using System.Net;

namespace Socks5UdpRelay.Protocol;

/// <summary>
/// Writes the one answer line a server owes each command (the README, "Client commands"). Every
/// method fits its line in <see cref="NoticeFormat.MaxLineLength"/> bytes whatever the client
/// wrote, so an answer is never dropped for its size: an echoed <c>dst</c> longer than any valid
/// one (<see cref="NoticeFormat.MaxEndpointLength"/>) or a <c>map</c> longer than five digits
/// is left out, and an unknown verb is echoed from its first 255 bytes. Each returns the line's
/// length, <c>\n</c> included, and allocates nothing.
/// </summary>
public static class CommandAnswerWriter
{
    private const int MaxMappingTextLength = 5;

    /// <summary>
    /// <c>SET-OK dst=… [addr=…] ttl=N|default [map=M]</c>: <paramref name="destination"/> as the
    /// command wrote it; <paramref name="resolved"/> (with the destination's port) when it was a
    /// name; <paramref name="ttl"/> 1-255 or <see cref="ClientCommand.DefaultTtl"/>; <c>map</c> when not 0.
    /// </summary>
    public static int SetOk(Span<byte> buffer, ReadOnlySpan<byte> destination, IPAddress? resolved, ushort port, int ttl, ushort mapping)
    {
        ClientCommandWriter.ThrowIfNotTtl(ttl);
        var writer = new NoticeLineWriter(buffer, CommandVerbs.SetOk);
        EchoDestinationOrMapping(ref writer, NoticeKeys.Destination, destination, NoticeFormat.MaxEndpointLength);
        if (resolved is not null)
        {
            writer.AddEndpoint(NoticeKeys.Address, resolved, port);
        }

        ClientCommandWriter.AddTtlAndMapping(ref writer, ttl, mapping);
        return ClientCommandWriter.Complete(ref writer);
    }

    /// <summary><c>SET-FAILED [dst=…] reason=…</c>, the destination as the command wrote it.</summary>
    public static int SetFailed(Span<byte> buffer, ReadOnlySpan<byte> destination, CommandFailureReason reason)
        => FailedWithEcho(buffer, CommandVerbs.SetFailed, NoticeKeys.Destination, destination, NoticeFormat.MaxEndpointLength, reason);

    /// <summary><c>MAP-OK map=M port=P</c>, P the new mapping's outbound port.</summary>
    public static int MapOk(Span<byte> buffer, ushort mapping, ushort port)
    {
        var writer = new NoticeLineWriter(buffer, CommandVerbs.MapOk);
        writer.Add(NoticeKeys.Mapping, mapping);
        writer.Add(CommandKeys.Port, port);
        return ClientCommandWriter.Complete(ref writer);
    }

    /// <summary><c>MAP-FAILED reason=…</c>.</summary>
    public static int MapFailed(Span<byte> buffer, CommandFailureReason reason)
    {
        var writer = new NoticeLineWriter(buffer, CommandVerbs.MapFailed);
        writer.Add(NoticeKeys.Reason, reason.ToWireName());
        return ClientCommandWriter.Complete(ref writer);
    }

    /// <summary><c>UNMAP-OK map=M</c>.</summary>
    public static int UnmapOk(Span<byte> buffer, ushort mapping)
    {
        var writer = new NoticeLineWriter(buffer, CommandVerbs.UnmapOk);
        writer.Add(NoticeKeys.Mapping, mapping);
        return ClientCommandWriter.Complete(ref writer);
    }

    /// <summary><c>UNMAP-FAILED [map=…] reason=…</c>, the mapping as the command wrote it.</summary>
    public static int UnmapFailed(Span<byte> buffer, ReadOnlySpan<byte> mapping, CommandFailureReason reason)
        => FailedWithEcho(buffer, CommandVerbs.UnmapFailed, NoticeKeys.Mapping, mapping, MaxMappingTextLength, reason);

    /// <summary><c>COMMAND-FAILED reason=malformed</c>.</summary>
    public static int Malformed(Span<byte> buffer)
    {
        var writer = new NoticeLineWriter(buffer, CommandVerbs.CommandFailed);
        writer.Add(NoticeKeys.Reason, CommandFailureReasons.Malformed);
        return ClientCommandWriter.Complete(ref writer);
    }

    /// <summary><c>COMMAND-FAILED verb=VERB reason=unknown</c>, the verb escaped as a name (its first 255 bytes).</summary>
    public static int UnknownVerb(Span<byte> buffer, ReadOnlySpan<byte> verb)
    {
        var writer = new NoticeLineWriter(buffer, CommandVerbs.CommandFailed);
        writer.AddEscapedName(CommandKeys.Verb, verb.Length > SocksAddressCodec.MaxDomainNameLength ? verb[..SocksAddressCodec.MaxDomainNameLength] : verb);
        writer.Add(NoticeKeys.Reason, CommandFailureReasons.Unknown);
        return ClientCommandWriter.Complete(ref writer);
    }

    /// <summary>
    /// <c>VERB-FAILED … reason=…</c> for a parsed command (rate-limit, or a reason the server
    /// found itself), echoing what identifies it: <c>dst</c> for SET, <c>map</c> for UNMAP.
    /// </summary>
    /// <exception cref="ArgumentException">The command's verb is unknown: use <see cref="UnknownVerb"/>.</exception>
    public static int Failed(Span<byte> buffer, in ClientCommand command, CommandFailureReason reason) => command.Verb switch
    {
        ClientCommandVerb.Set => SetFailed(buffer, command.DestinationText, reason),
        ClientCommandVerb.Map => MapFailed(buffer, reason),
        ClientCommandVerb.Unmap => UnmapFailed(buffer, command.MappingText, reason),
        _ => throw new ArgumentException("An unknown verb is answered with UnknownVerb.", nameof(command)),
    };

    /// <summary>The answer to a line <see cref="ClientCommandParser"/> did not find <see cref="ClientCommandStatus.Valid"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="status"/> is <see cref="ClientCommandStatus.Valid"/>: that answer depends on what the command did.</exception>
    public static int Refusal(Span<byte> buffer, ClientCommandStatus status, in ClientCommand command) => status switch
    {
        ClientCommandStatus.Malformed => Malformed(buffer),
        ClientCommandStatus.UnknownVerb => UnknownVerb(buffer, command.VerbText),
        ClientCommandStatus.Invalid => Failed(buffer, command, CommandFailureReason.Invalid),
        _ => throw new ArgumentException("A valid command is answered by what it did.", nameof(status)),
    };

    private static int FailedWithEcho(Span<byte> buffer, string verb, string key, ReadOnlySpan<byte> echo, int maxEchoLength, CommandFailureReason reason)
    {
        var writer = new NoticeLineWriter(buffer, verb);
        EchoDestinationOrMapping(ref writer, key, echo, maxEchoLength);
        writer.Add(NoticeKeys.Reason, reason.ToWireName());
        return ClientCommandWriter.Complete(ref writer);
    }

    private static void EchoDestinationOrMapping(ref NoticeLineWriter writer, string key, ReadOnlySpan<byte> echo, int maxLength)
    {
        if (IsEchoable(echo, maxLength))
        {
            writer.AddRaw(key, echo);
        }
    }

    private static bool IsEchoable(ReadOnlySpan<byte> value, int maxLength)
        => !value.IsEmpty && value.Length <= maxLength && NoticeFormat.IsValue(value);
}
