using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Socks5UdpRelay.Gateway.Notices;
using Socks5UdpRelay.Gateway.Plane;
using Socks5UdpRelay.Gateway.Routing;
using Socks5UdpRelay.Gateway.Tun;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Gateway;

/// <summary>
/// A transparent UDP gateway's packet plane (Linux, CAP_NET_ADMIN): a TUN device that local
/// programs' UDP to the routed prefixes enters, the routing that sends it there, and the packet
/// path that hands each program socket's datagrams to an <see cref="IUplink"/> and writes replies
/// and ICMP errors back. Everything is set up in the network namespace of the thread calling
/// <see cref="Start"/>, and removed by <see cref="Dispose"/> (call it from the same namespace).
/// The gateway's own sockets towards the proxy must carry <see cref="SocketMark"/> (<see cref="MarkSocket(Socket)"/>),
/// or their datagrams to a routed prefix would enter the device.
/// </summary>
public sealed class TunGateway : IDownlink, IDisposable
{
    private readonly TunDevice _device;
    private readonly GatewayRouting _routing;
    private readonly PacketPlane _plane;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Thread? _reader;
    private int _disposed;

    private TunGateway(TunGatewayOptions options, TunDevice device, GatewayRouting routing, PacketPlane plane, ILogger logger, byte defaultTtl, byte defaultHopLimit)
    {
        Options = options;
        _device = device;
        _routing = routing;
        _plane = plane;
        _logger = logger;
        DefaultTtlV4 = defaultTtl;
        DefaultHopLimitV6 = defaultHopLimit;
    }

    /// <summary>The options it was started with.</summary>
    public TunGatewayOptions Options { get; }

    /// <summary>The device's name.</summary>
    public string DeviceName => _device.Name;

    /// <summary>The mark the gateway's own sockets must carry (SO_MARK).</summary>
    public uint SocketMark => Options.SocketMark;

    /// <summary>The host's default IPv4 TTL (<c>net.ipv4.ip_default_ttl</c>) when the gateway started.</summary>
    public byte DefaultTtlV4 { get; }

    /// <summary>The host's default IPv6 hop limit (<c>net.ipv6.conf.default.hop_limit</c>) when the gateway started.</summary>
    public byte DefaultHopLimitV6 { get; }

    /// <summary>What the packet plane did so far.</summary>
    public GatewayCounters Counters => _plane.Counters;

    /// <summary>Program sockets tracked now.</summary>
    public int FlowCount => _plane.FlowCount;

    /// <summary>Completes when the reader stops (after <see cref="Dispose"/>), faulted if it failed.</summary>
    public Task Completion => _completion.Task;

