namespace Socks5UdpRelay.Server.Transport;

/// <summary>What became of the datagrams a destination socket sent in one <see cref="IDestinationSocket.Flush"/>.</summary>
/// <param name="Sent">Datagrams that left.</param>
/// <param name="Bytes">Their bytes.</param>
/// <param name="BufferFull">Datagrams dropped because the send buffer was full (never waited for).</param>
/// <param name="Failed">Datagrams lost to an error that remained after one retry, or to the socket closing.</param>
/// <param name="Retried">Sends made once more after they surfaced errors the kernel held (reported to the handler first).</param>
internal readonly record struct SendOutcome(int Sent, long Bytes, int BufferFull, int Failed, int Retried);
