namespace Socks5UdpRelay.Server;

internal static class Program
{
    public static int Main() => 0;
}
