namespace Socks5UdpRelay.Server.Transport;

/// <summary>Where an association's replies leave for its client.</summary>
internal interface IClientChannel
{
    /// <summary>The largest reply payload the client accepts; a longer one is dropped and counted before it reaches the channel.</summary>
    int MaxReplyPayload => int.MaxValue;

    /// <summary>
    /// Sends every datagram of <paramref name="batch"/> not marked dropped, each behind the reply
    /// header the batch holds for it (<see cref="DatagramBatch.ReplyHeaderOf"/>), to
    /// <paramref name="client"/> (a raw socket address), without waiting: what the socket cannot
    /// take now is lost, as UDP may lose it. Returns how many left and, in
    /// <paramref name="payloadBytes"/>, their payload bytes (headers excluded).
    /// </summary>
    int SendReplies(DatagramBatch batch, ReadOnlySpan<byte> client, out long payloadBytes);
}
