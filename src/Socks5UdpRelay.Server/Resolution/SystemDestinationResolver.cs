using System.Net;

namespace Socks5UdpRelay.Server.Resolution;

/// <summary>
/// The operating system's resolver (<see cref="Dns"/>, getaddrinfo: <c>Relay:Resolver=system</c>).
/// It honours nsswitch.conf, but a lookup the token abandons goes on holding a thread until the
/// system resolver gives up (see the README, Configuration).
/// </summary>
internal sealed class SystemDestinationResolver : IDestinationResolver
{
    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
        => Dns.GetHostAddressesAsync(host, cancellationToken);
}
