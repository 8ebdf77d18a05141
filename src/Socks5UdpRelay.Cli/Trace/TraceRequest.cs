using System.Net.Sockets;

namespace Socks5UdpRelay.Cli.Trace;

/// <summary>What <c>trace</c> was asked to do, after parsing.</summary>
/// <param name="Port">Null: each probe to its own port from <see cref="TraceSchedule.FirstPort"/> up; else every probe to this port, one at a time.</param>
internal sealed record TraceRequest(
    string Host,
    AddressFamily? Family,
    int? Port,
    int MaxHops,
    int Queries,
    TimeSpan Wait,
    bool Json);
