using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Server;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Cli.Tests.Tun;

/// <summary>
/// A UDP destination on 127.0.0.1 that records each datagram's source, payload and the TTL it
/// arrived with (IP_RECVTTL, read with recvmsg), and echoes it unless told not to.
/// </summary>
internal sealed class LoopbackTarget : IDisposable
{
    private const int SolIp = 0;
    private const int IpTtl = 2;
    private const int IpRecvTtl = 12;

    private readonly Socket _socket;
    private readonly Thread _loop;
    private readonly bool _echo;

    private LoopbackTarget(Socket socket, bool echo)
    {
        _socket = socket;
        _echo = echo;
        _loop = new Thread(Run) { IsBackground = true, Name = "loopback target" };
        _loop.Start();
    }

    public IPEndPoint EndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    public BlockingCollection<(IPEndPoint Source, string Payload, int Ttl)> Received { get; } = [];

    public static LoopbackTarget Start(bool echo = true)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveBufferSize = 4 << 20 };
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.SetRawSocketOption(SolIp, IpRecvTtl, BitConverter.GetBytes(1));
        return new LoopbackTarget(socket, echo);
    }

    /// <summary>The next datagram, bounded by the test timeout.</summary>
    public (IPEndPoint Source, string Payload, int Ttl) Next()
    {
        Assert.True(Received.TryTake(out var next, TestTimeout.Default), "No datagram reached the target.");
        return next;
    }

    public void Dispose()
    {
        _socket.Dispose();
        _loop.Join(TestTimeout.Default);
        Received.Dispose();
    }

    private unsafe void Run()
    {
        byte[] data = new byte[65_536];
        byte* name = stackalloc byte[128];
        byte* control = stackalloc byte[256];
        while (true)
        {
            int length;
            int ttl = -1;
            fixed (byte* buffer = data)
            {
                var iov = new Interop.IoVec { Base = buffer, Length = (nuint)data.Length };
                var message = new Interop.MsgHdr { Name = name, NameLength = 128, Iov = &iov, IovLength = 1, Control = control, ControlLength = 256 };
                try
                {
                    length = (int)Interop.Sys.RecvMsg(_socket.SafeHandle, &message, 0);
                }
                catch (ObjectDisposedException)
                {
                    return;
                }

                if (length < 0)
                {
                    return; // closed
                }

                var cmsgs = new ReadOnlySpan<byte>(control, (int)message.ControlLength);
                for (int offset = 0; offset + 16 <= cmsgs.Length;)
                {
                    int size = (int)BinaryPrimitives.ReadUInt64LittleEndian(cmsgs[offset..]);
                    if (BinaryPrimitives.ReadInt32LittleEndian(cmsgs[(offset + 8)..]) == SolIp && BinaryPrimitives.ReadInt32LittleEndian(cmsgs[(offset + 12)..]) == IpTtl)
                    {
                        ttl = BinaryPrimitives.ReadInt32LittleEndian(cmsgs[(offset + 16)..]);
                    }

                    offset += (size + 7) & ~7;
                }
            }

            // sockaddr_in: family, port (big-endian), address.
            var source = new IPEndPoint(new IPAddress(new ReadOnlySpan<byte>(name + 4, 4)), BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(name + 2, 2)));
            Received.Add((source, System.Text.Encoding.ASCII.GetString(data, 0, length), ttl));
            if (_echo)
            {
                try
                {
                    _socket.SendTo(data.AsSpan(0, length), source);
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    // The relay port went away with its association, or the target is being disposed.
                }
            }
        }
    }
}
