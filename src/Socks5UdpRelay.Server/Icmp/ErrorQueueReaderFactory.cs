using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Server.Hosting;
using Socks5UdpRelay.Server.Logging;

namespace Socks5UdpRelay.Server.Icmp;

/// <summary>Picks the error-queue reader: the kernel's where it has one and configuration allows, else the errno-only fallback.</summary>
internal static class ErrorQueueReaderFactory
{
    public static IErrorQueueReader Create(RelayOptions options, ILogger logger)
    {
        if (string.Equals(options.ErrorQueue, "off", StringComparison.OrdinalIgnoreCase))
        {
            Log.ErrorQueueMode(logger, "errno only (Relay:ErrorQueue=off)");
            return NullErrorQueueReader.Instance;
        }

        var reader = ErrorQueueReader.Create(out string? fallbackReason);
        Log.ErrorQueueMode(logger, fallbackReason is null ? "kernel error queue (IP_RECVERR)" : $"errno only ({fallbackReason})");
        return reader;
    }
}
