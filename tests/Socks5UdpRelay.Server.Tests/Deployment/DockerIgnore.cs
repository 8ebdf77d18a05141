using System.Text;
using System.Text.RegularExpressions;

namespace Socks5UdpRelay.Server.Tests.Deployment;

/// <summary>
/// .dockerignore as Docker reads it, for the patterns this repository uses: paths relative to the
/// context, <c>*</c> and <c>?</c> within one path segment, <c>**</c> across segments, a trailing
/// <c>/</c> ignored (Docker cleans patterns), <c>!</c> re-including, the last match winning. A
/// pattern that matches a folder excludes everything beneath it.
/// </summary>
internal sealed class DockerIgnore
{
    private readonly List<(Regex Pattern, bool Exclude)> _rules = [];

    private DockerIgnore()
    {
    }

    public static DockerIgnore Load(string contextDirectory)
    {
        var ignore = new DockerIgnore();
        string path = Path.Combine(contextDirectory, ".dockerignore");
        if (!File.Exists(path))
        {
            return ignore;
        }

        foreach (string raw in File.ReadAllLines(path))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            bool exclude = !line.StartsWith('!');
            string pattern = (exclude ? line : line[1..]).Trim().Trim('/');
            ignore._rules.Add((new Regex($"^{ToRegex(pattern)}$", RegexOptions.CultureInvariant), exclude));
        }

        return ignore;
    }

    /// <summary>True when the context-relative path (forward slashes) is left out of the build context.</summary>
    public bool IsExcluded(string relativePath)
    {
        string path = relativePath.Replace('\\', '/').Trim('/');
        bool excluded = false;
        foreach (var (pattern, exclude) in _rules)
        {
            // The path itself or any folder above it.
            for (int end = path.Length; end > 0; end = path.LastIndexOf('/', end - 1))
            {
                if (pattern.IsMatch(path[..end]))
                {
                    excluded = exclude;
                    break;
                }
            }
        }

        return excluded;
    }

    private static string ToRegex(string pattern)
    {
        var regex = new StringBuilder();
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c == '*' && i + 1 < pattern.Length && pattern[i + 1] == '*')
            {
                bool slash = i + 2 < pattern.Length && pattern[i + 2] == '/';
                regex.Append(slash ? "(.*/)?" : ".*");
                i += slash ? 2 : 1;
            }
            else if (c == '*')
            {
                regex.Append("[^/]*");
            }
            else if (c == '?')
            {
                regex.Append("[^/]");
            }
            else
            {
                regex.Append(Regex.Escape(c.ToString()));
            }
        }

        return regex.ToString();
    }
}
