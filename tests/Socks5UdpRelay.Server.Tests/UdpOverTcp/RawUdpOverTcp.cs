using System.Net;
using System.Net.Sockets;
using System.Text;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.UdpOverTcp;

/// <summary>
/// A UDP-over-TCP client written from the README ("UDP over TCP") alone, as hev-socks5-tunnel
/// speaks it: greeting, <c>CMD=0x05</c>, then frames both ways. It asks for notices only when told
/// (<c>NOTICES:1</c> in the request). Every frame it reads is checked against the README: HDRLEN
/// as ATYP implies, and for a client that did not opt in, datagram frames only with at most 1500
/// bytes of DATA (hev-socks5 ends the session on anything else), so each test asserts that too.
/// </summary>
internal sealed class RawUdpOverTcp : IAsyncDisposable
{
    public const string Greeting = "NOTICES version=1 commands=set,map";

    /// <summary>What a hev-socks5 client asks: <c>CMD=0x05</c> for 0.0.0.0:0.</summary>
    public static readonly byte[] HevRequest = [0x05, 0x05, 0x00, 0x01, 0, 0, 0, 0, 0, 0];

    /// <summary><c>CMD=0x05</c> naming <c>NOTICES</c>, port 1: the opt-in.</summary>
    public static readonly byte[] OptInRequest = [0x05, 0x05, 0x00, 0x03, 7, .. "NOTICES"u8, 0x00, 0x01];

    /// <summary>The opt-in as an agreeing server names it in BND.ADDR/BND.PORT.</summary>
    public static readonly byte[] OptInAddress = [0x03, 7, .. "NOTICES"u8, 0x00, 0x01];

    // The largest frame: 65 535 bytes of DATA behind a header of at most 255.
    private readonly byte[] _buffer = new byte[2 * (65_535 + 255)];
    private int _start;
    private int _end;

    private readonly NetworkCredential? _credentials;

    private RawUdpOverTcp(Socket socket, NetworkCredential? credentials)
    {
        Socket = socket;
        _credentials = credentials;
    }

    public Socket Socket { get; }

    /// <summary>True once the server agreed to the opt-in: control and mapped frames may come.</summary>
    public bool OptedIn { get; private set; }

    /// <summary>
    /// Connects and authenticates (no authentication, or RFC 1929 with <paramref name="credentials"/>);
    /// with <paramref name="pipelined"/>, nothing is sent yet (see <see cref="PipelineAsync"/>). A
    /// <paramref name="receiveBuffer"/> is set before the connection, so the window the server sees
    /// is that small from the start.
    /// </summary>
    public static async Task<RawUdpOverTcp> ConnectAsync(IPEndPoint server, bool pipelined = false, int receiveBuffer = 0, NetworkCredential? credentials = null)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (receiveBuffer > 0)
        {
            socket.ReceiveBufferSize = receiveBuffer;
        }

        await socket.ConnectAsync(server, TestTimeout.Token);
        var client = new RawUdpOverTcp(socket, credentials);
        if (!pipelined)
        {
            await client.SendAsync(client.MethodRequest);
            await client.ReadAuthenticationAsync();
            if (credentials is not null)
            {
                await client.SendAsync(client.CredentialsMessage);
                await client.ReadCredentialsReplyAsync();
            }
        }

