using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Addressing;
using Socks5UdpRelay.Server.Icmp;
using Socks5UdpRelay.Server.Logging;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Resolution;

namespace Socks5UdpRelay.Server.Notices;

/// <summary>
/// Where an association's errors and refusals go (README, "Notices"): each one counted in the
/// metrics, rate-limited per destination and kind (the rest reported later as
/// <c>suppressed=</c>), written as one line built in a stack buffer, and logged at Debug when
/// the client was told. One per association; called on its loop thread.
/// </summary>
internal sealed class NoticeRouter(
    INoticeSink writer, NoticeRateLimiter<NoticeKey> limiter, AssociationCounters counters, RelayMetrics metrics, ILogger logger, IPEndPoint peer)
{
    public long Sent => writer.Sent;

    public long Dropped => writer.Dropped;

    /// <summary>The first line, <c>NOTICES version=1</c>, with <c>commands=set,map</c> when the client may send commands.</summary>
    public void Announce(OfferedCommands commands)
    {
        Span<byte> line = stackalloc byte[64];
        var builder = new NoticeLineWriter(line, NoticeVerbs.Notices);
        builder.Add(NoticeKeys.Version, 1);
        if (commands != OfferedCommands.None)
        {
            builder.Add(NoticeKeys.Commands, OfferedCommandsFormat.ToWireValue(commands));
        }

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

    /// <summary>An error the kernel reported for <paramref name="key"/> (as the client addressed it: <paramref name="name"/> when it used one) becomes a rate-limited <c>UDP-ERROR</c>.</summary>
    public void Error(DestinationKey key, string? name, ushort mapping, in ErrorReport report)
    {
        counters.Errors++;
        metrics.RecordError(report.Kind);
        var reporter = report.Kind == UdpErrorKind.TtlExceeded && report.Offender is not null ? DestinationKey.From(report.Offender, 0).Address : default;
        if (!limiter.TryAcquire(new NoticeKey(key, name, NoticeTopic.Error, (int)report.Kind, mapping, reporter), out long suppressed))
        {
            return;
        }

        Span<byte> line = stackalloc byte[NoticeFormat.MaxLineLength];
        var builder = new NoticeLineWriter(line, NoticeVerbs.UdpError);
        AddDestination(ref builder, key, name, withAddress: true, stackalloc byte[SocksAddressCodec.MaxDomainNameLength]);

        builder.Add(NoticeKeys.Error, report.Kind.ToWireName());
        builder.Add(NoticeKeys.Errno, report.ErrnoName);
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

        if (report.ReceivedTtl > 0)
        {
            builder.Add(NoticeKeys.ReceivedTtl, report.ReceivedTtl);
        }

        AddMapping(ref builder, mapping);
        AddSuppressed(ref builder, suppressed);
        if (Send(builder, line, NoticeVerbs.UdpError) && logger.IsEnabled(LogLevel.Debug))
        {
            Log.DestinationError(logger, peer, name is null ? key.ToString() : $"{name}:{key.Port}", report.Kind.ToWireName(), report.ErrnoName,
                report.Offender?.ToString() ?? "-");
        }
    }

    /// <summary>A refused datagram becomes a rate-limited <c>UDP-DENIED</c> (the caller counts the drop).</summary>
    public void Denied(in SocksAddress addressedAs, DestinationKey key, string? name, DenyReason reason, ushort mapping = 0)
    {
        if (!limiter.TryAcquire(new NoticeKey(key, name, NoticeTopic.Denied, (int)reason, mapping), out long suppressed))
        {
            return;
        }

        Span<byte> line = stackalloc byte[NoticeFormat.MaxLineLength];
        var builder = new NoticeLineWriter(line, NoticeVerbs.UdpDenied);
        builder.AddEndpoint(NoticeKeys.Destination, addressedAs);
        builder.Add(NoticeKeys.Reason, reason.WireName());
        AddMapping(ref builder, mapping);
        AddSuppressed(ref builder, suppressed);
        if (Send(builder, line, NoticeVerbs.UdpDenied) && logger.IsEnabled(LogLevel.Debug))
        {
            Log.DatagramDenied(logger, peer, addressedAs.ToString(), reason.WireName());
        }
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

    /// <summary>A name that gave no address becomes a rate-limited <c>UDP-UNRESOLVED</c>.</summary>
    public void Unresolved(string name, ushort port, ResolveFailure failure, ushort mapping = 0)
    {
        if (!limiter.TryAcquire(new NoticeKey(default, name, NoticeTopic.Unresolved, (int)failure, mapping), out long suppressed))
        {
            return;
        }

        string reason = failure.WireName();
        Span<byte> nameBytes = stackalloc byte[SocksAddressCodec.MaxDomainNameLength];
        int nameLength = Encoding.Latin1.GetBytes(name, nameBytes);
        Span<byte> line = stackalloc byte[NoticeFormat.MaxLineLength];
        var builder = new NoticeLineWriter(line, NoticeVerbs.UdpUnresolved);
        builder.AddEndpoint(NoticeKeys.Destination, new SocksAddress(AddressType.DomainName, nameBytes[..nameLength], port));
        builder.Add(NoticeKeys.Reason, reason);
        AddMapping(ref builder, mapping);
        AddSuppressed(ref builder, suppressed);
        if (Send(builder, line, NoticeVerbs.UdpUnresolved))
        {
            Log.Unresolved(logger, peer, name, reason);
        }
    }

    /// <summary><c>DST-CLOSED dst=… [map=M] reason=idle|evicted</c>: a destination the client held a setting on is gone, and its settings with it.</summary>
    public void DestinationClosed(DestinationKey key, string? name, ushort mapping, string reason)
    {
        Span<byte> line = stackalloc byte[NoticeFormat.MaxLineLength];
        var builder = new NoticeLineWriter(line, NoticeVerbs.DestinationClosed);
        AddDestination(ref builder, key, name, withAddress: true, stackalloc byte[SocksAddressCodec.MaxDomainNameLength]);
        AddMapping(ref builder, mapping);
        builder.Add(NoticeKeys.Reason, reason);
        Send(builder, line, NoticeVerbs.DestinationClosed);
    }

    /// <summary><c>MAP-CLOSED map=M reason=idle</c>: a mapping the client made is gone, with its outbound port.</summary>
    public void MappingClosed(ushort mapping, string reason)
    {
        Span<byte> line = stackalloc byte[64];
        var builder = new NoticeLineWriter(line, NoticeVerbs.MapClosed);
        builder.Add(NoticeKeys.Mapping, mapping);
        builder.Add(NoticeKeys.Reason, reason);
        Send(builder, line, NoticeVerbs.MapClosed);
    }

    /// <summary><c>dst=</c> as the client addressed it (and <c>addr=</c> for a name); <paramref name="nameBytes"/> is scratch for the name.</summary>
    private static void AddDestination(ref NoticeLineWriter builder, DestinationKey key, string? name, bool withAddress, Span<byte> nameBytes)
    {
        if (name is not null)
        {
            int n = Encoding.Latin1.GetBytes(name, nameBytes);
            builder.AddEndpoint(NoticeKeys.Destination, new SocksAddress(AddressType.DomainName, nameBytes[..n], key.Port));
            if (withAddress)
            {
                builder.AddEndpoint(NoticeKeys.Address, key.ToIPAddress(), key.Port);
            }
        }
        else
        {
            builder.AddEndpoint(NoticeKeys.Destination, key.ToIPAddress(), key.Port);
        }
    }

    private static void AddMapping(ref NoticeLineWriter builder, ushort mapping)
    {
        if (mapping != 0)
        {
            builder.Add(NoticeKeys.Mapping, mapping);
        }
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
