namespace Socks5UdpRelay.Cli.Tests.Tun;

/// <summary>Strict reverse-path filtering (many distributions' default) in the client namespace: rp_filter 1.</summary>
public sealed class TunProgramsLabStrictReversePathFilter : TunProgramsLab
{
    protected override int ReversePathFilter => 1;
}