        return client;
    }

    /// <summary>
    /// Sends <paramref name="request"/> and <paramref name="behind"/> in one write, before reading
    /// anything, and returns the reply's REP and its BND (ATYP ADDR PORT).
    /// </summary>
    public async Task<(byte Code, byte[] Bound)> RequestAsync(byte[] request, params byte[][] behind)
    {
        await SendAsync([request, .. behind]);
        return await ReadReplyAsync(request);
    }

    /// <summary>hev-socks5-tunnel's pipelined handshake: greeting, credentials, request and frames in one write, then the answers.</summary>
    public async Task<(byte Code, byte[] Bound)> PipelineAsync(byte[] request, params byte[][] behind)
    {
        await SendAsync([MethodRequest, .. _credentials is null ? Array.Empty<byte[]>() : [CredentialsMessage], request, .. behind]);
        await ReadAuthenticationAsync();
        if (_credentials is not null)
        {
            await ReadCredentialsReplyAsync();
        }

        return await ReadReplyAsync(request);
    }

    /// <summary>
    /// Opens an association as hev-socks5-tunnel does, or with the opt-in: asserts a success reply,
    /// BND as the README says, and for the opt-in the greeting as the first frame.
    /// </summary>
    public static async Task<RawUdpOverTcp> OpenAsync(IPEndPoint server, bool optIn = false, string greeting = Greeting, int receiveBuffer = 0, params byte[][] behind)
    {
        var client = await ConnectAsync(server, receiveBuffer: receiveBuffer);
        try
        {
            var (code, bound) = await client.RequestAsync(optIn ? OptInRequest : HevRequest, behind);
            Assert.Equal(0x00, code);
            if (optIn)
            {
                Assert.Equal(OptInAddress, bound);
                Assert.Equal(greeting, await client.ReadLineAsync());
            }
            else
            {
                Assert.NotEqual(0x03, bound[0]); // hev-socks5 reads an IPv4 or IPv6 BND only
            }

            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    public async Task SendAsync(params byte[][] parts)
    {
        byte[] all = [.. parts.SelectMany(p => p)];
        await Socket.SendAsync(all, SocketFlags.None, TestTimeout.Token);
    }

    /// <summary>The next frame; null when the server closes the connection at a frame boundary.</summary>
    public async Task<ReceivedFrame?> ReadFrameAsync(CancellationToken? cancellationToken = null)
    {
        var token = cancellationToken ?? TestTimeout.Token;
        if (!await FillAsync(3, token))
        {
            Assert.True(_end == _start, $"the connection ended inside a frame's length fields ({_end - _start} bytes)");
            return null;
        }

        int datLen = (_buffer[_start] << 8) | _buffer[_start + 1];
        int hdrLen = _buffer[_start + 2];
        Assert.True(await FillAsync(hdrLen + datLen, token), "the connection ended inside a frame");
        var header = _buffer.AsSpan(_start, hdrLen);
        byte[] data = _buffer[(_start + hdrLen)..(_start + hdrLen + datLen)];
        _start += hdrLen + datLen;
        var frame = Parse(header, data);
        if (!OptedIn)
        {
            Assert.False(frame.IsControl, $"a client that did not opt in got {frame}");
            Assert.True(frame.Mapping == 0 && (header[3] & 0x80) == 0, $"a client that did not opt in got a mapped frame: {frame}");
            Assert.True(datLen <= 1500, $"a client that did not opt in got {datLen} bytes of DATA: hev-socks5 ends the session on that");
        }

        return frame;
    }

    /// <summary>The next frame, which must be a datagram.</summary>
    public async Task<ReceivedFrame> ReadDatagramAsync()
    {
        var frame = await ReadFrameAsync() ?? throw new Xunit.Sdk.XunitException("the server closed the connection");
        Assert.False(frame.IsControl, $"expected a datagram, got {frame}");
        return frame;
    }

    /// <summary>The next frame, which must be a control frame of exactly one line; the line without its <c>\n</c>.</summary>
    public async Task<string> ReadLineAsync()
    {
        var frame = await ReadFrameAsync() ?? throw new Xunit.Sdk.XunitException("the server closed the connection");
        Assert.True(frame.IsControl, $"expected a control frame, got {frame}");
        string text = frame.Text;
        Assert.True(text.EndsWith('\n') && text.IndexOf('\n') == text.Length - 1, $"a control frame is one line with its \\n: '{text}'");
        Assert.True(text.Length <= 1024, $"a line of {text.Length} bytes");
        return text[..^1];
    }

    /// <summary>Every frame until the server closes the connection.</summary>
    public async Task<List<ReceivedFrame>> ReadToEndAsync()
    {
        var frames = new List<ReceivedFrame>();
        while (await ReadFrameAsync() is { } frame)
        {
            frames.Add(frame);
        }

        return frames;
    }

    /// <summary>True when the server closes the connection (EOF or reset) without sending anything more.</summary>
    public async Task<bool> ClosedByServerAsync()
    {
        Assert.Equal(_start, _end);
        try
        {
            return await Socket.ReceiveAsync(new byte[1], SocketFlags.None, TestTimeout.Token) == 0;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Socket.Dispose();
        await Task.CompletedTask;
    }

    /// <summary>One method offered, as hev-socks5 offers it: user/password when it has credentials, else none.</summary>
    private byte[] MethodRequest => [0x05, 0x01, _credentials is null ? (byte)0x00 : (byte)0x02];

    /// <summary>RFC 1929: VER=1 ULEN UNAME PLEN PASSWD.</summary>
    private byte[] CredentialsMessage
    {
        get
        {
            byte[] user = Encoding.UTF8.GetBytes(_credentials!.UserName);
            byte[] password = Encoding.UTF8.GetBytes(_credentials.Password);
            return [0x01, (byte)user.Length, .. user, (byte)password.Length, .. password];
        }
    }

    private async Task ReadAuthenticationAsync()
        => Assert.Equal(new byte[] { 0x05, _credentials is null ? (byte)0x00 : (byte)0x02 }, await ReadExactlyAsync(2));

    private async Task ReadCredentialsReplyAsync() => Assert.Equal(new byte[] { 0x01, 0x00 }, await ReadExactlyAsync(2));

    private async Task<(byte Code, byte[] Bound)> ReadReplyAsync(byte[] request)
    {
        byte[] head = await ReadExactlyAsync(4);
        Assert.Equal(0x05, head[0]);
        Assert.Equal(0x00, head[2]);
        int rest = head[3] switch
        {
            0x01 => 4 + 2,
            0x04 => 16 + 2,
            0x03 => 1 + (await ReadExactlyAsync(1, peek: true))[0] + 2,
            _ => throw new Xunit.Sdk.XunitException($"reply ATYP {head[3]}"),
        };
        byte[] bound = [head[3], .. await ReadExactlyAsync(rest)];
        OptedIn = head[1] == 0x00 && request.AsSpan().SequenceEqual(OptInRequest) && bound.AsSpan().SequenceEqual(OptInAddress);
        return (head[1], bound);
    }

    private async Task<byte[]> ReadExactlyAsync(int count, bool peek = false)
    {
        Assert.True(await FillAsync(count, TestTimeout.Token), $"the server closed the connection before {count} bytes");
        byte[] bytes = _buffer[_start..(_start + count)];
        if (!peek)
        {
            _start += count;
        }

        return bytes;
    }

    private async Task<bool> FillAsync(int count, CancellationToken token)
    {
        if (_end - _start >= count)
        {
            return true;
        }

        Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
        _end -= _start;
        _start = 0;
        while (_end < count)
        {
            int n;
            try
            {
                n = await Socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, token);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
            {
                n = 0;
            }

            if (n == 0)
            {
                return false;
            }

            _end += n;
        }

        return true;
    }

    /// <summary>A frame's header by the README: HDRLEN must be what ATYP (and the mapping flag) implies.</summary>
    private static ReceivedFrame Parse(ReadOnlySpan<byte> header, byte[] data)
    {
        Assert.True(header.Length >= 4, $"HDRLEN {header.Length}");
        byte atyp = header[3];
        if (atyp == 0xFF)
        {
            Assert.Equal(4, header.Length);
            return new ReceivedFrame(true, 0, string.Empty, data);
        }

        int at = 4;
        ushort mapping = 0;
        if ((atyp & 0x80) != 0)
        {
            mapping = (ushort)((header[4] << 8) | header[5]);
            Assert.NotEqual(0, mapping); // mapping 0 uses plain frames
            at = 6;
        }

        string host;
        switch (atyp & 0x7F)
        {
            case 0x01:
                host = new IPAddress(header.Slice(at, 4)).ToString();
                at += 4;
                break;
            case 0x04:
                host = "[" + new IPAddress(header.Slice(at, 16)) + "]";
                at += 16;
                break;
            case 0x03:
                int length = header[at];
                host = Encoding.ASCII.GetString(header.Slice(at + 1, length));
                at += 1 + length;
                break;
            default:
                throw new Xunit.Sdk.XunitException($"frame ATYP 0x{atyp:X2}");
        }

        Assert.True(at + 2 == header.Length, $"HDRLEN {header.Length} where ATYP 0x{atyp:X2} implies {at + 2}");
        int port = (header[at] << 8) | header[at + 1];
        return new ReceivedFrame(false, mapping, $"{host}:{port}", data);
    }
}
