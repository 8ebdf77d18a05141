namespace Socks5UdpRelay.Server.Transport;

/// <summary>What one event loop did, read by the metrics: each loop counts its own, so loops share nothing on the datagram path.</summary>
internal interface ILoopStatistics
{
    int Index { get; }

    long DatagramsRead { get; }

    long DatagramsSent { get; }

    /// <summary>Reads that held several datagrams (GRO).</summary>
    long CoalescedReads { get; }

    /// <summary>Segmented sends (GSO) that went out.</summary>
    long SegmentedSends { get; }

    /// <summary>Segmented sends the kernel or the path refused, whose datagrams then went one by one.</summary>
    long SegmentationRefusals { get; }

    /// <summary>Associations (client-facing UDP sockets) the loop carries.</summary>
    int Clients { get; }
}
