using Socks5UdpRelay.Gateway.Packets;

namespace Socks5UdpRelay.Gateway.Plane;

/// <summary>
/// The last datagram each flow sent to each destination, as the start of its IP packet (as much as
/// an ICMP error quotes: 548 bytes for IPv4, 1232 for IPv6), so that a notice about that
/// destination can be written back as an error quoting it. Fixed memory: <c>capacity</c> slots of
/// 1232 bytes, the least recently used replaced. Not thread-safe (the packet plane holds its lock).
/// </summary>
internal sealed class LastDatagramStore
{
    public const int SlotSize = IcmpErrorWriter.MaxIPv6Quote;

    private readonly LruIndex<DatagramKey> _index;
    private readonly byte[] _bytes;
    private readonly int[] _lengths;

    public LastDatagramStore(int capacity)
    {
        _index = new LruIndex<DatagramKey>(capacity);
        _bytes = new byte[capacity * SlotSize];
        _lengths = new int[capacity];
    }

    public int Count => _index.Count;

    public void Store(FlowId flow, in UdpPacket packet)
    {
        var key = new DatagramKey(flow, FlowKey.From(packet.DestinationAddress, packet.DestinationPort));
        int slot = _index.Find(key);
        if (slot < 0)
        {
            slot = _index.Add(key, out _, out _);
        }
        else
        {
            _index.Touch(slot);
        }

        int quoted = Math.Min(packet.Packet.Length, packet.IsIPv6 ? IcmpErrorWriter.MaxIPv6Quote : IcmpErrorWriter.MaxIPv4Quote);
        packet.Packet[..quoted].CopyTo(_bytes.AsSpan(slot * SlotSize, SlotSize));
        _lengths[slot] = quoted;
    }

    /// <summary>Copies the flow's last datagram to <paramref name="destination"/> into <paramref name="buffer"/> (at least <see cref="SlotSize"/>); its length, or 0 when none is held.</summary>
    public int CopyTo(FlowId flow, in FlowKey destination, Span<byte> buffer)
    {
        int slot = _index.Find(new DatagramKey(flow, destination));
        if (slot < 0)
        {
            return 0;
        }

        int length = _lengths[slot];
        _bytes.AsSpan(slot * SlotSize, length).CopyTo(buffer);
        return length;
    }
}
