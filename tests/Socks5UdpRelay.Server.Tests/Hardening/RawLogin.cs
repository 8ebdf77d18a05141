using System.Diagnostics;
using System.Net;
using System.Text;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Server.Tests.Hardening;

/// <summary>
/// One RFC 1929 login on the wire, from a source address of the test's choosing (any of
/// 127.0.0.0/8 works on loopback): connect, offer username/password, send the credentials, read
/// the status. The time is from connect to the status, what a client waits to log in.
/// </summary>
internal static class RawLogin
{
    /// <summary>The status byte (0 success) and the time it took; status -1 when the server closed without one.</summary>
    public static async Task<(int Status, TimeSpan Elapsed)> RunAsync(IPEndPoint server, IPAddress source, string user, string password, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        await using var socket = await SourcedSocket.ConnectAsync(server, source, cancellationToken);
        byte[] name = Encoding.UTF8.GetBytes(user);
        byte[] secret = Encoding.UTF8.GetBytes(password);
        await socket.SendAsync(0x05, 0x01, 0x02);
        if (await socket.ReadAsync(2, cancellationToken) is not [0x05, 0x02])
        {
            return (-1, clock.Elapsed);
        }

        await socket.SendAsync([0x01, (byte)name.Length, .. name, (byte)secret.Length, .. secret]);
        var status = await socket.ReadAsync(2, cancellationToken);
        return (status.Length == 2 ? status[1] : -1, clock.Elapsed);
    }

    /// <summary>The value at or below which <paramref name="fraction"/> of the samples lie (nearest rank).</summary>
    public static TimeSpan Percentile(IReadOnlyList<TimeSpan> samples, double fraction)
    {
        var sorted = samples.Order().ToList();
        int rank = Math.Clamp((int)Math.Ceiling(fraction * sorted.Count) - 1, 0, sorted.Count - 1);
        return sorted[rank];
    }
}
