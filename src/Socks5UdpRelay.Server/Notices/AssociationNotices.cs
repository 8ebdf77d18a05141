using System.Text;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Icmp;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Udp;

namespace Socks5UdpRelay.Server.Notices;

/// <summary>
/// The notice lines one association owes its client (DESIGN.md, "Notices"): each one built in a
/// stack buffer, rate-limited per destination and kind with the rest counted in
/// <c>suppressed=</c>, and handed to the <see cref="NoticeWriter"/>. Returns whether a line went
/// out, so the caller logs only what the client was told.
/// </summary>
internal sealed class AssociationNotices(NoticeWriter writer, NoticeRateLimiter<NoticeKey> limiter, RelayMetrics metrics)
{
    public long Sent => writer.Sent;

    public long Dropped => writer.Dropped;

    /// <summary>The first line, <c>NOTICES version=1</c>.</summary>
    public void Announce()
    {
        Span<byte> line = stackalloc byte[32];
        var builder = new NoticeLineWriter(line, NoticeVerbs.Notices);
        builder.Add(NoticeKeys.Version, 1);
        Send(builder, line, NoticeVerbs.Notices);
    }

    /// <summary><c>CLOSING reason=…</c>.</summary>
    public void Closing(string reason)
    {
        Span<byte> line = stackalloc byte[64];
        var builder = new NoticeLineWriter(line, NoticeVerbs.Closing);
        builder.Add(NoticeKeys.Reason, reason);
        Send(builder, line, NoticeVerbs.Closing);
    }

    /// <summary><c>UDP-ERROR</c> for <paramref name="key"/>, as the client addressed it (<paramref name="name"/> when it used one).</summary>
    public bool UdpError(DestinationKey key, string? name, in SocketErrorReport report)
    {
        if (!limiter.TryAcquire(new NoticeKey(key, name, (int)report.Kind), out long suppressed))
        {
            return false;
        }

        Span<byte> line = stackalloc byte[NoticeFormat.MaxLineLength];
        var builder = new NoticeLineWriter(line, NoticeVerbs.UdpError);
        Span<byte> nameBytes = stackalloc byte[SocksAddressCodec.MaxDomainNameLength];
        if (name is not null)
        {
            int n = Encoding.Latin1.GetBytes(name, nameBytes);
            builder.AddEndpoint(NoticeKeys.Destination, new SocksAddress(AddressType.DomainName, nameBytes[..n], key.Port));
            builder.AddEndpoint(NoticeKeys.Address, key.ToIPAddress(), key.Port);
        }
        else
        {
            builder.AddEndpoint(NoticeKeys.Destination, key.ToIPAddress(), key.Port);
        }

        builder.Add(NoticeKeys.Error, report.Kind.ToWireName());
        builder.Add(NoticeKeys.Errno, report.Errno);
        if (report.Origin is ErrorOrigin.Icmp or ErrorOrigin.Icmp6)
        {
            builder.AddTypeCode(report.Origin == ErrorOrigin.Icmp ? NoticeKeys.Icmp : NoticeKeys.Icmp6, report.IcmpType, report.IcmpCode);
        }

        if (report.Offender is not null)
        {
            builder.AddAddress(NoticeKeys.From, report.Offender);
        }

        if (report.Mtu > 0)
        {
            builder.Add(NoticeKeys.Mtu, report.Mtu);
        }

        AddSuppressed(ref builder, suppressed);
        return Send(builder, line, NoticeVerbs.UdpError);
    }

    /// <summary><c>UDP-DENIED</c>; <paramref name="reasonId"/> keeps each reason's rate separate.</summary>
    public bool Denied(in SocksAddress addressedAs, DestinationKey key, string? name, string reason, int reasonId)
    {
        if (!limiter.TryAcquire(new NoticeKey(key, name, NoticeKey.DeniedBase + reasonId), out long suppressed))
        {
            return false;
        }

        Span<byte> line = stackalloc byte[NoticeFormat.MaxLineLength];
        var builder = new NoticeLineWriter(line, NoticeVerbs.UdpDenied);
        builder.AddEndpoint(NoticeKeys.Destination, addressedAs);
        builder.Add(NoticeKeys.Reason, reason);
        AddSuppressed(ref builder, suppressed);
        return Send(builder, line, NoticeVerbs.UdpDenied);
    }

    /// <summary>
    /// <c>UDP-DENIED dst=… reason=source-mismatch from=SOURCE expected=PEER</c>: a datagram for this
    /// association came from another address than its control connection (README, "Several
    /// replicas"). Rate-limited by the caller, per association, whatever the destination.
    /// </summary>
    public bool SourceMismatch(in SocksAddress addressedAs, System.Net.IPAddress from, System.Net.IPAddress expected, long suppressed)
    {
        Span<byte> line = stackalloc byte[NoticeFormat.MaxLineLength];
        var builder = new NoticeLineWriter(line, NoticeVerbs.UdpDenied);
        builder.AddEndpoint(NoticeKeys.Destination, addressedAs);
        builder.Add(NoticeKeys.Reason, DeniedReasons.SourceMismatch);
        builder.AddAddress(NoticeKeys.From, from);
        builder.AddAddress(NoticeKeys.Expected, expected);
        AddSuppressed(ref builder, suppressed);
        return Send(builder, line, NoticeVerbs.UdpDenied);
    }

    /// <summary><c>UDP-UNRESOLVED</c> for a name; <paramref name="failureId"/> keeps each failure's rate separate.</summary>
    public bool Unresolved(string name, ushort port, string reason, int failureId)
    {
        if (!limiter.TryAcquire(new NoticeKey(default, name, NoticeKey.UnresolvedBase + failureId), out long suppressed))
        {
            return false;
        }

        Span<byte> nameBytes = stackalloc byte[SocksAddressCodec.MaxDomainNameLength];
        int nameLength = Encoding.Latin1.GetBytes(name, nameBytes);
        Span<byte> line = stackalloc byte[NoticeFormat.MaxLineLength];
        var builder = new NoticeLineWriter(line, NoticeVerbs.UdpUnresolved);
        builder.AddEndpoint(NoticeKeys.Destination, new SocksAddress(AddressType.DomainName, nameBytes[..nameLength], port));
        builder.Add(NoticeKeys.Reason, reason);
        AddSuppressed(ref builder, suppressed);
        return Send(builder, line, NoticeVerbs.UdpUnresolved);
    }

    private static void AddSuppressed(ref NoticeLineWriter builder, long suppressed)
    {
        if (suppressed > 0)
        {
            builder.Add(NoticeKeys.Suppressed, suppressed);
        }
    }

    private bool Send(NoticeLineWriter builder, Span<byte> line, string verb)
    {
        if (!builder.TryComplete(out int length) || !writer.TryEnqueue(line[..length]))
        {
            return false;
        }

        metrics.RecordNotice(verb);
        return true;
    }
}
