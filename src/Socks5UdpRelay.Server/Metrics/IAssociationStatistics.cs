namespace Socks5UdpRelay.Server.Metrics;

/// <summary>What the metrics read from a live association when they are scraped (the datagram path pays nothing for them).</summary>
internal interface IAssociationStatistics
{
    AssociationCounters Counters { get; }

    int DestinationCount { get; }

    long NoticesDropped { get; }

    /// <summary>True when the client's datagrams ride its TCP connection (UDP over TCP).</summary>
    bool OverTcp { get; }
}
