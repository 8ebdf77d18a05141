using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Cli.Tun;

/// <summary>What an <see cref="UplinkAssociation"/> reports to the gateway's uplink.</summary>
internal interface IAssociationEvents
{
    /// <summary>
    /// A datagram for <paramref name="mapping"/> came back from <paramref name="sourceAddress"/> (4 or
    /// 16 bytes):<paramref name="sourcePort"/>. Called on the association's receive thread; the spans
    /// live for the call only.
    /// </summary>
    void OnReply(UplinkMapping mapping, ReadOnlySpan<byte> sourceAddress, ushort sourcePort, ReadOnlySpan<byte> payload);

    /// <summary>A notice line (the greeting included), on the association's control loop, in order.</summary>
    void OnNotice(UplinkAssociation association, Notice notice);

    /// <summary>The control connection ended without <see cref="UplinkAssociation.DisposeAsync"/>: the association and its mappings are gone.</summary>
    void OnClosed(UplinkAssociation association, string reason);
}
