namespace Socks5UdpRelay.Protocol;

/// <summary>The command verbs a server may offer (the README, "Client commands").</summary>
public enum ClientCommandVerb
{
    /// <summary>Not a command this library knows, or not one the server offers.</summary>
    Unknown = 0,

    /// <summary><c>SET dst=HOST:PORT ttl=N|default [map=M]</c>.</summary>
    Set,

    /// <summary><c>MAP</c>.</summary>
    Map,

    /// <summary><c>UNMAP map=M</c>.</summary>
    Unmap,
}
