using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Addressing;

namespace Socks5UdpRelay.Server.Relay;

/// <summary>What a command did: done, or refused for a reason (README, "Client commands", failure classes).</summary>
internal readonly record struct CommandResult(bool Done, CommandFailureReason Reason, ushort Mapping = 0, int Port = 0)
{
    public static CommandResult Ok(ushort mapping = 0, int port = 0) => new(true, CommandFailureReason.Other, mapping, port);

    public static CommandResult Refused(CommandFailureReason reason) => new(false, reason);
}

/// <summary>
/// The client's commands, carried out on the association's loop: each is in force when it
/// returns, so a datagram the client sends after reading the answer meets it.
/// </summary>
internal sealed class AssociationCommands(UdpAssociation association, MappingTable mappings)
{
    /// <summary>
    /// <c>SET dst=… ttl=N [map=M]</c>: the flow to <paramref name="key"/> in mapping
    /// <paramref name="mapping"/>, opened as a datagram would open it (policy, caps), sends with
    /// TTL <paramref name="ttl"/> (0: the default) from now on.
    /// </summary>
    public CommandResult Set(ushort mapping, DestinationKey key, string? name, in SocksAddress addressedAs, int ttl)
    {
        if (association.IsEnding)
        {
            return CommandResult.Refused(CommandFailureReason.Limit); // nothing is opened for an association that is closing
        }

        var target = mappings.Get(mapping);
        if (target is null)
        {
            return CommandResult.Refused(CommandFailureReason.Invalid);
        }

        var flow = association.GetOrOpen(target, key, name, addressedAs, forDatagram: false, out var refusal);
        if (flow is null)
        {
            return CommandResult.Refused(refusal);
        }

        return flow.SetTtl(ttl, name) == 0 ? CommandResult.Ok(mapping) : CommandResult.Refused(CommandFailureReason.Invalid);
    }

    /// <summary><c>MAP</c>: a new mapping with its own outbound port.</summary>
    public CommandResult Map()
    {
        if (association.IsEnding)
        {
            return CommandResult.Refused(CommandFailureReason.Limit);
        }

        var mapping = mappings.Add(out var failure);
        return mapping is null ? CommandResult.Refused(failure) : CommandResult.Ok(mapping.Number, mapping.Destinations.OutboundPort);
    }

    /// <summary><c>UNMAP map=M</c>: mapping M and its sockets closed at once.</summary>
    public CommandResult Unmap(ushort mapping)
        => mappings.Remove(mapping) ? CommandResult.Ok(mapping) : CommandResult.Refused(CommandFailureReason.Invalid);
}
