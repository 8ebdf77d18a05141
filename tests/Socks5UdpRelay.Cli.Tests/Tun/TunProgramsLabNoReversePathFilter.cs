namespace Socks5UdpRelay.Cli.Tests.Tun;

/// <summary>The client namespace as a fresh one is: rp_filter 0.</summary>
public sealed class TunProgramsLabNoReversePathFilter : TunProgramsLab
{
    protected override int ReversePathFilter => 0;
}
