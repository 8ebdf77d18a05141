using System.Net;
using System.Text;
using Socks5UdpRelay.Client;
using Socks5UdpRelay.Server.Auth;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Auth;

/// <summary>RFC 1929 users: the right password gets in, a wrong one is answered late and closed, and no-auth is no longer offered.</summary>
public sealed class AuthenticationTests
{
    // A cheap hash keeps the tests fast; the format and the check are the same as the default's.
    private static readonly string AliceHash = PasswordHash.Create("wonderland", iterations: 10_000);

    [Fact]
    public async Task RightPassword_OpensAnAssociation()
    {
        await using var server = await RelayServer.StartAsync(Users(("alice", AliceHash)));
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var association = await Socks5UdpAssociation.OpenAsync(
            new Socks5ProxyOptions { Host = "127.0.0.1", Port = server.EndPoint.Port, Credentials = new NetworkCredential("alice", "wonderland") }, TestTimeout.Token);
        await association.SendAsync(echo.EndPoint, "in"u8.ToArray(), TestTimeout.Token);
        Assert.Equal(2, (await association.ReceiveAsync(new byte[16], TestTimeout.Token)).Length);
    }

    [Fact]
    public async Task WrongPassword_IsAnsweredOnlyAfterTheDelay_ThenClosed_AndLogged()
    {
        var time = new ManualTimeProvider();
        await using var server = await RelayServer.StartAsync(Users(("alice", AliceHash)), time: time);
        await using var raw = await RawSocks.ConnectAsync(server.EndPoint);
        await raw.SendAsync(0x05, 0x01, 0x02);
        Assert.Equal(new byte[] { 0x05, 0x02 }, await raw.ReadAsync(2));
        await raw.SendAsync([0x01, 5, .. "alice"u8, 5, .. "wrong"u8]);

        await Eventually.TrueAsync(() => time.ActiveTimers >= 2); // the handshake deadline and the failure delay
        Assert.Equal(0, raw.Control.Available);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(new byte[] { 0x01, 0x01 }, await raw.ReadAsync(2));
        Assert.True(await raw.ClosedByServerAsync());
        Assert.Contains(server.Logs.Events, e => e.Message.StartsWith("127.0.0.1:", StringComparison.Ordinal) && e.Message.Contains(": authentication failed: wrong user name or password", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UnknownUser_IsRefusedLikeAWrongPassword()
    {
        await using var server = await RelayServer.StartAsync(Users(("alice", AliceHash), ("Auth:FailureDelay", "00:00:00")));
        var error = await Assert.ThrowsAsync<Socks5Exception>(() => Socks5UdpAssociation.OpenAsync(
            new Socks5ProxyOptions { Host = "127.0.0.1", Port = server.EndPoint.Port, Credentials = new NetworkCredential("mallory", "wonderland") }, TestTimeout.Token));
        Assert.Equal(Socks5ErrorKind.AuthenticationFailed, error.Kind);
    }

    [Fact]
    public async Task WithUsers_NoAuthIsNotAccepted()
    {
        await using var server = await RelayServer.StartAsync(Users(("alice", AliceHash)));
        await using var raw = await RawSocks.ConnectAsync(server.EndPoint);
        await raw.SendAsync(0x05, 0x01, 0x00);
        Assert.Equal(new byte[] { 0x05, 0xFF }, await raw.ReadAsync(2));
    }

    [Fact]
    public async Task PasswordFromFileAndFromVariable_BothWork()
    {
        string file = Path.GetTempFileName();
        string variable = $"S5T_PASSWORD_{Environment.ProcessId}";
        try
        {
            await File.WriteAllTextAsync(file, "from-a-file\n"); // as `echo secret > file` writes it
            Environment.SetEnvironmentVariable(variable, PasswordHash.Create("from-a-variable", iterations: 10_000));
            await using var server = await RelayServer.StartAsync(new Dictionary<string, string?>
            {
                ["Auth:Users:0:Name"] = "filed",
                ["Auth:Users:0:PasswordFile"] = file,
                ["Auth:Users:1:Name"] = "env",
                ["Auth:Users:1:PasswordEnv"] = variable,
            });
            foreach (var (user, password) in new[] { ("filed", "from-a-file"), ("env", "from-a-variable") })
            {
                await using var association = await Socks5UdpAssociation.OpenAsync(
                    new Socks5ProxyOptions { Host = "127.0.0.1", Port = server.EndPoint.Port, Credentials = new NetworkCredential(user, password) }, TestTimeout.Token);
                Assert.True(await association.NoticesSupported.Within());
            }
        }
        finally
        {
            File.Delete(file);
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public void HashPasswordCommand_PrintsAHashThatVerifies()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = Server.Tools.HashPasswordCommand.Run(["--iterations", "10000"], new StringReader("s3cret\n"), output, error);
        Assert.Equal(0, exit);
        string hash = output.ToString().Trim();
        Assert.StartsWith("pbkdf2-sha256$10000$", hash);
        Assert.True(PasswordHash.TryParse(hash, out var parsed));
        Assert.True(PasswordHash.Verify(parsed, Encoding.UTF8.GetBytes("s3cret")));
        Assert.False(PasswordHash.Verify(parsed, Encoding.UTF8.GetBytes("s3cret ")));
    }

    [Theory]
    [InlineData("", "1 to 255 bytes")]
    [InlineData("x", "unknown or invalid argument")]
    public void HashPasswordCommand_BadInput_IsUsageError(string input, string message)
    {
        var error = new StringWriter();
        string[] args = input == "x" ? ["--iterations", "12"] : [];
        Assert.Equal(2, Server.Tools.HashPasswordCommand.Run(args, new StringReader(input), new StringWriter(), error));
        Assert.Contains(message, error.ToString());
    }

    private static Dictionary<string, string?> Users(params (string Name, string Hash)[] users)
    {
        var settings = new Dictionary<string, string?>();
        int i = 0;
        foreach (var (name, hash) in users)
        {
            if (name.StartsWith("Auth:", StringComparison.Ordinal))
            {
                settings[name] = hash;
                continue;
            }

            settings[$"Auth:Users:{i}:Name"] = name;
            settings[$"Auth:Users:{i}:PasswordHash"] = hash;
            i++;
        }

        return settings;
    }
}
