namespace Socks5UdpRelay.Server.Tests.Topology;

/// <summary>
/// <see cref="RelayTopologyFixture"/> with the server's error queue switched off
/// (<c>--Relay:ErrorQueue=off</c>): the errno-only fallback of the README ("Notices").
/// </summary>
public sealed class ErrnoOnlyRelayTopologyFixture : RelayTopologyFixture
{
    public ErrnoOnlyRelayTopologyFixture()
        : base(["--Relay:ErrorQueue=off"], "errno only (Relay:ErrorQueue=off)")
    {
    }
}
