namespace Socks5UdpRelay.Gateway.Tun;

/// <summary>Where the packet plane reads programs' packets and writes replies and errors: the TUN device, or a test double.</summary>
internal interface IPacketDevice
{
    /// <summary>
    /// Waits up to <paramref name="timeoutMilliseconds"/> for a packet and copies it into
    /// <paramref name="buffer"/>: its length; 0 when the time passed without one; −1 once stopped.
    /// </summary>
    int Read(Span<byte> buffer, int timeoutMilliseconds);

    /// <summary>Writes one packet given as two parts (headers, then payload); false when the device refused it.</summary>
    bool Write(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second);

    /// <summary>Makes a pending and every later <see cref="Read"/> return −1.</summary>
    void Stop();
}
