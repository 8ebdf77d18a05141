using System.Net;
using Socks5UdpRelay.Gateway.Packets;
using Socks5UdpRelay.Gateway.Plane;

namespace Socks5UdpRelay.Gateway.Tests.Fakes;

/// <summary>An uplink double that remembers what it was given (allocates: for assertions, not for the allocation test).</summary>
internal sealed class RecordingUplink : IUplink
{
    public List<(FlowId Flow, IPEndPoint Source, IPEndPoint Destination, byte Ttl, byte[] Payload)> Sent { get; } = [];

    public List<FlowId> Closed { get; } = [];

    public void Send(FlowId flow, in UdpPacket packet) =>
        Sent.Add((flow, packet.GetSource(), packet.GetDestination(), packet.Ttl, packet.Payload.ToArray()));

    public void FlowClosed(FlowId flow) => Closed.Add(flow);
}
