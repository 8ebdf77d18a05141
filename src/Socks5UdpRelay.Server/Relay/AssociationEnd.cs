using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Server.Relay;

/// <summary>Why an association ended; the ones the client is told about carry a <c>CLOSING</c> reason.</summary>
internal enum AssociationEnd
{
    None = 0,
    ClientClosed,
    ClientReset,
    IdleTimeout,
    Shutdown,
    Limit,
    Failed,

    /// <summary>An operator ended it (the flow view's <c>DELETE /flows/{id}</c>).</summary>
    Admin,

    /// <summary>A malformed frame on a UDP-over-TCP connection, after which the stream cannot be read on.</summary>
    Malformed,
}

internal static class AssociationEndExtensions
{
    public static string? ClosingReason(this AssociationEnd end) => end switch
    {
        AssociationEnd.IdleTimeout => ClosingReasons.IdleTimeout,
        AssociationEnd.Shutdown => ClosingReasons.Shutdown,
        AssociationEnd.Limit => ClosingReasons.Limit,
        AssociationEnd.Admin => ClosingReasons.Admin,
        _ => null,
    };

    public static string Describe(this AssociationEnd end) => end switch
    {
        AssociationEnd.ClientClosed => "client closed",
        AssociationEnd.ClientReset => "client reset",
        AssociationEnd.IdleTimeout => "idle timeout",
        AssociationEnd.Shutdown => "server shutdown",
        AssociationEnd.Limit => "limit",
        AssociationEnd.Failed => "failed",
        AssociationEnd.Admin => "ended by an operator",
        AssociationEnd.Malformed => "malformed frame",
        _ => "unknown",
    };
}
