using System.Text;
using Socks5UdpRelay.Server.Notices;

namespace Socks5UdpRelay.Server.Tests.Fakes;

/// <summary>The notice lines an association wrote, as text without their newline.</summary>
internal sealed class RecordingNoticeSink : INoticeSink
{
    public List<string> Lines { get; } = [];

    public long Sent => Lines.Count;

    public long Dropped => 0;

    public bool TryEnqueue(ReadOnlySpan<byte> line)
    {
        Lines.Add(Encoding.ASCII.GetString(line).TrimEnd('\n'));
        return true;
    }
}
