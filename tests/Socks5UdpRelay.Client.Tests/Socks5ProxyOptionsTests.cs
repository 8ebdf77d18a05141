using System.Net;

namespace Socks5UdpRelay.Client.Tests;

public sealed class Socks5ProxyOptionsTests
{
    [Fact]
    public void Defaults_AreDocumentedValues()
    {
        var options = new Socks5ProxyOptions();

        Assert.Equal("127.0.0.1", options.Host);
        Assert.Equal(1080, options.Port);
        Assert.Null(options.Credentials);
        Assert.Equal(TimeSpan.FromSeconds(5), options.ConnectTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), options.HandshakeTimeout);
        Assert.Null(options.SocketFactory);
    }

    [Theory]
    [InlineData("127.0.0.1:1080", "127.0.0.1", 1080)]
    [InlineData("localhost:9050", "localhost", 9050)]
    [InlineData("proxy.example", "proxy.example", 1080)]
    [InlineData("[::1]:1081", "::1", 1081)]
    [InlineData("[2001:db8::1]", "2001:db8::1", 1080)]
    [InlineData("socks5://127.0.0.1:1080", "127.0.0.1", 1080)]
    [InlineData("socks5h://proxy.example:1", "proxy.example", 1)]
    [InlineData("SOCKS5://[::1]:65535/", "::1", 65535)]
    [InlineData("socks5://localhost", "localhost", 1080)]
    public void Parse_HostAndPort(string text, string host, int port)
    {
        var options = Socks5ProxyOptions.Parse(text);

        Assert.Equal(host, options.Host);
        Assert.Equal(port, options.Port);
        Assert.Null(options.Credentials);
    }

    [Theory]
    [InlineData("socks5://alice@127.0.0.1:1080", "alice", "")]
    [InlineData("socks5://alice:secret@[::1]:1080", "alice", "secret")]
    [InlineData("socks5h://al%40ce:p%3Ass%20w@proxy.example:1080", "al@ce", "p:ss w")]
    [InlineData("socks5://bob:@localhost:1", "bob", "")]
    public void Parse_Credentials(string text, string user, string password)
    {
        var options = Socks5ProxyOptions.Parse(text);

        Assert.NotNull(options.Credentials);
        Assert.Equal(user, options.Credentials.UserName);
        Assert.Equal(password, options.Credentials.Password);
    }

    [Theory]
    [InlineData("")]
    [InlineData(":1080")]
    [InlineData("127.0.0.1:")]
    [InlineData("127.0.0.1:0")]
    [InlineData("127.0.0.1:65536")]
    [InlineData("127.0.0.1:http")]
    [InlineData("127.0.0.1:-1")]
    [InlineData("::1:1080")]
    [InlineData("[::1")]
    [InlineData("[::1]1080")]
    [InlineData("[127.0.0.1]:1080")]
    [InlineData("http://127.0.0.1:1080")]
    [InlineData("socks4://127.0.0.1:1080")]
    [InlineData("socks5://127.0.0.1:1080/path")]
    [InlineData("socks5://:pw@127.0.0.1:1080")]
    [InlineData("alice@127.0.0.1:1080")]
    [InlineData("bad host:1080")]
    [InlineData("socks5://")]
    public void Parse_BadForms_Throw(string text)
    {
        var e = Assert.Throws<FormatException>(() => Socks5ProxyOptions.Parse(text));

        Assert.Contains("SOCKS5 proxy address", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BadForm_DoesNotEchoAPassword()
    {
        var e = Assert.Throws<FormatException>(() => Socks5ProxyOptions.Parse("socks5://alice:hunter2@127.0.0.1:99999"));

        Assert.DoesNotContain("hunter2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Null_Throws() => Assert.Throws<ArgumentNullException>(() => Socks5ProxyOptions.Parse(null!));

    [Fact]
    public void Endpoint_ToString_IsTheNoticeFormat()
    {
        Assert.Equal("1.2.3.4:53", new Socks5Endpoint(IPAddress.Parse("1.2.3.4"), 53).ToString());
        Assert.Equal("[2001:db8::1]:53", new Socks5Endpoint(IPAddress.Parse("2001:db8::1"), 53).ToString());
        Assert.Equal("name.example:53", new Socks5Endpoint("name.example", 53).ToString());
        Assert.Equal("a%20b%3Ac:7", new Socks5Endpoint("a b:c", 7).ToString());
    }
}
