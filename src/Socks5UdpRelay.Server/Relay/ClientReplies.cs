using System.Net.Sockets;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Transport;

namespace Socks5UdpRelay.Server.Relay;

/// <summary>
/// The way back to the client: replies of one read leave in one batch to the client's UDP
/// address, each behind the reply header the batch keeps for it. A reply over the configured payload limit, or too large for
/// one UDP datagram with its header, is dropped and counted alone. What the channel cannot take
/// is counted as <paramref name="unsent"/>.
/// </summary>
internal sealed class ClientReplies(IClientChannel channel, ClientSourceFilter filter, int maxPayload, AddressFamily clientFamily, AssociationCounters counters, DropReason unsent)
{
    private readonly int _maxPayload = Math.Min(maxPayload, channel.MaxReplyPayload);

    /// <summary>The largest UDP payload of the client socket's family (65 535 minus the IP and UDP headers).</summary>
    private readonly int _maxDatagram = clientFamily == AddressFamily.InterNetwork ? 65_507 : 65_527;

    public void Send(DatagramBatch batch)
    {
        int headerLength = batch.ReplyHeaderLength;
        var client = filter.Client;
        if (client.IsEmpty)
        {
            return; // nobody has sent yet: there is no one to reply to
        }

        int attempted = 0;
        for (int i = 0; i < batch.Count; i++)
        {
            if (batch.IsDropped(i))
            {
                continue; // refused before it got here (inbound filtering) and counted there already
            }

            int payload = batch.Payload(i).Length;
            if (payload > _maxPayload || headerLength + payload > _maxDatagram)
            {
                batch.Drop(i);
                counters.Drop(DropReason.ReplyTooLarge);
                continue;
            }

            attempted++;
        }

        if (attempted == 0)
        {
            return;
        }

        int sent = channel.SendReplies(batch, client, out long bytes);
        counters.DatagramsToClient += sent;
        counters.BytesToClient += bytes;
        if (sent < attempted)
        {
            counters.Drop(unsent, attempted - sent);
        }
    }
}
