using System.Buffers;
using Socks5UdpRelay.Gateway.Plane;

namespace Socks5UdpRelay.Cli.Tun;

/// <summary>
/// A program's datagram waiting for its flow's mapping or for a <c>SET</c> before it: the payload
/// in a pooled buffer at <see cref="UplinkAssociation.PayloadOffset"/>, so the SOCKS header (and over
/// TCP the frame's) is written in front of it in place when it is sent.
/// </summary>
/// <param name="Ttl">The TTL its program chose, or 0 for the default.</param>
internal readonly record struct QueuedDatagram(byte[] Buffer, FlowKey Destination, int Length, byte Ttl)
{
    public const int PayloadOffset = UplinkAssociation.PayloadOffset;

    public static QueuedDatagram Copy(in FlowKey destination, ReadOnlySpan<byte> payload, byte ttl)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(PayloadOffset + payload.Length);
        payload.CopyTo(buffer.AsSpan(PayloadOffset));
        return new QueuedDatagram(buffer, destination, payload.Length, ttl);
    }

    public void Return() => ArrayPool<byte>.Shared.Return(Buffer);
}
