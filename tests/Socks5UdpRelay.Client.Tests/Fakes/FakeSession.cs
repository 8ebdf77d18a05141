using System.Net;
using System.Net.Sockets;
using System.Text;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Client.Tests.Fakes;

/// <summary>
/// One accepted request of <see cref="FakeSocks5Server"/>: its control connection, and for UDP
/// ASSOCIATE the relay socket (client side) and one outbound socket per family.
/// </summary>
internal sealed class FakeSession : IAsyncDisposable
{
    private readonly List<Task> _loops = [];
    private readonly Socket? _outbound4;
    private readonly Socket? _outbound6;
    private Socket? _relay;
    private Socket? _destination;
    private IPEndPoint? _client;

    private FakeSession(Socket control)
    {
        Control = control;
    }

    public Socket Control { get; }

    /// <summary>The relay's UDP endpoint (the real one, whatever the reply advertised).</summary>
    public IPEndPoint RelayEndPoint { get; private set; } = null!;

    private FakeSession(Socket control, IPEndPoint relay)
        : this(control)
    {
        _outbound4 = BindUdp(new IPEndPoint(IPAddress.Loopback, 0));
        _outbound6 = BindUdp(new IPEndPoint(IPAddress.IPv6Loopback, 0));
        OpenRelay(relay);
        _loops.Add(Task.Run(() => OutboundLoopAsync(_outbound4)));
        _loops.Add(Task.Run(() => OutboundLoopAsync(_outbound6)));
    }

    public static async Task<FakeSession> StartUdpAsync(Socket control, IPAddress? advertised, string[] noticeLines)
    {
        var local = (IPEndPoint)control.LocalEndPoint!;
        var session = new FakeSession(control, new IPEndPoint(local.Address, 0));
        var bound = advertised ?? session.RelayEndPoint.Address;
        var reply = new byte[Socks5Reply.MaxLength];
        int length = Socks5Reply.Write(reply, ReplyCode.Succeeded, bound, (ushort)session.RelayEndPoint.Port);
        // Reply and notices in one write: the client must not read past its reply.
        var text = Encoding.ASCII.GetBytes(string.Concat(noticeLines.Select(l => l + "\n")));
        await control.SendAsync(reply.AsMemory(0, length).ToArray().Concat(text).ToArray());
        return session;
    }

    public static async Task<FakeSession> StartConnectAsync(Socket control, Socks5Endpoint target, byte[] dataAfterReply)
    {
        var address = target.Address ?? (target.Host == "localhost" ? IPAddress.Loopback : throw new InvalidOperationException("The fake resolves only localhost."));
        var destination = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await destination.ConnectAsync(new IPEndPoint(address, target.Port));
        var session = new FakeSession(control) { _destination = destination };
        var local = (IPEndPoint)destination.LocalEndPoint!;
        var reply = new byte[Socks5Reply.MaxLength];
        int length = Socks5Reply.Write(reply, ReplyCode.Succeeded, local.Address, (ushort)local.Port);
        await control.SendAsync(reply.AsMemory(0, length).ToArray().Concat(dataAfterReply).ToArray());
        session._loops.Add(Task.Run(() => PipeAsync(control, destination)));
        session._loops.Add(Task.Run(() => PipeAsync(destination, control)));
        return session;
    }

    /// <summary>Writes raw text on the control connection.</summary>
    public async Task WriteAsync(string text) => await Control.SendAsync(Encoding.ASCII.GetBytes(text));

    /// <summary>Closes the control connection in order (FIN).</summary>
    public void Close()
    {
        Control.Shutdown(SocketShutdown.Both);
        Control.Close();
    }

    /// <summary>Aborts the control connection (RST).</summary>
    public void Reset()
    {
        Control.LingerState = new LingerOption(true, 0);
        Control.Close();
    }

    /// <summary>Closes the relay socket, so datagrams to it draw ICMP port unreachable.</summary>
    public void CloseRelay() => _relay!.Dispose();

    /// <summary>Binds the relay again on the same port.</summary>
    public void ReopenRelay() => OpenRelay(RelayEndPoint);

