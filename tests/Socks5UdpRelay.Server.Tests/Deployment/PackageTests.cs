using System.IO.Compression;
using System.Xml.Linq;
using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Deployment;

/// <summary>
/// What a user of the packages gets: the README's own commands pack s5nc and install it as a tool
/// without a warning, and every package (the tool, the client library and the protocol library it
/// depends on) carries its description, licence, authors and readme. Packs into a folder of its own
/// in Release, so the build the tests run from is not touched.
/// </summary>
public sealed class PackageTests
{
    private static readonly TimeSpan PackTimeout = TimeSpan.FromMinutes(5);

    [Fact]
    public void ReadmeToolInstallCommands_PackAndInstallS5nc_WithoutWarnings()
    {
        var commands = Readme.CodeBlock("dotnet tool install");
        var folder = Directory.CreateTempSubdirectory("s5r-tool-");
        try
        {
            string packages = Path.Combine(folder.FullName, "packages");
            string tools = Path.Combine(folder.FullName, "tools");
            foreach (string command in commands)
            {
                // The README's commands as written, but into this test's folder instead of the repository's and the user's.
                var words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                    .Select(w => w == "artifacts/packages" ? packages : w)
                    .SelectMany(w => w == "--global" ? ["--tool-path", tools] : new[] { w })
                    .ToList();
                var result = CommandRunner.Run([ExternalTools.Resolve(words[0]), .. words.Skip(1), .. (words[1] == "pack" ? new[] { "-p:UseSharedCompilation=false" } : [])], timeout: PackTimeout, workingDirectory: RepositoryFiles.Root);
                Assert.True(result.Succeeded, $"`{command}` failed: {result.StandardOutput}{result.StandardError}");
                Assert.DoesNotContain("warn", result.StandardOutput, StringComparison.OrdinalIgnoreCase);
                Assert.DoesNotContain("missing a readme", result.StandardOutput, StringComparison.OrdinalIgnoreCase);
            }

            var help = CommandRunner.Run([Path.Combine(tools, "s5nc"), "--help"]);
            Assert.Equal(0, help.ExitCode);
            Assert.Contains("s5nc", help.StandardOutput, StringComparison.Ordinal);
            AssertMetadata(Directory.GetFiles(packages, "s5nc.*.nupkg").Single(), "s5nc");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("Socks5UdpRelay.Client")]
    [InlineData("Socks5UdpRelay.Protocol")]
    public void LibraryPackage_HasDescriptionLicenceAuthorsAndReadme(string project)
    {
        var folder = Directory.CreateTempSubdirectory("s5r-pack-");
        try
        {
            var result = CommandRunner.Run(
                ["dotnet", "pack", Path.Combine(RepositoryFiles.Root, "src", project), "-c", "Release", "-o", folder.FullName, "-p:UseSharedCompilation=false"], timeout: PackTimeout);
            Assert.True(result.Succeeded, result.StandardOutput + result.StandardError);
            Assert.DoesNotContain("warn", result.StandardOutput, StringComparison.OrdinalIgnoreCase);
            AssertMetadata(Directory.GetFiles(folder.FullName, $"{project}.*.nupkg").Single(), project);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void Licence_IsMitAtTheTopLevel_AndEveryPackageSaysSo()
    {
        string licence = File.ReadAllText(Path.Combine(RepositoryFiles.Root, "LICENSE"));
        Assert.StartsWith("MIT License", licence, StringComparison.Ordinal);
        Assert.Contains("Copyright (c) 2026 Socks5UdpRelay contributors", licence, StringComparison.Ordinal);
        string props = File.ReadAllText(Path.Combine(RepositoryFiles.Root, "Directory.Build.props"));
        Assert.Contains("<PackageLicenseExpression>MIT</PackageLicenseExpression>", props, StringComparison.Ordinal);
    }

    private static void AssertMetadata(string package, string id)
    {
        using var zip = ZipFile.OpenRead(package);
        var nuspec = XDocument.Load(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
        var metadata = nuspec.Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        string? Field(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value;

        Assert.Equal(id, Field("id"));
        Assert.Equal("Socks5UdpRelay contributors", Field("authors"));
        Assert.Equal("MIT", Field("license"));
        Assert.False(string.IsNullOrWhiteSpace(Field("description")));
        Assert.NotEqual("Package Description", Field("description"));
        Assert.False(string.IsNullOrWhiteSpace(Field("tags")));
        string readme = Field("readme") ?? throw new Xunit.Sdk.XunitException($"{id}: no readme in the package");
        Assert.Contains(zip.Entries, e => e.FullName == readme);
    }
}
