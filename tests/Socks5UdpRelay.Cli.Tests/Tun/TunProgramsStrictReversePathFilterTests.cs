namespace Socks5UdpRelay.Cli.Tests.Tun;

/// <summary>The side-by-side checks with strict reverse-path filtering (rp_filter 1) in the client namespace.</summary>
[Collection(TunCollection.Name)]
public sealed class TunProgramsStrictReversePathFilterTests(TunProgramsLabStrictReversePathFilter lab) : TunProgramsTests(lab), IClassFixture<TunProgramsLabStrictReversePathFilter>;
