namespace Socks5UdpRelay.Server.Transport;

/// <summary>The unconnected socket on a mapping's outbound port that takes the datagrams no destination socket matches.</summary>
internal interface IInboundSocket : IDisposable
{
}
