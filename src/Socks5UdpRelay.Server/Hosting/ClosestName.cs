namespace Socks5UdpRelay.Server.Hosting;

/// <summary>"Did you mean …?" for configuration keys and values: the known name fewest edits away, if it is close enough to be a typo.</summary>
internal static class ClosestName
{
    /// <summary>The candidate with the smallest edit distance (case ignored), when that distance is at most a third of the name (at least 2); else null.</summary>
    public static string? Find(string name, IEnumerable<string> candidates)
    {
        int limit = Math.Max(2, name.Length / 3);
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (string candidate in candidates)
        {
            int distance = Distance(name.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }

        return bestDistance <= limit ? best : null;
    }

    /// <summary>Levenshtein distance with adjacent transpositions counted as one edit (optimal string alignment).</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (int j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }

    /// <summary><c>" (did you mean X?)"</c> or an empty string.</summary>
    public static string Suggest(string name, IEnumerable<string> candidates)
        => Find(name, candidates) is { } match ? $" (did you mean {match}?)" : string.Empty;
}
