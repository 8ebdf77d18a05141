namespace Socks5UdpRelay.Cli.Doctor;

/// <summary>
/// How long doctor listens before it calls something silence, scaled from the TCP connect time to
/// the proxy (a round trip): long enough for a distant proxy, short enough that a silent stage on
/// loopback costs a second or two rather than ten.
/// </summary>
internal sealed record DoctorTiming(TimeSpan ReplyWait, TimeSpan IcmpWait)
{
    /// <summary>Tries per datagram before silence: UDP may lose one.</summary>
    public const int Tries = 3;

    public static DoctorTiming FromRoundTrip(TimeSpan tcpConnect)
    {
        var rtt = tcpConnect < TimeSpan.Zero ? TimeSpan.Zero : tcpConnect;
        return new DoctorTiming(
            Clamp(TimeSpan.FromMilliseconds(500) + (4 * rtt), TimeSpan.FromSeconds(2)),
            Clamp(TimeSpan.FromMilliseconds(200) + (2 * rtt), TimeSpan.FromSeconds(1)));
    }

    private static TimeSpan Clamp(TimeSpan value, TimeSpan max) => value > max ? max : value;
}
