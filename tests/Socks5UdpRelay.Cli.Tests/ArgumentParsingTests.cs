using System.Net;
using Socks5UdpRelay.Cli.Probe;

namespace Socks5UdpRelay.Cli.Tests;

/// <summary>PORTS and CIDR HOST parsing, without sending anything.</summary>
public sealed class ArgumentParsingTests
{
    [Theory]
    [InlineData("53", new[] { 53 })]
    [InlineData("1,2,3", new[] { 1, 2, 3 })]
    [InlineData("500-503", new[] { 500, 501, 502, 503 })]
    [InlineData("7,5-6,7", new[] { 5, 6, 7 })]
    [InlineData("65535", new[] { 65535 })]
    public void PortList_Valid(string text, int[] expected)
    {
        var ports = new SortedSet<int>();

        Assert.True(PortList.TryParse(text, ports, out string? error), error);
        Assert.Equal(expected, ports);
    }

    [Theory]
    [InlineData("0", "'0' is not a UDP port (1 to 65535).")]
    [InlineData("65536", "'65536' is not a UDP port (1 to 65535).")]
    [InlineData("1,,2", "'' is not a UDP port (1 to 65535).")]
    [InlineData("600-500", "'600-500' is a reversed range: write 500-600.")]
    [InlineData("5-", "'5-' is not a port range (FIRST-LAST, each 1 to 65535).")]
    [InlineData("+5", "'+5' is not a UDP port (1 to 65535).")]
    public void PortList_Invalid_NamesTheBadPart(string text, string expected)
    {
        Assert.False(PortList.TryParse(text, new SortedSet<int>(), out string? error));
        Assert.Equal(expected, error);
    }

    [Fact]
    public void HostRange_Ipv4Block_EveryAddressInOrder()
    {
        Assert.True(HostRange.TryExpand("10.0.0.7/30", 256, out var hosts));

        Assert.Equal(["10.0.0.4", "10.0.0.5", "10.0.0.6", "10.0.0.7"], hosts.Select(h => h.ToString()));
    }

    [Fact]
    public void HostRange_Slash24_Is256AndSlash32IsOne()
    {
        Assert.True(HostRange.TryExpand("192.0.2.0/24", 256, out var block));
        Assert.True(HostRange.TryExpand("192.0.2.9/32", 256, out var single));

        Assert.Equal(256, block.Count);
        Assert.Equal(IPAddress.Parse("192.0.2.255"), block[^1]);
        Assert.Equal([IPAddress.Parse("192.0.2.9")], single);
    }

    [Fact]
    public void HostRange_Ipv6Block()
    {
        Assert.True(HostRange.TryExpand("2001:db8::ff/126", 256, out var hosts));

        Assert.Equal(["2001:db8::fc", "2001:db8::fd", "2001:db8::fe", "2001:db8::ff"], hosts.Select(h => h.ToString()));
    }

    [Fact]
    public void HostRange_NotABlock_IsFalse()
    {
        Assert.False(HostRange.TryExpand("example.org", 256, out _));
        Assert.False(HostRange.TryExpand("10.0.0.1", 256, out _));
    }

    [Theory]
    [InlineData("10.0.0.0/23", 256, "HOST: '10.0.0.0/23' holds 512 addresses, more than --max-hosts 256.")]
    [InlineData("10.0.0.0/33", 256, "HOST: '10.0.0.0/33': the prefix length of an IPv4 block is 0 to 32.")]
    [InlineData("10.0.0/24", 256, "HOST: '10.0.0/24' is not a CIDR block (address/prefix, as 127.0.0.0/30).")]
    [InlineData("::/64", 65536, "HOST: '::/64' holds 18446744073709551616 addresses, more than --max-hosts 65536.")]
    public void HostRange_Invalid_IsAUsageError(string text, int maxHosts, string message)
    {
        var e = Assert.Throws<CliException>(() => HostRange.TryExpand(text, maxHosts, out _));

        Assert.Equal(ExitCodes.Usage, e.ExitCode);
        Assert.Equal(message, e.Message);
    }
}
