using System.Text;

namespace Socks5UdpRelay.Server.Tests.UdpOverTcp;

/// <summary>One frame the server wrote: a datagram (its source as text, <c>127.0.0.1:53</c> or <c>[::1]:53</c>, and its mapping) or a control line.</summary>
internal sealed record ReceivedFrame(bool IsControl, ushort Mapping, string Source, byte[] Data)
{
    public string Text => Encoding.ASCII.GetString(Data);

    public override string ToString() => IsControl ? $"control '{Text.TrimEnd('\n')}'" : $"datagram map={Mapping} from {Source}, {Data.Length} bytes";
}
