using Socks5UdpRelay.Server.Addressing;

namespace Socks5UdpRelay.Server.Notices;

/// <summary>What notices are rate-limited by: a destination (resolved, or a name), the verb, and its kind or reason.</summary>
internal readonly record struct NoticeKey(DestinationKey Destination, string? Name, NoticeTopic Topic, int Code);

/// <summary>The verb a rate-limited notice belongs to.</summary>
internal enum NoticeTopic : byte
{
    Error,
    Denied,
    Unresolved,
}
