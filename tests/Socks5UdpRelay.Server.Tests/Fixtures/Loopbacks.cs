using Xunit;

namespace Socks5UdpRelay.Server.Tests.Fixtures;

/// <summary>Theory data: the loopback address of each family, as text.</summary>
internal static class Loopbacks
{
    public static TheoryData<string> Families => new() { "127.0.0.1", "::1" };
}
