using Socks5UdpRelay.Server.Hosting;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Hosting;

public sealed class DescriptorLimitTests
{
    [Fact]
    public void Raise_LeavesTheSoftLimitAtTheHardOne()
    {
        var (before, after, hard) = DescriptorLimit.Raise();

        Assert.True(before > 0 && before <= after, $"before {before}, after {after}");
        Assert.Equal(hard, after);
        Assert.Equal((after, after, hard), DescriptorLimit.Raise()); // a second call changes nothing
    }
}
