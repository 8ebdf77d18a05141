namespace Socks5UdpRelay.Server.Tests.Deployment;

/// <summary>README.md's shell examples, for tests that run them as written.</summary>
internal static class Readme
{
    /// <summary>The lines of the README's code block that holds <paramref name="marker"/>, comments left out.</summary>
    public static List<string> CodeBlock(string marker)
    {
        var lines = File.ReadAllLines(Path.Combine(RepositoryFiles.Root, "README.md"));
        int at = Array.FindIndex(lines, l => l.Contains(marker, StringComparison.Ordinal) && !l.StartsWith('`') && !l.Contains('`', StringComparison.Ordinal));
        Xunit.Assert.True(at > 0, $"README.md shows no '{marker}' command in a code block");
        int start = Array.FindLastIndex(lines, at, IsFence) + 1;
        int end = Array.FindIndex(lines, at, IsFence);
        return [.. lines[start..end].Select(l => l.Split(" #")[0].Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))];
    }

    /// <summary>A code fence, also indented inside a list item.</summary>
    public static bool IsFence(string line) => line.TrimStart().StartsWith("```", StringComparison.Ordinal);
}
