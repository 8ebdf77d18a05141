using System.Net;

namespace Socks5UdpRelay.Server.Resolution;

/// <summary>
/// Resolves destination names for the relay. Injectable: tests substitute their own, so no test
/// resolves a name through the system resolver but <c>localhost</c>.
/// </summary>
public interface IDestinationResolver
{
    /// <summary>
    /// The name's addresses, every family. A failed lookup throws
    /// <see cref="System.Net.Sockets.SocketException"/> as <see cref="Dns"/> does: HostNotFound (no
    /// such name), NoData (no address), TryAgain (no answer); a cancelled one throws
    /// <see cref="OperationCanceledException"/>. The token carries the lookup's deadline.
    /// </summary>
    Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken);
}
