using System.Net;
using Socks5UdpRelay.Benchmarks.Infrastructure;

namespace Socks5UdpRelay.Benchmarks.Load;

/// <summary>Something to measure through: a proxy (started by the tool or given by address) or nothing at all ("direct").</summary>
internal sealed class Target : IDisposable
{
    public Target(string name, IPEndPoint? proxy, int? pid, StartedServer? started)
    {
        Name = name;
        Proxy = proxy;
        Pid = pid;
        Started = started;
    }

    public string Name { get; }

    /// <summary>Null for the direct baseline.</summary>
    public IPEndPoint? Proxy { get; }

    /// <summary>The proxy's process (its tree is measured), when known.</summary>
    public int? Pid { get; }

    public StartedServer? Started { get; }

    /// <summary>Datagrams over the proxy's TCP connection (UDP over TCP) instead of UDP ASSOCIATE.</summary>
    public bool OverTcp { get; private init; }

    /// <summary>Set for <c>ours-stream</c>: while this target is measured, a flow stream is read from this endpoint with this token.</summary>
    public (IPEndPoint Endpoint, string Token)? FlowStream { get; init; }

    public double CpuSeconds() => Pid is { } p ? ProcessStats.CpuSeconds(p) : double.NaN;

    public void Dispose() => Started?.Dispose();

    /// <summary>The same proxy measured over TCP, named <c>NAME-tcp</c>; it owns no process.</summary>
    public Target WithUdpOverTcp() => new(Name + "-tcp", Proxy, Pid, null) { OverTcp = true, FlowStream = FlowStream };

    /// <summary><c>direct</c>, or <c>name=host:port</c>.</summary>
    public static Target Parse(string text)
    {
        if (text == "direct")
        {
            return new Target("direct", null, null, null);
        }

        int eq = text.IndexOf('=', StringComparison.Ordinal);
        string name = eq > 0 ? text[..eq] : "proxy";
        string address = eq > 0 ? text[(eq + 1)..] : text;
        if (!IPEndPoint.TryParse(address, out var ep) || ep.Port == 0)
        {
            throw new UsageException($"--target {text}: expected direct or NAME=HOST:PORT");
        }

        if (!IPAddress.IsLoopback(ep.Address))
        {
            throw new UsageException($"--target {text}: loopback proxies only");
        }

        return new Target(name, ep, ProcessStats.FindTcpListener(ep.Port), null);
    }
}
