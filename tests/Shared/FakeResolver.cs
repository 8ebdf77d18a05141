using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Server.Resolution;

namespace Socks5UdpRelay.Tests.Shared;

/// <summary>
/// The server's resolver in tests: fixed answers per name, failures by SocketError, or lookups that
/// never finish; HostNotFound for any other name, so no name reaches the system resolver. Counts lookups.
/// </summary>
public sealed class FakeResolver : IDestinationResolver
{
    private readonly ConcurrentDictionary<string, Func<Task<IPAddress[]>>> _answers = new(StringComparer.OrdinalIgnoreCase);
    private int _lookups;

    public int Lookups => Volatile.Read(ref _lookups);

    public FakeResolver Map(string name, params IPAddress[] addresses)
    {
        _answers[name] = () => Task.FromResult(addresses);
        return this;
    }

    public FakeResolver Fail(string name, SocketError error)
    {
        _answers[name] = () => Task.FromException<IPAddress[]>(new SocketException((int)error));
        return this;
    }

    public FakeResolver Hang(string name)
    {
        _answers[name] = () => new TaskCompletionSource<IPAddress[]>().Task;
        return this;
    }

    /// <summary>Answers <paramref name="name"/> with whatever <paramref name="answer"/> gives, when it gives it.</summary>
    public FakeResolver Answer(string name, Func<Task<IPAddress[]>> answer)
    {
        _answers[name] = answer;
        return this;
    }

    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _lookups);
        return _answers.TryGetValue(host, out var answer)
            ? answer().WaitAsync(cancellationToken)
            : Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound));
    }
}
