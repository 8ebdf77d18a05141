using static Socks5UdpRelay.Server.Interop;

namespace Socks5UdpRelay.Server.Hosting;

/// <summary>
/// The process's file-descriptor limit, raised at start from the soft limit to the hard one (as
/// Go's runtime and nginx's worker_rlimit_nofile do): every association holds three or four
/// descriptors (its control connection, its relay socket, a socket per destination, and with
/// filtering other than address-and-port-dependent one per mapping and family), and systemd and
/// some shells start services with a soft limit of 1 024.
/// </summary>
internal static class DescriptorLimit
{
    /// <summary>Raises the soft limit to the hard one; returns both as they were and as they are (0s when unknown).</summary>
    public static (ulong Before, ulong After, ulong Hard) Raise()
    {
        if (Sys.GetRLimit(Sys.RLIMIT_NOFILE, out var limit) != 0)
        {
            return (0, 0, 0);
        }

        ulong before = limit.Current;
        if (limit.Current < limit.Maximum)
        {
            var raised = limit with { Current = limit.Maximum };
            if (Sys.SetRLimit(Sys.RLIMIT_NOFILE, raised) == 0)
            {
                limit = raised;
            }
        }

        return (before, limit.Current, limit.Maximum);
    }
}
