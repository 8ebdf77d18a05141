using System.Runtime.InteropServices;

namespace Socks5UdpRelay.Benchmarks.Native;

/// <summary>
/// Raises this process's descriptor limit (soft and, as root, hard) before it starts a server, which
/// inherits it: 5 000 associations need about 20 000 descriptors on each side.
/// </summary>
internal static partial class DescriptorLimit
{
    private const int RlimitNofile = 7;

    /// <summary>At least <paramref name="wanted"/> descriptors if the kernel allows; returns the soft limit in force.</summary>
    public static ulong AtLeast(ulong wanted)
    {
        if (GetRLimit(RlimitNofile, out var limit) != 0 || limit.Current >= wanted)
        {
            return limit.Current;
        }

        var raised = new RLimit { Current = wanted, Maximum = Math.Max(wanted, limit.Maximum) };
        if (SetRLimit(RlimitNofile, raised) != 0)
        {
            raised = limit with { Current = limit.Maximum }; // not root: as far as the hard limit goes
            SetRLimit(RlimitNofile, raised);
        }

        return GetRLimit(RlimitNofile, out limit) == 0 ? limit.Current : 0;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimit(int resource, out RLimit limit);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRLimit(int resource, in RLimit limit);
}
