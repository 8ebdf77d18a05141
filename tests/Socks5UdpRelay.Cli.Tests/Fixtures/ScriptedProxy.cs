using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Cli.Tests.Fixtures;

/// <summary>
/// A SOCKS5 server that fails on purpose, for the exit codes the project's server cannot
/// produce (it has no user/password method): it rejects the credentials (RFC 1929 status 1),
/// or refuses the request with REP 2 ("connection not allowed by ruleset").
/// </summary>
internal sealed class ScriptedProxy : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly bool _rejectPassword;
    private readonly Task _loop;

    public ScriptedProxy(bool rejectPassword)
    {
        _rejectPassword = rejectPassword;
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen();
        EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
        _loop = Task.Run(RunAsync);
    }

    public IPEndPoint EndPoint { get; }

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        await _loop.Within();
    }

    private async Task RunAsync()
    {
        try
        {
            while (true)
            {
                using var client = await _listener.AcceptAsync();
                await ServeAsync(client);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Disposed.
        }
    }

    private async Task ServeAsync(Socket client)
    {
        var buffer = new byte[600];
        // Greeting: VER NMETHODS METHODS...; the tests' clients send it in one segment.
        await client.ReceiveAsync(buffer);
        if (_rejectPassword)
        {
            await client.SendAsync(new byte[] { 5, 2 });
            await client.ReceiveAsync(buffer);
            await client.SendAsync(new byte[] { 1, 1 });
            return;
        }

        await client.SendAsync(new byte[] { 5, 0 });
        await client.ReceiveAsync(buffer);
        await client.SendAsync(new byte[] { 5, 2, 0, 1, 0, 0, 0, 0, 0, 0 });
    }
}
