namespace Socks5UdpRelay.Cli.Tests.Tun;

/// <summary>The side-by-side checks in a client namespace without reverse-path filtering (a fresh namespace's rp_filter 0).</summary>
[Collection(TunCollection.Name)]
public sealed class TunProgramsNoReversePathFilterTests(TunProgramsLabNoReversePathFilter lab) : TunProgramsTests(lab), IClassFixture<TunProgramsLabNoReversePathFilter>;
