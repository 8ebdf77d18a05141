namespace Socks5UdpRelay.Server.Icmp;

/// <summary>Picks the error-queue reader for this platform.</summary>
internal static class ErrorQueueReader
{
    /// <summary>
    /// The Linux reader where it works, else <see cref="NullErrorQueueReader"/> with the reason in
    /// <paramref name="fallbackReason"/> (null when the Linux reader was chosen), for one log line at start.
    /// </summary>
    public static IErrorQueueReader Create(out string? fallbackReason)
    {
        if (LinuxErrorQueueReader.TryCreate(out var reader, out fallbackReason))
        {
            return reader;
        }

        return NullErrorQueueReader.Instance;
    }
}
