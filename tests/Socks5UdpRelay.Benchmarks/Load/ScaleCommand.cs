using Socks5UdpRelay.Benchmarks.Infrastructure;

namespace Socks5UdpRelay.Benchmarks.Load;

internal static class ScaleCommand
{
    public const string Usage = "";

    public static int Run(Args args) => throw new UsageException("not yet");

    public static int Run(string[] args) => throw new UsageException("not yet");
}