    /// <summary>
    /// Creates the device and the routing. A start that finds a killed earlier instance's rules,
    /// table routes or nftables table (same priorities, table, table name) removes them first.
    /// Throws <see cref="GatewayException"/> with a one-line reason when it cannot; then nothing is
    /// left behind.
    /// </summary>
    public static TunGateway Start(TunGatewayOptions options, ILogger? logger = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        logger ??= NullLogger.Instance;
        if (RoutingPlan.Validate(options) is { } problems)
        {
            throw new GatewayException($"invalid gateway options: {problems}");
        }

        var plan = new RoutingPlan(options);
        var device = TunDevice.Create(options.DeviceName);
        try
        {
            var routing = new GatewayRouting(plan, logger);
            routing.RemoveLeftovers();
            routing.Apply();
            var plane = new PacketPlane(device, options, time ?? TimeProvider.System, logger);
            var gateway = new TunGateway(options, device, routing, plane, logger,
                ReadDefault("/proc/sys/net/ipv4/ip_default_ttl"), ReadDefault("/proc/sys/net/ipv6/conf/default/hop_limit"));
            GatewayLog.Started(logger, device.Name, string.Join(", ", options.Routes));
            return gateway;
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }

    /// <summary>Sets SO_MARK on one of the gateway's own sockets, so that its datagrams never enter the device.</summary>
    public static void MarkSocket(Socket socket, uint mark)
    {
        ArgumentNullException.ThrowIfNull(socket);
        const int SolSocket = 1;
        const int SoMark = 36;
        socket.SetRawSocketOption(SolSocket, SoMark, BitConverter.GetBytes(mark));
    }

    /// <summary>Sets this gateway's <see cref="SocketMark"/> on <paramref name="socket"/>.</summary>
    public void MarkSocket(Socket socket) => MarkSocket(socket, SocketMark);

    /// <summary>The default TTL / hop limit of the family: a datagram below it carries a TTL its program chose.</summary>
    public byte DefaultTtl(bool ipv6) => ipv6 ? DefaultHopLimitV6 : DefaultTtlV4;

    /// <summary>
    /// Starts the reader: a dedicated thread (in the calling thread's network namespace) that hands
    /// every datagram to <paramref name="uplink"/> until <see cref="Dispose"/>. Call once.
    /// </summary>
    public void Run(IUplink uplink)
    {
        ArgumentNullException.ThrowIfNull(uplink);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (Interlocked.CompareExchange(ref _reader, new Thread(() => ReadLoop(uplink)) { IsBackground = true, Name = $"{DeviceName} reader" }, null) is not null)
        {
            throw new InvalidOperationException("The gateway is already running.");
        }

        _reader.Start();
    }

    /// <summary>Writes a reply from <paramref name="source"/> to the flow's program socket; false when the flow is closed or the reply cannot be written.</summary>
    public bool WriteUdpReply(FlowId flow, IPEndPoint source, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(source);
        var address = source.Address.IsIPv4MappedToIPv6 ? source.Address.MapToIPv4() : source.Address;
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int length);
        return _plane.WriteUdpReply(flow, bytes[..length], (ushort)source.Port, payload);
    }

    /// <summary>Writes a reply from the given raw source address (4 or 16 bytes) and port to the flow's program socket.</summary>
    public bool WriteUdpReply(FlowId flow, ReadOnlySpan<byte> sourceAddress, ushort sourcePort, ReadOnlySpan<byte> payload) =>
        _plane.WriteUdpReply(flow, sourceAddress, sourcePort, payload);

    /// <summary>
    /// Writes the ICMP or ICMPv6 error that a notice about the flow's datagrams stands for (the
    /// gateway's README, "Notices as ICMP errors"), quoting the flow's last datagram to the notice's
    /// destination.
    /// </summary>
    public NoticeMappingResult WriteNotice(FlowId flow, Notice notice)
    {
        ArgumentNullException.ThrowIfNull(notice);
        return _plane.WriteNotice(flow, notice);
    }

    /// <summary>Writes an ICMP or ICMPv6 error about the flow's last datagram to <paramref name="destination"/>.</summary>
    public NoticeMappingResult WriteIcmpError(FlowId flow, IPEndPoint destination, IcmpErrorSpec error)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return _plane.WriteIcmpError(flow, destination, error);
    }

    /// <summary>Stops the reader, removes the rules, routes and nftables table, and closes the device (which the kernel then deletes).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _device.Stop();
        var reader = Volatile.Read(ref _reader);
        if (reader is not null && reader != Thread.CurrentThread)
        {
            reader.Join();
        }
        else if (reader is null)
        {
            _completion.TrySetResult();
        }

        _routing.RemoveAll();
        _device.Dispose();
        GatewayLog.Stopped(_logger, DeviceName, Counters.ToString());
    }

    private static byte ReadDefault(string path)
    {
        try
        {
            return byte.TryParse(File.ReadAllText(path).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out byte value) ? value : NoticeIcmpMapping.DefaultTtl;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return NoticeIcmpMapping.DefaultTtl;
        }
    }

    private void ReadLoop(IUplink uplink)
    {
        try
        {
            _plane.Run(uplink);
            _completion.TrySetResult();
        }
        catch (Exception exception)
        {
            GatewayLog.ReaderFailed(_logger, exception);
            _completion.TrySetException(exception);
        }
    }
}
