using System.Net;
using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Gateway.Notices;
using Socks5UdpRelay.Gateway.Packets;
using Socks5UdpRelay.Gateway.Tun;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Gateway.Plane;

/// <summary>
/// The gateway's packet path, independent of the device and of SOCKS: reads packets, sorts them
/// (counted drops for everything but UDP to a routed prefix), keeps the flow table and the last
/// datagram per (flow, destination), hands datagrams to the uplink, and writes replies and ICMP
/// errors back. Nothing on the datagram path allocates: one read buffer, headers built on the
/// stack, payloads written where they lie (writev).
/// </summary>
internal sealed class PacketPlane
{
    /// <summary>A TUN device delivers at most one IP packet of 64 KiB per read.</summary>
    public const int ReadBufferSize = 65536;

    /// <summary>How often the reader expires idle flows and refreshes the local addresses when idle or busy.</summary>
    private static readonly TimeSpan s_housekeeping = TimeSpan.FromSeconds(1);

    private readonly IPacketDevice _device;
    private readonly TunGatewayOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RoutePrefixes _routes;
    private readonly FlowTable _flows;
    private readonly LastDatagramStore _lastDatagrams;
    private readonly LocalAddresses _localAddresses = new();
    private readonly Func<IPAddress, bool> _isLocalAddress;
    private readonly Lock _gate = new();
    private readonly long _idleTicks;
    private int _identification;

    public PacketPlane(IPacketDevice device, TunGatewayOptions options, TimeProvider time, ILogger logger, Func<IPAddress, bool>? isLocalAddress = null)
    {
        _device = device;
        _options = options;
        _time = time;
        _logger = logger;
        _routes = new RoutePrefixes(options.Routes);
        _flows = new FlowTable(options.MaxFlows);
        _lastDatagrams = new LastDatagramStore(options.LastDatagrams);
        _isLocalAddress = isLocalAddress ?? _localAddresses.Contains;
        _idleTicks = (long)(options.FlowIdleTimeout.TotalSeconds * time.TimestampFrequency);
    }

    public GatewayCounters Counters { get; } = new();

    public int FlowCount
    {
        get
        {
            lock (_gate)
            {
                return _flows.Count;
            }
        }
    }

    /// <summary>Reads and dispatches packets until the device is stopped. Runs on the gateway's reader thread.</summary>
    public void Run(IUplink uplink)
    {
        var buffer = GC.AllocateUninitializedArray<byte>(ReadBufferSize, pinned: true);
        _localAddresses.Refresh();
        long housekeepingTicks = (long)(s_housekeeping.TotalSeconds * _time.TimestampFrequency);
        long nextHousekeeping = _time.GetTimestamp() + housekeepingTicks;
        int timeout = (int)s_housekeeping.TotalMilliseconds;
        while (true)
        {
            int n = _device.Read(buffer, timeout);
            if (n < 0)
            {
                return;
            }

            if (n > 0)
            {
                Handle(buffer.AsSpan(0, n), uplink);
            }

            long now = _time.GetTimestamp();
            if (now >= nextHousekeeping)
            {
                ExpireIdle(uplink);
                _localAddresses.Refresh();
                nextHousekeeping = now + housekeepingTicks;
            }
        }
    }

    /// <summary>One packet from the device.</summary>
    public void Handle(ReadOnlySpan<byte> packet, IUplink uplink)
    {
        Counters.PacketRead();
        switch (IpPacketParser.Parse(packet, out var udp))
        {
            case PacketParseResult.Malformed:
                Counters.MalformedPacket();
                return;
            case PacketParseResult.NotUdp:
                Counters.NotUdpPacket();
                return;
            case PacketParseResult.Fragment:
                Counters.Fragment();
                return;
        }

        if (!_routes.Contains(udp.DestinationAddress))
        {
            Counters.UnroutedDatagram();
            return;
        }

        var key = FlowKey.From(udp.SourceAddress, udp.SourcePort);
        FlowId flow;
        bool added;
        FlowId evicted;
        lock (_gate)
        {
            flow = _flows.GetOrAdd(key, _time.GetTimestamp(), out added, out evicted);
            _lastDatagrams.Store(flow, udp);
        }

        if (evicted != default)
        {
            Close(evicted, "replaced: flow table full", uplink);
        }

        if (added)
        {
            Counters.FlowOpened();
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                GatewayLog.FlowOpened(_logger, flow, udp.GetSource().ToString());
            }
        }

