using System.Net;

namespace Socks5UdpRelay.Server.Resolution;

/// <summary>
/// Resolves destination names for the relay. Injectable: tests substitute their own, so no test
/// resolves a name through the system resolver but <c>localhost</c>.
/// </summary>
public interface IDestinationResolver
{
    /// <summary>The name's addresses; throws <see cref="System.Net.Sockets.SocketException"/> as <see cref="Dns"/> does for a failed lookup.</summary>
    Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken);
}

/// <summary>The operating system's resolver (<see cref="Dns"/>).</summary>
internal sealed class SystemDestinationResolver : IDestinationResolver
{
    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
        => Dns.GetHostAddressesAsync(host, cancellationToken);
}
