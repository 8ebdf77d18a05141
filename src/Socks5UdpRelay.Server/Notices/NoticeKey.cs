using Socks5UdpRelay.Server.Addressing;

namespace Socks5UdpRelay.Server.Notices;

/// <summary>
/// What notices are rate-limited by: a destination (resolved, or a name) of a mapping, the verb,
/// its kind or reason, and for <c>ttl-exceeded</c> the reporter, so the hops of one trace never
/// suppress each other (README, "Client commands").
/// </summary>
internal readonly record struct NoticeKey(DestinationKey Destination, string? Name, NoticeTopic Topic, int Code, ushort Mapping = 0, UInt128 Reporter = default);

/// <summary>The verb a rate-limited notice belongs to.</summary>
internal enum NoticeTopic : byte
{
    Error,
    Denied,
    Unresolved,
}