    /// <summary>Sends a datagram, header and all, from the relay socket to <paramref name="client"/>.</summary>
    public async Task SendFromRelayAsync(IPEndPoint client, byte[] datagram) => await _relay!.SendToAsync(datagram, client);

    /// <summary>Builds an RFC 1928 §7 datagram with a name as its address.</summary>
    public static byte[] Datagram(string host, ushort port, byte[] payload, byte fragment = 0)
    {
        var buffer = new byte[UdpRequestHeader.MaxLength + payload.Length];
        byte[] name = Encoding.Latin1.GetBytes(host);
        int header = UdpRequestHeader.Write(buffer, new SocksAddress(AddressType.DomainName, name, port));
        buffer[2] = fragment;
        payload.CopyTo(buffer, header);
        return buffer[..(header + payload.Length)];
    }

    /// <summary>Builds an RFC 1928 §7 datagram with an IP address as its address.</summary>
    public static byte[] Datagram(IPEndPoint source, byte[] payload, byte fragment = 0)
    {
        var buffer = new byte[UdpRequestHeader.MaxLength + payload.Length];
        int header = UdpRequestHeader.Write(buffer, source.Address, (ushort)source.Port);
        buffer[2] = fragment;
        payload.CopyTo(buffer, header);
        return buffer[..(header + payload.Length)];
    }

    public async ValueTask DisposeAsync()
    {
        Control.Dispose();
        _relay?.Dispose();
        _outbound4?.Dispose();
        _outbound6?.Dispose();
        _destination?.Dispose();
        await Task.WhenAll(_loops);
    }

    private static Socket BindUdp(IPEndPoint endPoint)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(endPoint);
        return socket;
    }

    private void OpenRelay(IPEndPoint endPoint)
    {
        var relay = BindUdp(endPoint);
        _relay = relay;
        RelayEndPoint = (IPEndPoint)relay.LocalEndPoint!;
        _loops.Add(Task.Run(() => RelayLoopAsync(relay)));
    }

    /// <summary>Client → destination: unwrap the header and send the payload from the outbound socket.</summary>
    private async Task RelayLoopAsync(Socket relay)
    {
        var buffer = new byte[65_535];
        EndPoint any = new IPEndPoint(RelayEndPoint.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        try
        {
            while (true)
            {
                var received = await relay.ReceiveFromAsync(buffer, SocketFlags.None, any);
                _client = (IPEndPoint)received.RemoteEndPoint;
                if (!UdpRequestHeader.TryParse(buffer.AsSpan(0, received.ReceivedBytes), out _, out var destination, out int header))
                {
                    continue;
                }

                var target = FakeSocks5Server.Socks5EndpointOf(destination);
                var address = target.Address ?? (target.Host == "localhost" ? IPAddress.Loopback : null);
                if (address is null)
                {
                    continue;
                }

                var outbound = address.AddressFamily == AddressFamily.InterNetworkV6 ? _outbound6! : _outbound4!;
                await outbound.SendToAsync(buffer.AsMemory(header, received.ReceivedBytes - header), SocketFlags.None, new IPEndPoint(address, target.Port));
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Closed by CloseRelay or dispose.
        }
    }

    /// <summary>Destination → client: wrap the reply in a header naming its source.</summary>
    private async Task OutboundLoopAsync(Socket outbound)
    {
        var buffer = new byte[65_535];
        EndPoint any = new IPEndPoint(outbound.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        try
        {
            while (true)
            {
                var received = await outbound.ReceiveFromAsync(buffer.AsMemory(UdpRequestHeader.MaxLength), SocketFlags.None, any);
                var source = (IPEndPoint)received.RemoteEndPoint;
                var datagram = Datagram(source, buffer.AsSpan(UdpRequestHeader.MaxLength, received.ReceivedBytes).ToArray());
                if (_client is { } client)
                {
                    await _relay!.SendToAsync(datagram, client);
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Disposed.
        }
    }

    private static async Task PipeAsync(Socket from, Socket to)
    {
        var buffer = new byte[4096];
        try
        {
            int n;
            while ((n = await from.ReceiveAsync(buffer)) > 0)
            {
                await to.SendAsync(buffer.AsMemory(0, n));
            }

            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // One side went away.
        }
    }
}
