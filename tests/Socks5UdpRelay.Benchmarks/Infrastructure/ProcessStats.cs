using System.Globalization;

namespace Socks5UdpRelay.Benchmarks.Infrastructure;

/// <summary>
/// CPU time and memory of a process tree from /proc: utime+stime of <c>/proc/PID/stat</c>
/// (every thread; clock ticks, USER_HZ = 100 on Linux), VmRSS of <c>/proc/PID/status</c>.
/// A tree, because Dante relays in forked children.
/// </summary>
internal static class ProcessStats
{
    private const double TicksPerSecond = 100.0;

    /// <summary>
    /// CPU seconds of <paramref name="pid"/> and all its descendants alive now, plus the
    /// descendants that ended and were waited for (cutime+cstime of the root).
    /// </summary>
    public static double CpuSeconds(int pid)
    {
        long ticks = ReadStat(pid) is { } root ? root.Cutime + root.Cstime : 0;
        foreach (int p in Tree(pid))
        {
            ticks += ReadStat(p) is { } s ? s.Utime + s.Stime : 0;
        }

        return ticks / TicksPerSecond;
    }

    /// <summary>CPU seconds of this process.</summary>
    public static double SelfCpuSeconds() => ReadStat(Environment.ProcessId) is { } s ? (s.Utime + s.Stime) / TicksPerSecond : 0;

    /// <summary>VmRSS in bytes, summed over the tree.</summary>
    public static long RssBytes(int pid) => Tree(pid).Sum(p => StatusKb(p, "VmRSS:") * 1024);

    public static int OpenFds(int pid)
    {
        try
        {
            return Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length;
        }
        catch (IOException)
        {
            return -1;
        }
        catch (UnauthorizedAccessException)
        {
            return -1;
        }
    }

    public static IReadOnlyList<int> Tree(int root)
    {
        var parents = new Dictionary<int, List<int>>();
        foreach (string dir in Directory.GetDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out int p) && ReadStat(p) is { } s)
            {
                if (!parents.TryGetValue(s.Ppid, out var kids))
                {
                    parents[s.Ppid] = kids = [];
                }

                kids.Add(p);
            }
        }

        var result = new List<int> { root };
        for (int i = 0; i < result.Count; i++)
        {
            if (parents.TryGetValue(result[i], out var kids))
            {
                result.AddRange(kids);
            }
        }

        return result;
    }

    /// <summary>
    /// The process that listens on TCP 127.0.0.1:<paramref name="port"/>: its socket inode from
    /// /proc/net/tcp, then the lowest pid holding that inode. Null when not found (another user's
    /// process, or not on this host).
    /// </summary>
    public static int? FindTcpListener(int port)
    {
        string? inode = null;
        foreach (string line in File.ReadLines("/proc/net/tcp").Skip(1))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            // sl local_address rem_address st ... inode(9)
            if (f.Length > 9 && f[3] == "0A" && int.Parse(f[1].Split(':')[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture) == port)
            {
                inode = f[9];
                break;
            }
        }

        if (inode is null)
        {
            return null;
        }

        string target = $"socket:[{inode}]";
        var holders = new List<int>();
        foreach (string dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int p))
            {
                continue;
            }

            try
            {
                foreach (string fd in Directory.EnumerateFileSystemEntries(Path.Combine(dir, "fd")))
                {
                    if (new FileInfo(fd).LinkTarget == target)
                    {
                        holders.Add(p);
                        break;
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }

        return holders.Count == 0 ? null : holders.Min();
    }

    private static long StatusKb(int pid, string key)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith(key, StringComparison.Ordinal))
                {
                    return long.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }

    private static (int Ppid, long Utime, long Stime, long Cutime, long Cstime)? ReadStat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // The command name is in parentheses and may hold spaces: fields count from its end.
        int close = text.LastIndexOf(')');
        var f = text[(close + 2)..].Split(' ');
        // f[0] = state (field 3), f[1] = ppid (4), f[11..14] = utime, stime, cutime, cstime (14..17)
        var inv = CultureInfo.InvariantCulture;
        return (int.Parse(f[1], inv), long.Parse(f[11], inv), long.Parse(f[12], inv), long.Parse(f[13], inv), long.Parse(f[14], inv));
    }
}
