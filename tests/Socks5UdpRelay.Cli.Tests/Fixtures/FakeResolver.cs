using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Server.Resolution;

namespace Socks5UdpRelay.Cli.Tests.Fixtures;

/// <summary>The server's resolver in these tests: fixed answers per name, HostNotFound for the rest. No name reaches the system resolver.</summary>
internal sealed class FakeResolver : IDestinationResolver
{
    private readonly ConcurrentDictionary<string, IPAddress[]> _answers = new(StringComparer.OrdinalIgnoreCase);

    public FakeResolver Map(string name, params IPAddress[] addresses)
    {
        _answers[name] = addresses;
        return this;
    }

    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
        => _answers.TryGetValue(host, out var answer)
            ? Task.FromResult(answer)
            : Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound));
}
