using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Socks5UdpRelay.Tests.Shared;
using Socks5UdpRelay.Tests.Shared.Topology;

namespace Socks5UdpRelay.Server.Tests.Topology;

/// <summary>
/// Watches the ICMP (or ICMPv6) errors that arrive in one namespace through a raw socket, which
/// the kernel hands a copy of every incoming ICMP message before the UDP layer sees it. This is
/// how the tests check type, code, offender and MTU, and see errors a plain connected socket
/// never surfaces (3/0, 3/1, 11/0), without tcpdump and without the error queue.
/// </summary>
public sealed class IcmpSniffer : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly AddressFamily _family;
    private readonly Channel<IcmpError> _errors = Channel.CreateUnbounded<IcmpError>();
    private readonly List<IcmpError> _seen = [];
    private readonly Lock _gate = new();
    private readonly Task _loop;

    private IcmpSniffer(Socket socket, AddressFamily family)
    {
        _socket = socket;
        _family = family;
        _loop = RunAsync();
    }

    /// <summary>Every error seen so far, in arrival order.</summary>
    public IReadOnlyList<IcmpError> Seen
    {
        get
        {
            lock (_gate)
            {
                return [.. _seen];
            }
        }
    }

    /// <summary>Starts watching <paramref name="ns"/> for ICMP errors of one family (IPv4: ICMP; IPv6: ICMPv6).</summary>
    public static IcmpSniffer Start(NetnsTopology topology, string ns, AddressFamily family)
    {
        var protocol = family == AddressFamily.InterNetworkV6 ? ProtocolType.IcmpV6 : ProtocolType.Icmp;
        var socket = topology.CreateSocket(ns, family, SocketType.Raw, protocol);
        try
        {
            // .NET receives from a socket only once it is bound; for a raw socket this filters nothing.
            socket.Bind(new IPEndPoint(family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0));
            return new IcmpSniffer(socket, family);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The first error (seen before or after this call) that quotes a datagram from
    /// <paramref name="source"/> to <paramref name="destination"/>. Take both from the socket before
    /// it faults: once a receive has failed, .NET reports the socket disconnected and its
    /// <c>RemoteEndPoint</c> as null.
    /// </summary>
    public Task<IcmpError> WaitForAsync(EndPoint source, EndPoint destination, TimeSpan? timeout = null) =>
        WaitForAsync(e => source.Equals(e.OriginalSource) && destination.Equals(e.OriginalDestination), timeout);

    /// <summary>The first error (seen before or after this call) that matches; throws <see cref="TimeoutException"/> listing what was seen.</summary>
    public async Task<IcmpError> WaitForAsync(Func<IcmpError, bool> match, TimeSpan? timeout = null)
    {
        lock (_gate)
        {
            if (_seen.FirstOrDefault(match) is { } earlier)
            {
                return earlier;
            }
        }

        var limit = timeout ?? TestTimeout.Default;
        using var expiry = new CancellationTokenSource(limit);
        try
        {
            while (await _errors.Reader.WaitToReadAsync(expiry.Token).ConfigureAwait(false))
            {
                while (_errors.Reader.TryRead(out var error))
                {
                    if (match(error))
                    {
                        return error;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (expiry.IsCancellationRequested)
        {
        }

        throw new TimeoutException($"No matching ICMP error within {limit.TotalSeconds} s. Seen: [{string.Join("; ", Seen)}]");
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Dispose();
        await _loop.ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        // An ICMP error quotes at most 576 bytes (IPv4) or fills the 1280-byte minimum MTU (IPv6).
        var buffer = new byte[2048];
        EndPoint anyone = _family == AddressFamily.InterNetworkV6 ? new IPEndPoint(IPAddress.IPv6Any, 0) : new IPEndPoint(IPAddress.Any, 0);
        while (true)
        {
            SocketReceiveFromResult result;
            try
            {
                result = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, anyone).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is ObjectDisposedException or SocketException)
            {
                _errors.Writer.TryComplete();
                return;
            }

            var timestamp = Stopwatch.GetTimestamp();
            var received = buffer.AsSpan(0, result.ReceivedBytes);
            var error = _family == AddressFamily.InterNetworkV6
                ? ParseIcmpV6(received, ((IPEndPoint)result.RemoteEndPoint).Address, timestamp)
                : ParseIcmpV4(received, timestamp);
            if (error is not null)
            {
                lock (_gate)
                {
                    _seen.Add(error);
                }

                _errors.Writer.TryWrite(error);
            }
        }
    }

    /// <summary>
    /// A raw IPv4 socket receives the whole packet: IPv4 header, then ICMP
    /// (type, code, checksum, 4 bytes: unused or next-hop MTU for 3/4), then the quoted IPv4
    /// header and the first 8 bytes of its payload (RFC 792, RFC 1191).
    /// </summary>
    internal static IcmpError? ParseIcmpV4(ReadOnlySpan<byte> packet, long timestamp)
    {
        if (packet.Length < 20)
        {
            return null;
        }

        var headerLength = (packet[0] & 0x0F) * 4;
        if (packet.Length < headerLength + 8)
        {
            return null;
        }

        var icmp = packet[headerLength..];
        var (type, code) = (icmp[0], icmp[1]);
        if (type is not (3 or 11 or 12))
        {
            return null;
        }

        var mtu = type == 3 && code == 4 ? BinaryPrimitives.ReadUInt16BigEndian(icmp[6..]) : 0u;
        var (source, destination) = QuotedUdpV4(icmp[8..]);
        return new IcmpError(AddressFamily.InterNetwork, type, code, new IPAddress(packet.Slice(12, 4)), mtu, source, destination, timestamp);
    }

    /// <summary>
    /// A raw ICMPv6 socket receives the message without the IPv6 header: type, code, checksum,
    /// 4 bytes (the MTU for 2/0), then as much of the offending packet as fits (RFC 4443 §3).
    /// </summary>
    internal static IcmpError? ParseIcmpV6(ReadOnlySpan<byte> message, IPAddress from, long timestamp)
    {
        if (message.Length < 8 || message[0] >= 128)
        {
            return null;
        }

        var (type, code) = (message[0], message[1]);
        var mtu = type == 2 ? BinaryPrimitives.ReadUInt32BigEndian(message[4..]) : 0u;
        var (source, destination) = QuotedUdpV6(message[8..]);
        return new IcmpError(AddressFamily.InterNetworkV6, type, code, from, mtu, source, destination, timestamp);
    }

    private static (IPEndPoint? Source, IPEndPoint? Destination) QuotedUdpV4(ReadOnlySpan<byte> quoted)
    {
        if (quoted.Length < 20)
        {
            return (null, null);
        }

        var headerLength = (quoted[0] & 0x0F) * 4;
        if (quoted[9] != (byte)ProtocolType.Udp || quoted.Length < headerLength + 4)
        {
            return (null, null);
        }

        var udp = quoted[headerLength..];
        return (
            new IPEndPoint(new IPAddress(quoted.Slice(12, 4)), BinaryPrimitives.ReadUInt16BigEndian(udp)),
            new IPEndPoint(new IPAddress(quoted.Slice(16, 4)), BinaryPrimitives.ReadUInt16BigEndian(udp[2..])));
    }

    private static (IPEndPoint? Source, IPEndPoint? Destination) QuotedUdpV6(ReadOnlySpan<byte> quoted)
    {
        // Only a UDP header directly after the fixed header: the tests send no extension headers.
        if (quoted.Length < 44 || quoted[6] != (byte)ProtocolType.Udp)
        {
            return (null, null);
        }

        var udp = quoted[40..];
        return (
            new IPEndPoint(new IPAddress(quoted.Slice(8, 16)), BinaryPrimitives.ReadUInt16BigEndian(udp)),
            new IPEndPoint(new IPAddress(quoted.Slice(24, 16)), BinaryPrimitives.ReadUInt16BigEndian(udp[2..])));
    }
}
