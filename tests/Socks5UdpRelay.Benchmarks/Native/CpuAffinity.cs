using System.Runtime.InteropServices;

namespace Socks5UdpRelay.Benchmarks.Native;

/// <summary>
/// Pins this whole process to one CPU, as <c>taskset -a -p -c N PID</c> does:
/// sched_setaffinity(0) would pin only the calling thread, so every existing thread in
/// /proc/self/task is pinned; threads created later inherit their creator's mask.
/// </summary>
internal static partial class CpuAffinity
{
    public static void PinProcess(int cpu)
    {
        if (cpu < 0 || cpu >= 64)
        {
            throw new ArgumentOutOfRangeException(nameof(cpu), cpu, "CPU index 0..63.");
        }

        ulong mask = 1UL << cpu;
        foreach (string task in Directory.GetDirectories("/proc/self/task"))
        {
            if (int.TryParse(Path.GetFileName(task), out int tid))
            {
                _ = sched_setaffinity(tid, (nuint)sizeof(ulong), ref mask); // a thread that just ended is fine to miss
            }
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int sched_setaffinity(int pid, nuint size, ref ulong mask);
}
