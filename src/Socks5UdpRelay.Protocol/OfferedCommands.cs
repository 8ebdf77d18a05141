namespace Socks5UdpRelay.Protocol;

/// <summary>
/// The commands a server accepts on the control connection, as its greeting lists them:
/// <c>NOTICES version=1 commands=set,map</c> (the README, "Client commands").
/// </summary>
[Flags]
public enum OfferedCommands
{
    /// <summary>No commands: no <c>commands=</c> key, or a server that sends no greeting.</summary>
    None = 0,

    /// <summary><c>SET</c>: per-destination settings (the TTL).</summary>
    Set = 1,

    /// <summary><c>MAP</c> and <c>UNMAP</c>: more mappings on one association.</summary>
    Map = 2,
}

/// <summary>The greeting's <c>commands=</c> value: wire names lower case, comma-separated.</summary>
public static class OfferedCommandsFormat
{
    /// <summary>The value for <paramref name="commands"/>; empty for <see cref="OfferedCommands.None"/>. Allocates nothing.</summary>
    public static string ToWireValue(OfferedCommands commands) => (commands & (OfferedCommands.Set | OfferedCommands.Map)) switch
    {
        OfferedCommands.Set => "set",
        OfferedCommands.Map => "map",
        OfferedCommands.Set | OfferedCommands.Map => "set,map",
        _ => string.Empty,
    };

    /// <summary>
    /// Reads a <c>commands=</c> value. Names this reader does not know are ignored, as readers
    /// ignore what they do not know; so are empty names.
    /// </summary>
    public static OfferedCommands Parse(ReadOnlySpan<char> value)
    {
        var commands = OfferedCommands.None;
        foreach (var range in value.Split(','))
        {
            commands |= value[range] switch
            {
                "set" => OfferedCommands.Set,
                "map" => OfferedCommands.Map,
                _ => OfferedCommands.None,
            };
        }

        return commands;
    }

    /// <summary>The flag that offers <paramref name="verb"/> (<c>UNMAP</c> comes with <c>MAP</c>); <see cref="OfferedCommands.None"/> for any other verb.</summary>
    public static OfferedCommands ForVerb(ClientCommandVerb verb) => verb switch
    {
        ClientCommandVerb.Set => OfferedCommands.Set,
        ClientCommandVerb.Map or ClientCommandVerb.Unmap => OfferedCommands.Map,
        _ => OfferedCommands.None,
    };
}
