using Socks5UdpRelay.Gateway.Tun;

namespace Socks5UdpRelay.Gateway.Tests.Fakes;

/// <summary>A device double: packets written are kept (the last one without allocating, all of them when <see cref="KeepAll"/>).</summary>
internal sealed class RecordingDevice : IPacketDevice
{
    private readonly byte[] _last = new byte[70000];

    public bool KeepAll { get; init; } = true;

    public bool Refuse { get; set; }

    public List<byte[]> Written { get; } = [];

    public int WriteCount { get; private set; }

    public ReadOnlySpan<byte> Last => _last.AsSpan(0, LastLength);

    private int LastLength { get; set; }

    public int Read(Span<byte> buffer, int timeoutMilliseconds) => -1;

    public bool Write(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        if (Refuse)
        {
            return false;
        }

        first.CopyTo(_last);
        second.CopyTo(_last.AsSpan(first.Length));
        LastLength = first.Length + second.Length;
        WriteCount++;
        if (KeepAll)
        {
            Written.Add(Last.ToArray());
        }

        return true;
    }

    public void Stop()
    {
    }
}
