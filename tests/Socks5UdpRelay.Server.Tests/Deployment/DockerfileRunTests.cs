using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Deployment;

/// <summary>
/// The Dockerfile, read and then carried out without Docker: the build stage's restore and
/// publish run as written (<see cref="EmulatedImage"/>), and the published server is started as
/// the ENTRYPOINT says, from the WORKDIR, with the image's ENV, as the image's non-root user.
/// The server binds the image's wildcard address (nothing outside this sandbox can reach it);
/// traffic goes to 127.0.0.1 only. An operator's additions are the only changes: a client
/// allow-list, loopback destinations for the echo target, and free ports instead of the fixed
/// ones (see <see cref="FreePorts"/>).
/// </summary>
public sealed partial class DockerfileRunTests(EmulatedImage image) : IClassFixture<EmulatedImage>
{
    private const int SigTerm = 15;

    [Fact]
    public void Dockerfile_BuildsInStagesWithACachedRestore_AndRunsTheServerAsANonRootUser()
    {
        var dockerfile = image.Dockerfile;
        Assert.Equal(2, dockerfile.Stages.Count);
        Assert.StartsWith("mcr.microsoft.com/dotnet/sdk:10.0", dockerfile.Stages[0].BaseImage, StringComparison.Ordinal);
        Assert.StartsWith("mcr.microsoft.com/dotnet/runtime:10.0", dockerfile.Final.BaseImage, StringComparison.Ordinal);

        // Restore layer: before the restore only project, props, solution and global.json files are copied.
        var build = dockerfile.Stages[0].Instructions;
        int restore = build.ToList().FindIndex(i => i.Keyword == "RUN" && i.Arguments.StartsWith("dotnet restore", StringComparison.Ordinal));
        Assert.True(restore > 0, "the build stage restores in a RUN of its own");
        foreach (var copy in build.Take(restore).Where(i => i.Keyword == "COPY"))
        {
            Assert.All(Dockerfile.Words(copy.Arguments).SkipLast(1), source => Assert.Matches(@"(\.csproj|\.props|\.sln|global\.json)$", source));
        }

        Assert.Contains(build.Skip(restore), i => i.Keyword == "COPY" && i.Arguments.StartsWith("src/", StringComparison.Ordinal));
        var publish = dockerfile.PublishCommand;
        Assert.Equal("Release", publish[publish.ToList().IndexOf("-c") + 1]);
        Assert.Contains("--no-restore", publish);

        Assert.NotEqual(0, dockerfile.UserId);
        Assert.Equal(["dotnet", "Socks5UdpRelay.Server.dll"], dockerfile.Entrypoint);
        Assert.Equal([.. dockerfile.Entrypoint, "healthcheck"], dockerfile.HealthCheckCommand);
        Assert.Equal("SIGTERM", dockerfile.StopSignal);
        Assert.Equal(["1080/tcp", "40000-40099/udp", "9180/tcp"], dockerfile.Expose);
        var env = dockerfile.Environment;
        Assert.Equal("0.0.0.0:1080", env["Relay__Listen__0"]);
        Assert.Equal("40000-40099", env["Relay__UdpPortRange"]);
        Assert.Equal("json", env["LogFormat"]);
        Assert.Equal("true", env["Metrics__Enabled"]);
        Assert.Equal("0.0.0.0:9180", env["Metrics__Listen"]);
    }

    [Theory]
    [InlineData("src/Socks5UdpRelay.Server/obj/project.assets.json", true)] // names the host's package folder
    [InlineData("src/Socks5UdpRelay.Protocol/bin/Release/net10.0/Socks5UdpRelay.Protocol.dll", true)]
    [InlineData("config/secrets/socks5-alice", true)]
    [InlineData("config/kubernetes/deployment.yaml", true)]
    [InlineData("tests/Socks5UdpRelay.Server.Tests/Deployment/DockerfileRunTests.cs", true)]
    [InlineData("src/Socks5UdpRelay.Server/Program.cs", false)]
    [InlineData("src/Socks5UdpRelay.Server/Socks5UdpRelay.Server.csproj", false)]
    [InlineData("config/appsettings.json", false)]
    [InlineData("Directory.Packages.props", false)]
    public void DockerIgnore_KeepsHostBuildOutputAndSecretsOutOfTheContext(string path, bool excluded)
    {
        Assert.Equal(excluded, DockerIgnore.Load(RepositoryFiles.Root).IsExcluded(path));
    }

