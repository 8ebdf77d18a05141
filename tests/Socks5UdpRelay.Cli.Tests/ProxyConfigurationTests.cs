
namespace Socks5UdpRelay.Cli.Tests;

/// <summary>Where the proxy and the password come from (the README, "The CLI: s5nc").</summary>
public sealed class ProxyConfigurationTests
{
    private static CliConsole Console(Dictionary<string, string>? environment = null, Func<string, string?>? prompt = null) => new()
    {
        In = TextReader.Null,
        Out = TextWriter.Null,
        Error = TextWriter.Null,
        GetEnvironmentVariable = name => environment?.GetValueOrDefault(name),
        ReadPassword = prompt,
    };

    [Fact]
    public void Default_IsLoopback1080()
    {
        var options = ProxyConfiguration.Resolve(null, null, TimeSpan.FromSeconds(5), Console());

        Assert.Equal(("127.0.0.1", 1080, (System.Net.NetworkCredential?)null), (options.Host, options.Port, options.Credentials));
    }

    [Fact]
    public void Environment_IsUsedWhenNoOption_AndTheOptionWins()
    {
        var environment = new Dictionary<string, string> { ["SOCKS5_PROXY"] = "10.9.8.7:1081" };

        var fromEnvironment = ProxyConfiguration.Resolve(null, null, TimeSpan.FromSeconds(5), Console(environment));
        var fromOption = ProxyConfiguration.Resolve("[::1]:1082", null, TimeSpan.FromSeconds(2), Console(environment));

        Assert.Equal(("10.9.8.7", 1081), (fromEnvironment.Host, fromEnvironment.Port));
        Assert.Equal(("::1", 1082, TimeSpan.FromSeconds(2)), (fromOption.Host, fromOption.Port, fromOption.ConnectTimeout));
    }

    [Fact]
    public void Password_FromPasswordEnv_ThenSocks5Password_ThenPrompt()
    {
        var environment = new Dictionary<string, string> { ["MINE"] = "from-mine", ["SOCKS5_PASSWORD"] = "from-default" };

        var named = ProxyConfiguration.Resolve("socks5://alice@h:1", "MINE", TimeSpan.FromSeconds(5), Console(environment));
        var fallback = ProxyConfiguration.Resolve("socks5://alice@h:1", null, TimeSpan.FromSeconds(5), Console(environment));
        var prompted = ProxyConfiguration.Resolve("socks5://alice@h:1", null, TimeSpan.FromSeconds(5), Console(prompt: p => p == "Password for alice@h:1: " ? "typed" : null));

        Assert.Equal(("alice", "from-mine"), (named.Credentials!.UserName, named.Credentials.Password));
        Assert.Equal("from-default", fallback.Credentials!.Password);
        Assert.Equal("typed", prompted.Credentials!.Password);
    }

    [Theory]
    [InlineData("socks5://alice:secret@h:1", null, "--proxy: do not put a password on the command line")]
    [InlineData("socks5://alice@h:1", null, "the proxy user 'alice' needs a password")]
    [InlineData("socks5://alice@h:1", "UNSET_VARIABLE", "--password-env UNSET_VARIABLE: the environment variable UNSET_VARIABLE is not set.")]
    [InlineData("h:1", "X", "--password-env needs a user name in the proxy address")]
    [InlineData("http://h:1", null, "--proxy: 'http://h:1' is not a SOCKS5 proxy address")]
    public void Mistakes_AreUsageErrors(string proxy, string? passwordEnv, string message)
    {
        var e = Assert.Throws<CliException>(() => ProxyConfiguration.Resolve(proxy, passwordEnv, TimeSpan.FromSeconds(5), Console()));

        Assert.Equal(ExitCodes.Usage, e.ExitCode);
        Assert.StartsWith(message, e.Message);
        Assert.DoesNotContain("secret", e.Message);
    }
}
