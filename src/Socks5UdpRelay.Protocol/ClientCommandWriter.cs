namespace Socks5UdpRelay.Protocol;

/// <summary>
/// Writes the command lines a client sends on its control connection (the README, "Client
/// commands"), with the notice line rules: the destination written as notices write <c>dst</c>.
/// Each method returns the line's length, <c>\n</c> included.
/// </summary>
public static class ClientCommandWriter
{
    /// <summary><c>SET dst=… ttl=N|default [map=M]</c>; <paramref name="ttl"/> 1-255 or <see cref="ClientCommand.DefaultTtl"/>; <c>map</c> written when not 0.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ttl"/> is not 0-255, or the destination's port is 0.</exception>
    public static int WriteSet(Span<byte> buffer, in SocksAddress destination, int ttl, ushort mapping)
    {
        ThrowIfNotTtl(ttl);
        if (destination.Port == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(destination), "A SET destination needs a port.");
        }

        var writer = new NoticeLineWriter(buffer, CommandVerbs.Set);
        writer.AddEndpoint(NoticeKeys.Destination, destination);
        AddTtlAndMapping(ref writer, ttl, mapping);
        return Complete(ref writer);
    }

    /// <summary><c>MAP</c>.</summary>
    public static int WriteMap(Span<byte> buffer)
    {
        var writer = new NoticeLineWriter(buffer, CommandVerbs.Map);
        return Complete(ref writer);
    }

    /// <summary><c>UNMAP map=M</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="mapping"/> is 0: the first mapping ends with the association.</exception>
    public static int WriteUnmap(Span<byte> buffer, ushort mapping)
    {
        ArgumentOutOfRangeException.ThrowIfZero(mapping);
        var writer = new NoticeLineWriter(buffer, CommandVerbs.Unmap);
        writer.Add(NoticeKeys.Mapping, mapping);
        return Complete(ref writer);
    }

    internal static void ThrowIfNotTtl(int ttl)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ttl);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ttl, 255);
    }

    /// <summary><c>ttl=N|default</c>, then <c>map=M</c> unless M is 0: SET and SET-OK end alike.</summary>
    internal static void AddTtlAndMapping(ref NoticeLineWriter writer, int ttl, ushort mapping)
    {
        if (ttl == ClientCommand.DefaultTtl)
        {
            writer.Add(CommandKeys.Ttl, CommandKeys.DefaultTtl);
        }
        else
        {
            writer.Add(CommandKeys.Ttl, ttl);
        }

        if (mapping != 0)
        {
            writer.Add(NoticeKeys.Mapping, mapping);
        }
    }

    internal static int Complete(ref NoticeLineWriter writer)
        => writer.TryComplete(out int length)
            ? length
            : throw new ArgumentException($"The buffer is too short for the line; {NoticeFormat.MaxLineLength} bytes always suffice.", "buffer");
}
