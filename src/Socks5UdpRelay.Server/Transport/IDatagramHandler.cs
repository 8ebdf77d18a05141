using Socks5UdpRelay.Server.Icmp;

namespace Socks5UdpRelay.Server.Transport;

/// <summary>What the engine calls for a registered socket, always on the socket's loop thread.</summary>
internal interface IDatagramHandler
{
    /// <summary>
    /// Datagrams read from the socket, in order (<see cref="DatagramBatch.Count"/> ≥ 1). The batch
    /// is the loop's own and valid only during the call.
    /// </summary>
    void OnDatagrams(DatagramBatch batch);

    /// <summary>Errors the kernel reported for the socket (read from its error queue, or made from a failed call's errno).</summary>
    void OnErrors(ReadOnlySpan<ErrorReport> errors);
}
