namespace Socks5UdpRelay.Cli.Doctor;

/// <summary>The stages of <c>s5nc doctor</c>, in the order they run and print (README, "s5nc doctor").</summary>
internal enum DoctorStage
{
    Proxy = 1,
    Authentication,
    Associate,
    RelayAddress,
    Datagrams,
    Notices,
    UdpOverTcp,
    Nat,
    Mtu,
    Idle,
}

/// <summary>Names of the stages: the key in <c>--json</c> and the title in the text report.</summary>
internal static class DoctorStages
{
    public static IReadOnlyList<DoctorStage> All { get; } = Enum.GetValues<DoctorStage>();

    /// <summary>The stable key scripts read (<c>"stage":"datagrams"</c>).</summary>
    public static string Key(this DoctorStage stage) => stage switch
    {
        DoctorStage.Proxy => "proxy",
        DoctorStage.Authentication => "auth",
        DoctorStage.Associate => "associate",
        DoctorStage.RelayAddress => "relay-address",
        DoctorStage.Datagrams => "datagrams",
        DoctorStage.Notices => "notices",
        DoctorStage.UdpOverTcp => "udp-over-tcp",
        DoctorStage.Nat => "nat",
        DoctorStage.Mtu => "mtu",
        DoctorStage.Idle => "idle",
        _ => throw new ArgumentOutOfRangeException(nameof(stage)),
    };

    public static string Title(this DoctorStage stage) => stage switch
    {
        DoctorStage.Proxy => "proxy reachable",
        DoctorStage.Authentication => "authentication",
        DoctorStage.Associate => "UDP ASSOCIATE",
        DoctorStage.RelayAddress => "relay address",
        DoctorStage.Datagrams => "datagrams relayed",
        DoctorStage.Notices => "notices, commands",
        DoctorStage.UdpOverTcp => "UDP over TCP",
        DoctorStage.Nat => "NAT behaviour",
        DoctorStage.Mtu => "path MTU",
        DoctorStage.Idle => "idle association",
        _ => throw new ArgumentOutOfRangeException(nameof(stage)),
    };

    /// <summary>Who is at fault when this stage fails and the stage itself cannot say more (a --timeout in the middle of it): never authentication, which only a refusal shows.</summary>
    public static FailureSide DefaultSide(this DoctorStage stage) => stage switch
    {
        DoctorStage.Datagrams or DoctorStage.Nat or DoctorStage.Mtu => FailureSide.Path,
        _ => FailureSide.Proxy,
    };
}
