using System.Diagnostics;
using Socks5UdpRelay.Tests.Shared;
using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Deployment;

/// <summary>
/// The compose deployment as an operator meets it: the README's commands create the secret that
/// config/docker-compose.yml mounts, readable by the image's user and nobody else; git and the
/// Docker build context never see it; the container's memory, CPU, file descriptors and logs are bounded.
/// </summary>
public sealed class ComposeTests
{
    private static YamlNode Service => Assert.Single(Yaml.Load(RepositoryFiles.ComposeFile)["services"].Entries).Value;

    [Fact]
    public void Compose_BoundsMemoryCpuFileDescriptorsAndLogs()
    {
        var limits = Service["deploy"]["resources"]["limits"];
        Assert.EndsWith("M", limits["memory"].Text, StringComparison.Ordinal);
        Assert.NotNull(limits.Get("cpus"));
        Assert.True(Service["ulimits"]["nofile"]["hard"].Int >= 3 * UdpRangeSize(), "each association holds three descriptors or more");
        Assert.Equal("json-file", Service["logging"]["driver"].Text);
        Assert.NotNull(Service["logging"]["options"].Get("max-size"));
        Assert.NotNull(Service["logging"]["options"].Get("max-file"));
    }

    [Fact]
    public void ComposeSecrets_NeverReachAGitCommitOrTheBuildContext()
    {
        string secret = SecretPath();
        var ignored = CommandRunner.Run(["git", "-C", RepositoryFiles.Root, "check-ignore", "--no-index", "--quiet", secret]);

        Assert.True(ignored.ExitCode == 0, $"git would add {secret}: .gitignore must cover it ({ignored.StandardError.Trim()})");
        Assert.True(DockerIgnore.Load(RepositoryFiles.Root).IsExcluded(secret));
    }

    [RootUserFact]
    public void ReadmeComposeCommands_CreateTheMountedSecret_ReadableByTheImagesUserOnly()
    {
        var commands = ReadmeComposeSetup();
        var folder = Directory.CreateTempSubdirectory("s5r-compose-");
        try
        {
            Directory.CreateDirectory(Path.Combine(folder.FullName, "config"));
            File.Copy(RepositoryFiles.ComposeFile, Path.Combine(folder.FullName, "config", "docker-compose.yml"));
            var run = new ProcessStartInfo(ExternalTools.Resolve("sh")) { WorkingDirectory = folder.FullName, RedirectStandardError = true };
            run.ArgumentList.Add("-ec");
            run.ArgumentList.Add(string.Join('\n', commands));
            using (var shell = Process.Start(run)!)
            {
                Assert.True(shell.WaitForExit(TestTimeout.Default), "the README's commands did not finish");
                Assert.True(shell.ExitCode == 0, $"the README's commands failed: {shell.StandardError.ReadToEnd()}");
            }

            string secret = Path.Combine(folder.FullName, SecretPath());
            Assert.True(File.Exists(secret), $"the README's commands do not create {SecretPath()}, which docker-compose.yml mounts");
            int imageUser = Dockerfile.Load(RepositoryFiles.Dockerfile).UserId;
            if (OperatingSystem.IsLinux())
            {
                File.SetUnixFileMode(folder.FullName, File.GetUnixFileMode(folder.FullName) | UnixFileMode.OtherExecute); // as a checkout's folders are
            }
            Assert.Equal(0, ReadAs(imageUser, secret));
            Assert.NotEqual(0, ReadAs(imageUser + 1, secret)); // not world-readable: other local users cannot
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>The compose file's secret, as a path from the repository root (compose resolves it from the file's own folder).</summary>
    private static string SecretPath()
    {
        var secrets = Yaml.Load(RepositoryFiles.ComposeFile)["secrets"];
        string file = Assert.Single(secrets.Entries).Value["file"].Text;
        return Path.GetRelativePath(RepositoryFiles.Root, Path.GetFullPath(Path.Combine(RepositoryFiles.Root, "config", file)));
    }

    /// <summary>The README's compose block, up to the <c>docker compose</c> command itself (no Docker engine here).</summary>
    private static List<string> ReadmeComposeSetup()
    {
        var block = Readme.CodeBlock("docker compose -f config/docker-compose.yml");
        return block[..block.FindIndex(l => l.Contains("docker compose", StringComparison.Ordinal))];
    }

    private static int ReadAs(int uid, string path)
    {
        var result = CommandRunner.Run(["setpriv", $"--reuid={uid}", $"--regid={uid}", "--clear-groups", "cat", path]);
        return result.ExitCode;
    }

    private static int UdpRangeSize()
    {
        var parts = Dockerfile.Load(RepositoryFiles.Dockerfile).Environment["Relay__UdpPortRange"].Split('-');
        return int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) - int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture) + 1;
    }
}
