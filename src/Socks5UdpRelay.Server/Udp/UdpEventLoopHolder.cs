using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Server.Hosting;
using Socks5UdpRelay.Server.Logging;

namespace Socks5UdpRelay.Server.Udp;

/// <summary>Owns the process's UDP event loop for the container (disposed with it), or holds null for the async path.</summary>
internal sealed class UdpEventLoopHolder(UdpEventLoop? loop) : IDisposable
{
    public UdpEventLoop? Loop { get; } = loop;

    public static UdpEventLoopHolder Create(RelayOptions options, ILogger logger)
    {
        if (string.Equals(options.IoEngine, "async", StringComparison.OrdinalIgnoreCase))
        {
            Log.IoEngine(logger, "async socket operations (Relay:IoEngine=async)");
            return new UdpEventLoopHolder(null);
        }

        var loop = UdpEventLoop.TryCreate("socks5-udp", e => Log.EventLoopFault(logger, e));
        Log.IoEngine(logger, loop is null ? "async socket operations (no epoll here)" : "epoll loop");
        return new UdpEventLoopHolder(loop);
    }

    public void Dispose() => Loop?.Dispose();
}
