using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Benchmarks.Load;

/// <summary>
/// A raw SOCKS5 control connection made with the protocol library's codecs: greeting (no
/// authentication), UDP ASSOCIATE for 0.0.0.0:0 and the reply's relay address, or UDP over TCP
/// (<c>CMD=0x05</c> naming <c>NOTICES:1</c>, the README's opt-in) whose frames then travel on the
/// connection itself. Blocking sockets with a deadline on every step; the connection stays open
/// for the association's life and can read notice lines.
/// </summary>
internal sealed class SocksControl : IDisposable
{
    private readonly byte[] _buffer = new byte[4096];
    private int _buffered;

    private SocksControl(Socket tcp, IPEndPoint relay)
    {
        Tcp = tcp;
        Relay = relay;
    }

    public Socket Tcp { get; }

    /// <summary>The relay's UDP address from BND.ADDR/BND.PORT (an unspecified address means the proxy's own).</summary>
    public IPEndPoint Relay { get; }

    public static SocksControl Associate(IPEndPoint proxy, int timeoutMs = 5_000)
    {
        Span<byte> zero = stackalloc byte[4];
        zero.Clear();
        return Request(proxy, Socks5Command.UdpAssociate, new SocksAddress(AddressType.IPv4, zero, 0), timeoutMs);
    }

    /// <summary>UDP over TCP with notices; <see cref="Relay"/> is the proxy itself, and the bytes after the reply (the greeting frame) wait in <see cref="TakeBuffered"/>.</summary>
    public static SocksControl OverTcp(IPEndPoint proxy, int timeoutMs = 5_000)
        => Request(proxy, Socks5Command.UdpOverTcp, UdpOverTcpOptIn.Address, timeoutMs);

    /// <summary>Moves what was read past the reply and not yet taken into <paramref name="into"/>; returns its length.</summary>
    public int TakeBuffered(Span<byte> into)
    {
        int n = _buffered;
        _buffer.AsSpan(0, n).CopyTo(into);
        _buffered = 0;
        return n;
    }

    private static SocksControl Request(IPEndPoint proxy, Socks5Command command, in SocksAddress destination, int timeoutMs)
    {
        var tcp = new Socket(proxy.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = timeoutMs, SendTimeout = timeoutMs };
        try
        {
            tcp.Connect(proxy);
            Span<byte> buf = stackalloc byte[Socks5Reply.MaxLength];
            int n = MethodSelection.WriteGreeting(buf, [AuthMethod.NoAuthentication]);
            tcp.Send(buf[..n]);
            ReadExactly(tcp, buf[..MethodSelection.ReplyLength]);
            if (MethodSelection.TryReadReply(buf[..MethodSelection.ReplyLength], out var method, out _) != OperationStatus.Done || method != AuthMethod.NoAuthentication)
            {
                throw new InvalidOperationException($"proxy {proxy} refused no-authentication");
            }

            n = Socks5Request.Write(buf, command, destination);
            tcp.Send(buf[..n]);

            // The reply's length depends on its ATYP: read until it parses.
            int have = 0;
            while (true)
            {
                int got = tcp.Receive(buf[have..]);
                if (got == 0)
                {
                    throw new InvalidOperationException($"proxy {proxy} closed during {command}");
                }

                have += got;
                var status = Socks5Reply.TryRead(buf[..have], out var reply, out var bound, out int consumed);
                if (status == OperationStatus.NeedMoreData)
                {
                    continue;
                }

                if (status != OperationStatus.Done || reply != ReplyCode.Succeeded)
                {
                    throw new InvalidOperationException($"proxy {proxy} refused {command}: {(status == OperationStatus.Done ? Socks5Reply.Describe(reply) : "malformed reply")}");
                }

                var address = command == Socks5Command.UdpOverTcp || bound.Type == AddressType.DomainName ? proxy.Address : bound.ToIPAddress();
                if (address.Equals(IPAddress.Any))
                {
                    address = proxy.Address;
                }

                var control = new SocksControl(tcp, new IPEndPoint(address, command == Socks5Command.UdpOverTcp ? proxy.Port : bound.Port));
                // Anything after the reply (NOTICES version=1) stays buffered for ReadLine.
                buf[consumed..have].CopyTo(control._buffer);
                control._buffered = have - consumed;
                return control;
            }
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>The next notice line (without its <c>\n</c>) into <paramref name="line"/>; false on timeout or EOF.</summary>
    public bool TryReadLine(Span<byte> line, out int length, int timeoutMs)
    {
        length = 0;
        long deadline = Environment.TickCount64 + timeoutMs;
        while (true)
        {
            int nl = _buffer.AsSpan(0, _buffered).IndexOf((byte)'\n');
            if (nl >= 0)
            {
                length = Math.Min(nl, line.Length);
                _buffer.AsSpan(0, length).CopyTo(line);
                _buffer.AsSpan(nl + 1, _buffered - nl - 1).CopyTo(_buffer);
                _buffered -= nl + 1;
                return true;
            }

            long left = deadline - Environment.TickCount64;
            if (left <= 0 || _buffered == _buffer.Length || !Tcp.Poll(TimeSpan.FromMilliseconds(left), SelectMode.SelectRead))
            {
                return false;
            }

            int got = Tcp.Receive(_buffer.AsSpan(_buffered), SocketFlags.None, out var error);
            if (got <= 0 || error != SocketError.Success)
            {
                return false;
            }

            _buffered += got;
        }
    }

    public static string Text(ReadOnlySpan<byte> line) => Encoding.ASCII.GetString(line);

    public void Dispose() => Tcp.Dispose();

    private static void ReadExactly(Socket s, Span<byte> into)
    {
        int have = 0;
        while (have < into.Length)
        {
            int got = s.Receive(into[have..]);
            if (got == 0)
            {
                throw new InvalidOperationException("proxy closed the connection during the handshake");
            }

            have += got;
        }
    }
}