    [RootUserFact]
    public async Task WithoutUsersOrAnAllowList_RefusesToStartAsAnOpenRelay()
    {
        var built = await image.GetAsync();
        await using var server = ServerProcess.Launch(built.Command(built.Dockerfile.Entrypoint, PortsOnly()));

        Assert.Equal(1, await server.WaitForExitAsync(TestTimeout.Default));
        Assert.Contains(server.Output, l => l.Contains("open relay", StringComparison.Ordinal) && l.Contains("Policy:AllowOpenRelay", StringComparison.Ordinal));
    }

    [RootUserFact]
    public async Task WithAnAllowList_RelaysUdpToALoopbackEcho_FromAPortOfTheRange()
    {
        var built = await image.GetAsync();
        var (environment, first, last) = OperatorEnvironment();
        await using var server = await ServerProcess.StartAsync(built.Command(built.Dockerfile.Entrypoint, environment));
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);

        await using var association = await RawAssociation.OpenAsync(Loopback(server));
        await association.SendToAsync(echo.EndPoint, "through the image"u8.ToArray());
        var (source, payload) = await association.ReceiveAsync();

        Assert.Equal(echo.EndPoint.ToString(), source);
        Assert.Equal("through the image"u8.ToArray(), payload);
        Assert.InRange(association.Relay.Port, first, last);
        Assert.Equal(IPAddress.Any, server.EndPoint.Address);
        Assert.Contains(server.Output, l => l.StartsWith('{') && l.Contains("Listening for SOCKS5", StringComparison.Ordinal)); // LogFormat=json
    }

    [RootUserFact]
    public async Task HealthCheck_RunAsTheDockerfileSays_ExitsZero()
    {
        var built = await image.GetAsync();
        var (environment, _, _) = OperatorEnvironment();
        await using var server = await ServerProcess.StartAsync(built.Command(built.Dockerfile.Entrypoint, environment));

        await using var check = ServerProcess.Launch(built.Command(built.Dockerfile.HealthCheckCommand, environment));

        Assert.Equal(0, await check.WaitForExitAsync(TestTimeout.Default));
        Assert.Contains(check.Output, l => l.StartsWith($"healthy: 127.0.0.1:{server.EndPoint.Port}", StringComparison.Ordinal));
    }

    [RootUserFact]
    public async Task Sigterm_WithAnAssociationOpen_SaysClosingShutdown_AndExitsZeroWithinTheGracePeriod()
    {
        var built = await image.GetAsync();
        var (environment, _, _) = OperatorEnvironment();
        var grace = AppSettings.Load(Path.Combine(built.WorkingDirectory, "config", "appsettings.json")).ShutdownGracePeriod(built.Dockerfile.Environment);
        await using var server = await ServerProcess.StartAsync(built.Command(built.Dockerfile.Entrypoint, environment));
        await using var association = await RawAssociation.OpenAsync(Loopback(server));
        await server.WaitForLineAsync(l => l.Contains("UDP association opened", StringComparison.Ordinal));

        Assert.Equal("SIGTERM", built.Dockerfile.StopSignal);
        var stopwatch = Stopwatch.StartNew();
        server.Signal(SigTerm);

        Assert.Equal("CLOSING reason=shutdown", await association.Control.ReadLineAsync());
        Assert.Null(await association.Control.ReadLineAsync());
        Assert.Equal(0, await server.WaitForExitAsync(grace + TimeSpan.FromSeconds(5)));
        Assert.True(stopwatch.Elapsed < grace, $"exited {stopwatch.Elapsed} after SIGTERM; the grace period is {grace}");
    }

    [RootUserFact]
    public async Task Server_RunsAsTheImagesNonRootUser()
    {
        var built = await image.GetAsync();
        var (environment, _, _) = OperatorEnvironment();
        await using var server = await ServerProcess.StartAsync(built.Command(built.Dockerfile.Entrypoint, environment));

        var uid = UidLine().Match(await File.ReadAllTextAsync($"/proc/{server.Pid}/status"));
        Assert.True(uid.Success);
        Assert.All(uid.Groups[1].Captures, c => Assert.Equal(built.UserId.ToString(System.Globalization.CultureInfo.InvariantCulture), c.Value));
        Assert.NotEqual(0, built.UserId);
        Assert.Equal(built.Dockerfile.Entrypoint, (await File.ReadAllTextAsync($"/proc/{server.Pid}/cmdline")).Split('\0', StringSplitOptions.RemoveEmptyEntries));
    }

    [RootUserFact]
    public async Task PasswordFileTheImagesUserCannotRead_StopsTheStartSayingSo_ReadableItServes()
    {
        var built = await image.GetAsync();
        var folder = Directory.CreateTempSubdirectory("s5r-secret-");
        try
        {
            // As a bind-mounted secret arrives: the host's owner (root here) and mode.
            string secret = Path.Combine(folder.FullName, "socks5-alice");
            await File.WriteAllTextAsync(secret, "a long password");
            CommandRunner.RunChecked(["chmod", "0755", folder.FullName]);
            CommandRunner.RunChecked(["chmod", "0600", secret]);
            var environment = PortsOnly();
            environment["Auth__Users__0__Name"] = "alice";
            environment["Auth__Users__0__PasswordFile"] = secret;

            await using (var refused = ServerProcess.Launch(built.Command(built.Dockerfile.Entrypoint, environment)))
            {
                Assert.Equal(1, await refused.WaitForExitAsync(TestTimeout.Default));
                Assert.Contains(refused.Output, l => l.Contains($"Auth:Users:0:PasswordFile = '{secret}' cannot be read by this process", StringComparison.Ordinal));
                Assert.DoesNotContain(refused.Output, l => l.Contains("   at ", StringComparison.Ordinal));
            }

            CommandRunner.RunChecked(["chown", $"{built.UserId}:{built.UserId}", secret]); // the README's fix
            await using var server = await ServerProcess.StartAsync(built.Command(built.Dockerfile.Entrypoint, environment));
            Assert.Contains(server.Output, l => l.Contains("authentication 1 user(s), RFC 1929", StringComparison.Ordinal));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static IPEndPoint Loopback(ServerProcess server) => new(IPAddress.Loopback, server.EndPoint.Port);

    /// <summary>Only the fixed ports replaced: the image as shipped, otherwise.</summary>
    private static Dictionary<string, string> PortsOnly()
    {
        var (first, last) = FreePorts.UdpRange(4);
        return new()
        {
            ["Relay__Listen__0"] = $"0.0.0.0:{FreePorts.Tcp(IPAddress.Any)}",
            ["Relay__UdpPortRange"] = $"{first}-{last}",
            ["Limits__MaxAssociationsPerClient"] = "4", // no more than the range holds (the image's 25 is a quarter of its 100)
            ["Metrics__Listen"] = $"0.0.0.0:{FreePorts.Tcp(IPAddress.Any)}",
        };
    }

    /// <summary>What an operator adds: who may use the relay, and (for the echo target here) loopback destinations.</summary>
    private static (Dictionary<string, string> Environment, int First, int Last) OperatorEnvironment()
    {
        var environment = PortsOnly();
        environment["Policy__AllowClients__0"] = "127.0.0.0/8";
        environment["Policy__LoopbackDestinations"] = "allow";
        var range = environment["Relay__UdpPortRange"].Split('-');
        return (environment, int.Parse(range[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(range[1], System.Globalization.CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"^Uid:(?:\s+(\d+)){4}\s*$", RegexOptions.Multiline)]
    private static partial Regex UidLine();
}
