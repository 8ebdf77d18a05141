using System.Text;
using Socks5UdpRelay.Server.Logging;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Hardening;

/// <summary>
/// Text logs show what a client sent with its control characters escaped, so a name holding a
/// line feed cannot add a line of its own making. Before: the name was written as sent, and the
/// "line" after its line feed looked like one the server wrote.
/// </summary>
public sealed class LogEscapingTests
{
    /// <summary>What a client puts after a line feed in a name: a line that looks like the server's.</summary>
    internal const string Forged = "06:00:00.000 [INF] Socks5UdpRelay.Server: all is well";

    /// <summary>
    /// The real server, text logs at Debug: a UDP ASSOCIATE naming a host whose name holds a line
    /// feed and a carriage return (logged as "named …, ignored"; nothing is resolved).
    /// </summary>
    [Fact]
    public async Task NameWithLineFeed_InAnAssociateRequest_StaysOnItsLine()
    {
        await using var server = await ServerProcess.StartAsync(["--Relay:Listen:0=127.0.0.1:0", "--Serilog:MinimumLevel:Default=Debug"]);
        byte[] name = Encoding.ASCII.GetBytes($"evil\r\n{Forged}");
        await using (var raw = await RawSocks.ConnectAsync(server.EndPoint))
        {
            await raw.AssociateAsync([0x05, 0x03, 0x00, 0x03, (byte)name.Length, .. name, 0, 0]);
        }

        string logged = await server.WaitForLineAsync(l => l.Contains("UDP ASSOCIATE named", StringComparison.Ordinal));

        Assert.Contains($"named evil\\r\\n{Forged}:0, not the TCP peer's address", logged, StringComparison.Ordinal);
        Assert.DoesNotContain(server.Output, l => l.StartsWith(Forged, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("plain.example", "plain.example")]
    [InlineData("a\nb", "a\\nb")]
    [InlineData("a\r\nb", "a\\r\\nb")]
    [InlineData("tab\there", "tab\\there")]
    [InlineData("back\\slash", "back\\\\slash")]
    [InlineData("bell\u0007nul\u0000", "bell\\x07nul\\x00")]
    [InlineData("del\u007fnel\u0085", "del\\x7Fnel\\x85")]
    [InlineData("line\u2028para\u2029", "line\\u2028para\\u2029")]
    [InlineData("ünïcødé names stay", "ünïcødé names stay")]
    public void ControlCharacters_AreEscaped_OthersKept(string value, string logged)
    {
        Assert.Equal(logged, LogValueEscaper.NeedsEscaping(value) ? LogValueEscaper.EscapeText(value) : value);
    }
}