        Counters.Datagram();
        uplink.Send(flow, udp);
    }

    /// <summary>Closes every flow idle for longer than the options allow.</summary>
    public void ExpireIdle(IUplink uplink)
    {
        long activeSince = _time.GetTimestamp() - _idleTicks;
        while (true)
        {
            FlowId expired;
            lock (_gate)
            {
                if (!_flows.TryExpireOldest(activeSince, out expired))
                {
                    return;
                }
            }

            Close(expired, "idle", uplink);
        }
    }

    /// <summary>Writes a reply from <paramref name="sourceAddress"/>:<paramref name="sourcePort"/> to the flow's program socket.</summary>
    public bool WriteUdpReply(FlowId flow, ReadOnlySpan<byte> sourceAddress, ushort sourcePort, ReadOnlySpan<byte> payload)
    {
        FlowKey program;
        lock (_gate)
        {
            if (!_flows.TryGet(flow, out program))
            {
                Counters.ReplyDropped();
                return false;
            }

            _flows.Touch(flow, _time.GetTimestamp());
        }

        bool v6 = program.IsIPv6;
        if (sourceAddress.Length != (v6 ? 16 : 4) || payload.Length > (v6 ? UdpPacketWriter.MaxIPv6Payload : UdpPacketWriter.MaxIPv4Payload))
        {
            Counters.ReplyDropped();
            return false;
        }

        Span<byte> address = stackalloc byte[16];
        int length = program.WriteAddress(address);
        Span<byte> headers = stackalloc byte[UdpPacketWriter.MaxHeaderLength];
        int headerLength = v6
            ? UdpPacketWriter.WriteIPv6(headers, sourceAddress, sourcePort, address[..length], program.Port, payload, _options.ReplyTtl)
            : UdpPacketWriter.WriteIPv4(headers, sourceAddress, sourcePort, address[..length], program.Port, payload, _options.ReplyTtl, NextIdentification());
        if (!_device.Write(headers[..headerLength], payload))
        {
            Counters.WriteFailure();
            return false;
        }

        Counters.ReplyWritten();
        return true;
    }

    /// <summary>Writes the ICMP error a notice about the flow's datagrams to its <c>dst</c> stands for.</summary>
    public NoticeMappingResult WriteNotice(FlowId flow, Notice notice)
    {
        var result = TryWriteNotice(flow, notice);
        if (result != NoticeMappingResult.Injected)
        {
            if (result != NoticeMappingResult.NotAnError)
            {
                Counters.NoticeNotInjected();
            }

            GatewayLog.NoticeNotInjected(_logger, flow, result, notice.Line);
        }

        return result;
    }

    /// <summary>Writes an ICMP error about the flow's last datagram to <paramref name="destination"/>.</summary>
    public NoticeMappingResult WriteIcmpError(FlowId flow, IPEndPoint destination, in IcmpErrorSpec error)
    {
        Span<byte> quoted = stackalloc byte[LastDatagramStore.SlotSize];
        int length = CopyLastDatagram(flow, destination, quoted);
        if (length == 0)
        {
            return NoticeMappingResult.NoDatagram;
        }

        return WriteIcmpError(quoted[..length], error);
    }

    private NoticeMappingResult TryWriteNotice(FlowId flow, Notice notice)
    {
        if (notice.Verb is not (NoticeVerbs.UdpError or NoticeVerbs.UdpDenied or NoticeVerbs.UdpUnresolved))
        {
            return NoticeMappingResult.NotAnError;
        }

        var endpoint = notice[NoticeKeys.Address] ?? notice.Destination;
        if (endpoint is null || !NoticeFormat.TryParseEndpoint(endpoint, out _, out var address, out ushort port) || address is null)
        {
            return NoticeMappingResult.NoDestination;
        }

        var destination = new IPEndPoint(address, port);
        Span<byte> quoted = stackalloc byte[LastDatagramStore.SlotSize];
        int length = CopyLastDatagram(flow, destination, quoted);
        if (length == 0)
        {
            return NoticeMappingResult.NoDatagram;
        }

        bool v6 = (quoted[0] >> 4) == 6;
        if (!NoticeIcmpMapping.TryMap(notice, v6, address, _isLocalAddress, out var spec, out var result))
        {
            return result;
        }

        return WriteIcmpError(quoted[..length], spec);
    }

    private int CopyLastDatagram(FlowId flow, IPEndPoint destination, Span<byte> buffer)
    {
        var address = destination.Address.IsIPv4MappedToIPv6 ? destination.Address.MapToIPv4() : destination.Address;
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int length);
        var key = FlowKey.From(bytes[..length], (ushort)destination.Port);
        lock (_gate)
        {
            // A closed flow's datagrams may linger in the store until replaced; like its replies, its errors are dropped.
            return _flows.TryGet(flow, out _) ? _lastDatagrams.CopyTo(flow, key, buffer) : 0;
        }
    }

    private NoticeMappingResult WriteIcmpError(ReadOnlySpan<byte> quoted, in IcmpErrorSpec error)
    {
        bool v6 = (quoted[0] >> 4) == 6;
        Span<byte> reporter = stackalloc byte[16];
        if (!error.Reporter.TryWriteBytes(reporter, out int reporterLength) || reporterLength != (v6 ? 16 : 4))
        {
            return NoticeMappingResult.NoIcmpEquivalent;
        }

        Span<byte> packet = stackalloc byte[IcmpErrorWriter.MaxIPv6Length];
        int length = v6
            ? IcmpErrorWriter.WriteIPv6(packet, error.Type, error.Code, error.Info, reporter[..16], quoted, error.Ttl)
            : IcmpErrorWriter.WriteIPv4(packet, error.Type, error.Code, error.Info, reporter[..4], quoted, error.Ttl, NextIdentification());
        if (!_device.Write(packet[..length], default))
        {
            Counters.WriteFailure();
            return NoticeMappingResult.WriteFailed;
        }

        Counters.IcmpErrorWritten();
        return NoticeMappingResult.Injected;
    }

    private ushort NextIdentification() => (ushort)Interlocked.Increment(ref _identification);

    private void Close(FlowId flow, string reason, IUplink uplink)
    {
        Counters.FlowClosed();
        GatewayLog.FlowClosed(_logger, flow, reason);
        uplink.FlowClosed(flow);
    }
}
