using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Benchmarks.Load;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Benchmarks.Flood;

/// <summary>
/// <c>--flood slow-destination</c>: an association of its own that sends to one destination,
/// which drains slowly, as fast as asked. The relay's send buffer towards it fills and stays
/// full; the relay must drop (counted <c>buffer-full</c>) rather than wait, or every other
/// association on the same event loop waits with it (issue #12 item 5).
/// </summary>
internal sealed class AssociationFlood : IDisposable
{
    private readonly SocksControl _control;
    private readonly PacedSender _sender;

    private AssociationFlood(SocksControl control, PacedSender sender)
    {
        _control = control;
        _sender = sender;
    }

    public PacedSender Sender => _sender;

    public static AssociationFlood Start(IPEndPoint proxy, IPEndPoint destination, int payloadLength, double rate)
    {
        var control = SocksControl.Associate(proxy);
        var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            udp.SendBufferSize = 4 << 20;
            udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            int header = UdpRequestHeader.Write(stackalloc byte[UdpRequestHeader.MaxLength], destination.Address, (ushort)destination.Port);
            byte[] datagram = new byte[header + payloadLength];
            UdpRequestHeader.Write(datagram, destination.Address, (ushort)destination.Port);
            return new AssociationFlood(control, new PacedSender(udp, datagram, [control.Relay], rate, "flood-association"));
        }
        catch
        {
            udp.Dispose();
            control.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _sender.Dispose();
        _control.Dispose();
    }
}
