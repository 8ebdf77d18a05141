using System.Text.Json;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Socks5UdpRelay.Tests.Shared.Topology;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Deployment;

/// <summary>
/// The README's s5nc transcripts assume a server on 11080 and responders on privileged ports; the
/// README says how to start them. This runs that set-up as written (the server from this build
/// instead of <c>dotnet run</c>) in a network namespace of its own, so its fixed ports meet
/// nothing else, and checks that the transcripts come out as the README shows them.
/// </summary>
public sealed class ReadmeTranscriptTests
{
    [RootFact]
    public void TranscriptSetUp_AsTheReadmeWritesIt_GivesTheReadmesOutputs()
    {
        var setup = Readme.CodeBlock("--Relay:Listen:0=127.0.0.1:11080")
            .Select(l => l.Replace("dotnet run --project src/Socks5UdpRelay.Server --", $"dotnet {ServerProcess.ServerDll}", StringComparison.Ordinal));
        string script = string.Join('\n',
        [
            .. setup,
            $"s5nc() {{ dotnet {BuiltPrograms.CliDll} \"$@\"; }}",
            "for i in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/11080) 2>/dev/null && break; sleep 0.05; done", // bounded: the server's start-up
            "echo @@send; echo hello | s5nc send 127.0.0.1 7 2>&1",
            "echo @@refused; echo hello | s5nc send 127.0.0.1 5999 2>&1; echo $?",
            "echo @@probe; s5nc probe 127.0.0.1 7 5999,6000 --json 2>/dev/null",
            "kill $(jobs -p)",
        ]);

        string ns = NamespaceNames.NextPrefix() + "readme";
        NetnsTopology.DeleteLeftovers();
        CommandRunner.RunChecked(["ip", "netns", "add", ns]);
        try
        {
            CommandRunner.RunChecked(["ip", "-n", ns, "link", "set", "lo", "up"]);
            var run = CommandRunner.Run(["ip", "netns", "exec", ns, "bash", "-c", script], timeout: TimeSpan.FromSeconds(60));
            var parts = Sections(run.StandardOutput);

            Assert.True(parts.ContainsKey("probe"), $"the set-up did not get that far: {run.StandardOutput}{run.StandardError}");
            Assert.Equal(Transcript("$ echo hello | s5nc send 127.0.0.1 7"), parts["send"]);
            Assert.Equal(Transcript("$ echo hello | s5nc send 127.0.0.1 5999; echo $?"), parts["refused"]);
            var expected = Transcript("$ s5nc probe 127.0.0.1 7 5999,6000 --json").Where(l => l.StartsWith('{')).Select(Verdict);
            Assert.Equal(expected, parts["probe"].Select(Verdict));
        }
        finally
        {
            NetnsTopology.DeleteNamespace(ns);
        }
    }

    /// <summary>The output lines under <paramref name="command"/> in the README, up to the next command or the end of the block.</summary>
    private static List<string> Transcript(string command)
    {
        var lines = File.ReadAllLines(Path.Combine(RepositoryFiles.Root, "README.md"));
        int at = Array.FindIndex(lines, l => l == command);
        Assert.True(at > 0, $"README.md has no transcript '{command}'");
        return [.. lines.Skip(at + 1).TakeWhile(l => !l.StartsWith('$') && !Readme.IsFence(l))];
    }

    private static Dictionary<string, List<string>> Sections(string output)
    {
        var sections = new Dictionary<string, List<string>>();
        List<string>? current = null;
        foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("@@", StringComparison.Ordinal))
            {
                sections[line[2..]] = current = [];
            }
            else
            {
                current?.Add(line);
            }
        }

        return sections;
    }

    /// <summary>A probe verdict without its round-trip time, which differs from run to run.</summary>
    private static string Verdict(string json)
    {
        using var document = JsonDocument.Parse(json);
        var r = document.RootElement;
        return $"{r.GetProperty("host")} {r.GetProperty("port")} {r.GetProperty("state")} {r.GetProperty("reason")} {r.GetProperty("from")}";
    }
}
