using System.Globalization;

namespace Socks5UdpRelay.Gateway.Plane;

/// <summary>
/// One program socket's flow: the gateway's handle for (program address, program port) while it is
/// tracked. Never reused: a flow closed and a later flow from the same socket have different ids.
/// </summary>
/// <param name="Value">Opaque; <c>default</c> is no flow.</param>
public readonly record struct FlowId(long Value)
{
    internal FlowId(int slot, int generation)
        : this(((long)generation << 32) | (uint)slot)
    {
    }

    internal int Slot => (int)(Value & 0xFFFF_FFFF);

    internal int Generation => (int)(Value >> 32);

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"flow {Generation}.{Slot}");
}
