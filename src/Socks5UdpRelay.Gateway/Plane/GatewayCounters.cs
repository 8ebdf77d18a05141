namespace Socks5UdpRelay.Gateway.Plane;

/// <summary>What the packet plane did, counted since start; every drop has its counter.</summary>
public sealed class GatewayCounters
{
    private long _packetsRead;
    private long _datagrams;
    private long _malformed;
    private long _notUdp;
    private long _fragments;
    private long _unrouted;
    private long _flowsOpened;
    private long _flowsClosed;
    private long _repliesWritten;
    private long _repliesDropped;
    private long _icmpErrorsWritten;
    private long _noticesNotInjected;
    private long _writeFailures;

    /// <summary>Packets read from the device.</summary>
    public long PacketsRead => Volatile.Read(ref _packetsRead);

    /// <summary>UDP datagrams to a routed prefix handed to the uplink.</summary>
    public long Datagrams => Volatile.Read(ref _datagrams);

    /// <summary>Packets that were not a whole, well-formed IPv4/IPv6 packet or UDP header.</summary>
    public long Malformed => Volatile.Read(ref _malformed);

    /// <summary>Well-formed packets of another protocol (the kernel's own ICMPv6, for instance).</summary>
    public long NotUdp => Volatile.Read(ref _notUdp);

    /// <summary>UDP fragments (not reassembled).</summary>
    public long Fragments => Volatile.Read(ref _fragments);

    /// <summary>UDP datagrams to an address outside every routed prefix (a program bound to the device, multicast …).</summary>
    public long Unrouted => Volatile.Read(ref _unrouted);

    /// <summary>Program sockets seen for the first time.</summary>
    public long FlowsOpened => Volatile.Read(ref _flowsOpened);

    /// <summary>Flows closed: idle, or replaced by a new one when the table was full.</summary>
    public long FlowsClosed => Volatile.Read(ref _flowsClosed);

    /// <summary>Replies written into the device.</summary>
    public long RepliesWritten => Volatile.Read(ref _repliesWritten);

    /// <summary>Replies not written: their flow was closed, or they do not fit in one IP packet.</summary>
    public long RepliesDropped => Volatile.Read(ref _repliesDropped);

    /// <summary>ICMP and ICMPv6 errors written into the device.</summary>
    public long IcmpErrorsWritten => Volatile.Read(ref _icmpErrorsWritten);

    /// <summary>Error notices that produced no ICMP error (no datagram held, no ICMP counterpart, unknown flow).</summary>
    public long NoticesNotInjected => Volatile.Read(ref _noticesNotInjected);

    /// <summary>Writes the device refused.</summary>
    public long WriteFailures => Volatile.Read(ref _writeFailures);

    internal void PacketRead() => Interlocked.Increment(ref _packetsRead);

    internal void Datagram() => Interlocked.Increment(ref _datagrams);

    internal void MalformedPacket() => Interlocked.Increment(ref _malformed);

    internal void NotUdpPacket() => Interlocked.Increment(ref _notUdp);

    internal void Fragment() => Interlocked.Increment(ref _fragments);

    internal void UnroutedDatagram() => Interlocked.Increment(ref _unrouted);

    internal void FlowOpened() => Interlocked.Increment(ref _flowsOpened);

    internal void FlowClosed() => Interlocked.Increment(ref _flowsClosed);

    internal void ReplyWritten() => Interlocked.Increment(ref _repliesWritten);

    internal void ReplyDropped() => Interlocked.Increment(ref _repliesDropped);

    internal void IcmpErrorWritten() => Interlocked.Increment(ref _icmpErrorsWritten);

    internal void NoticeNotInjected() => Interlocked.Increment(ref _noticesNotInjected);

    internal void WriteFailure() => Interlocked.Increment(ref _writeFailures);

    /// <inheritdoc/>
    public override string ToString() =>
        $"read={PacketsRead} datagrams={Datagrams} malformed={Malformed} not-udp={NotUdp} fragments={Fragments} unrouted={Unrouted} " +
        $"flows-opened={FlowsOpened} flows-closed={FlowsClosed} replies={RepliesWritten} replies-dropped={RepliesDropped} " +
        $"icmp={IcmpErrorsWritten} notices-not-injected={NoticesNotInjected} write-failures={WriteFailures}";
}
