namespace Socks5UdpRelay.Cli.Tests.Tun;

/// <summary>
/// What a connected UDP socket saw after one datagram: its second operation (a reply, the errno it
/// failed with, or <c>TimedOut</c> for silence) and, with IP_RECVERR, the error queue's entry.
/// </summary>
internal sealed record SocketOutcome(string SecondOperation, string? Errno = null, string? Origin = null, int Type = -1, int Code = -1, string? Reporter = null, int Mtu = 0)
{
    public override string ToString() => Errno is null
        ? SecondOperation
        : $"{SecondOperation}; queue: {Errno} {Origin} {Type}/{Code} from {Reporter} mtu {Mtu}";
}
