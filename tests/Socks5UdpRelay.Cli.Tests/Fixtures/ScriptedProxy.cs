using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Cli.Tests.Fixtures;

/// <summary>
/// A SOCKS5 server that fails on purpose, for the exit codes the project's server cannot
/// produce (it has no user/password method): it rejects the credentials (RFC 1929 status 1),
/// or refuses the request with REP 2 ("connection not allowed by ruleset"); or, with
/// <c>stall</c>, grants it (BND 0.0.0.0:0, so a UDP-over-TCP client gets no opt-in, as from
/// hev-socks5-server) and reads nothing more, holding the connection open: what a client writes
/// then piles up in the kernel's buffers until TCP holds the next write back.
/// </summary>
internal sealed class ScriptedProxy : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly bool _rejectPassword;
    private readonly bool _stall;
    private readonly List<Socket> _held = [];
    private readonly Task _loop;

    public ScriptedProxy(bool rejectPassword, bool stall = false)
    {
        _rejectPassword = rejectPassword;
        _stall = stall;
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
        _held.ForEach(s => s.Dispose());
    }

    private async Task RunAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptAsync();
                try
                {
                    await ServeAsync(client);
                }
                finally
                {
                    if (_stall)
                    {
                        _held.Add(client); // disposed once the loop is over
                    }
                    else
                    {
                        client.Dispose();
                    }
                }
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
        await client.SendAsync(new byte[] { 5, _stall ? (byte)0 : (byte)2, 0, 1, 0, 0, 0, 0, 0, 0 });
    }
}
