using System.Net.Sockets;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Client;

/// <summary>TCP through a SOCKS5 proxy (CONNECT, RFC 1928 §4).</summary>
public static class Socks5Connector
{
    /// <summary>
    /// Connects to <paramref name="host"/>:<paramref name="port"/> through the proxy. An IP literal
    /// (IPv6 with or without brackets) is sent as ATYP 1 or 4; anything else as a name (ATYP 3),
    /// for the proxy to resolve.
    /// </summary>
    /// <returns>A stream that owns the connected socket (<see cref="NetworkStream.Socket"/>).</returns>
    /// <exception cref="Socks5Exception">The proxy could not be reached, refused, or broke the protocol; or a timeout elapsed.</exception>
    public static async Task<NetworkStream> ConnectAsync(Socks5ProxyOptions options, string host, int port, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var target = HostText.ToEndpoint(host, port);
        var (socket, _) = await Socks5Handshake.EstablishAsync(options, Socks5Command.Connect, target, cancellationToken).ConfigureAwait(false);
        return new NetworkStream(socket, ownsSocket: true);
    }
}
