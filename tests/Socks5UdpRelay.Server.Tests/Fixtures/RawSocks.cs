using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Fixtures;

/// <summary>
/// Byte-level SOCKS5 for tests that must send what no well-behaved client would: hand-built
/// greetings, requests and UDP headers, written with literal bytes so the test shows the wire.
/// </summary>
internal sealed class RawSocks : IAsyncDisposable
{
    private readonly byte[] _lineBuffer = new byte[2048];
    private int _lineLength;

    private RawSocks(Socket control)
    {
        Control = control;
    }

    public Socket Control { get; }

    public static async Task<RawSocks> ConnectAsync(IPEndPoint server)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server, TestTimeout.Token);
        return new RawSocks(socket);
    }

    public async Task SendAsync(params byte[] bytes) => await Control.SendAsync(bytes, SocketFlags.None, TestTimeout.Token);

    /// <summary>Reads exactly <paramref name="count"/> bytes, or fewer if the server closes first.</summary>
    public async Task<byte[]> ReadAsync(int count)
    {
        byte[] buffer = new byte[count];
        int total = 0;
        while (total < count)
        {
            int n = await Control.ReceiveAsync(buffer.AsMemory(total), SocketFlags.None, TestTimeout.Token);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return buffer[..total];
    }

    /// <summary>True when the server closes the connection (EOF or reset) before sending anything more.</summary>
    public async Task<bool> ClosedByServerAsync()
    {
        byte[] one = new byte[1];
        try
        {
            return await Control.ReceiveAsync(one, SocketFlags.None, TestTimeout.Token) == 0;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
    }

    /// <summary>Greets with no-auth, asks UDP ASSOCIATE for 0.0.0.0:0, returns the relay endpoint from the reply.</summary>
    public async Task<IPEndPoint> AssociateAsync(byte[]? request = null)
    {
        await SendAsync(0x05, 0x01, 0x00);
        var method = await ReadAsync(2);
        Assert.Equal(new byte[] { 0x05, 0x00 }, method);
        await SendAsync(request ?? [0x05, 0x03, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);
        var head = await ReadAsync(4);
        Assert.Equal(4, head.Length);
        Assert.Equal(0x00, head[1]);
        var rest = await ReadAsync(head[3] == 0x01 ? 6 : 18);
        var address = new IPAddress(rest.AsSpan(0, rest.Length - 2));
        return new IPEndPoint(address, BinaryPrimitives.ReadUInt16BigEndian(rest.AsSpan(rest.Length - 2)));
    }

    /// <summary>Reads one notice line (without its \n); null if the connection ends first.</summary>
    public async Task<string?> ReadLineAsync(CancellationToken? cancellationToken = null)
    {
        var token = cancellationToken ?? TestTimeout.Token;
        while (true)
        {
            int nl = Array.IndexOf(_lineBuffer, (byte)'\n', 0, _lineLength);
            if (nl >= 0)
            {
                string line = Encoding.ASCII.GetString(_lineBuffer, 0, nl);
                Array.Copy(_lineBuffer, nl + 1, _lineBuffer, 0, _lineLength - nl - 1);
                _lineLength -= nl + 1;
                return line;
            }

            int n;
            try
            {
                n = await Control.ReceiveAsync(_lineBuffer.AsMemory(_lineLength), SocketFlags.None, token);
            }
            catch (SocketException)
            {
                return null;
            }

            if (n == 0)
            {
                return null;
            }

            _lineLength += n;
        }
    }

    /// <summary>RSV RSV FRAG ATYP ADDR PORT DATA for an IP destination.</summary>
    public static byte[] Datagram(IPEndPoint destination, ReadOnlySpan<byte> payload, byte fragment = 0)
    {
        var address = destination.Address.IsIPv4MappedToIPv6 ? destination.Address.MapToIPv4() : destination.Address;
        byte[] ip = address.GetAddressBytes();
        byte[] datagram = new byte[4 + ip.Length + 2 + payload.Length];
        datagram[2] = fragment;
        datagram[3] = ip.Length == 4 ? (byte)0x01 : (byte)0x04;
        ip.CopyTo(datagram, 4);
        BinaryPrimitives.WriteUInt16BigEndian(datagram.AsSpan(4 + ip.Length), (ushort)destination.Port);
        payload.CopyTo(datagram.AsSpan(6 + ip.Length));
        return datagram;
    }

    /// <summary>RSV RSV FRAG 03 LEN NAME PORT DATA.</summary>
    public static byte[] Datagram(string name, int port, ReadOnlySpan<byte> payload)
    {
        byte[] n = Encoding.ASCII.GetBytes(name);
        byte[] datagram = new byte[5 + n.Length + 2 + payload.Length];
        datagram[3] = 0x03;
        datagram[4] = (byte)n.Length;
        n.CopyTo(datagram, 5);
        BinaryPrimitives.WriteUInt16BigEndian(datagram.AsSpan(5 + n.Length), (ushort)port);
        payload.CopyTo(datagram.AsSpan(7 + n.Length));
        return datagram;
    }

    public async ValueTask DisposeAsync()
    {
        Control.Dispose();
        await Task.CompletedTask;
    }
}
