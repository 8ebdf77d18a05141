using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Notices;
using Socks5UdpRelay.Server.Policy;
using Socks5UdpRelay.Server.Relay;
using Socks5UdpRelay.Server.Resolution;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Server.Tests.Fakes;

/// <summary>
/// One association over the fake engine, a manual clock and a recording notice sink: no server,
/// no socket, no thread. The test plays the client, the destinations and the loop.
/// </summary>
internal sealed class AssociationHarness : IAsyncDisposable
{
    public static readonly IPEndPoint Peer = new(IPAddress.Parse("192.0.2.10"), 40000);
    public static readonly IPEndPoint ClientUdp = new(Peer.Address, 40001);
    private int _nextPort = 50000;
    private Task? _run;

    public AssociationHarness(
        AssociationSettings? settings = null, ushort fixedPort = 0, DestinationPolicy? policy = null, int notices = 5, int maxConcurrentLookups = 64, long serverNameBytes = 1 << 20)
    {
        NameBytes = new ByteBudget(serverNameBytes);
        Client = new FakeClientSocket(Loop, new IPEndPoint(IPAddress.Parse("192.0.2.1"), 1080));
        Ports = new OutboundPortRegistry(Time, () => _nextPort++);
        var metrics = new RelayMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        var resolver = new CachingResolver(Resolver, new ResolverSettings(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(5), false, maxConcurrentLookups), Time);
        var factory = new AssociationFactory(
            settings ?? Settings(),
            policy ?? new DestinationPolicy(allowLoopback: true, allowLinkLocal: false),
            Ports,
            resolver,
            NameBytes,
            HostAddresses,
            new NoticeService(new NoticeSettings(true, 64, notices, notices), metrics, Time, NullLoggerFactory.Instance),
            metrics,
            Time,
            NullLoggerFactory.Instance);
        Association = factory.Create(Client, Peer, fixedPort, Notices);
    }

    public FakeLoop Loop { get; } = new();

    public FakeClientSocket Client { get; }

    public RecordingNoticeSink Notices { get; } = new();

    public ManualTimeProvider Time { get; } = new();

    public FakeResolver Resolver { get; } = new();

    public OutboundPortRegistry Ports { get; }

    public ByteBudget NameBytes { get; }

    /// <summary>The relay host's own addresses as the association sees them: 203.0.113.1 (hairpinning goes there).</summary>
    public LocalAddresses HostAddresses { get; } = new(() => [(IPAddress.Parse("203.0.113.1"), IPAddress.Parse("255.255.255.0"))]);

    public UdpAssociation Association { get; }

    public AssociationCounters Counters => Association.Counters;

    public static AssociationSettings Settings(
        int maxDatagramSize = 65_000, TimeSpan? destinationIdle = null, TimeSpan? associationIdle = null, int maxDestinations = 256, int rate = 0, int burst = 0,
        int lookups = 8, long nameBytes = 256 * 1024, FilteringMode filtering = FilteringMode.AddressDependent, int inboundRate = 0, int inboundBurst = 1000)
        => new(maxDatagramSize, destinationIdle ?? TimeSpan.FromMinutes(2), associationIdle ?? TimeSpan.FromMinutes(10), maxDestinations,
            TimeSpan.FromSeconds(60), rate, burst, new NameLimits(lookups, nameBytes), new InboundSettings(filtering, inboundRate, inboundBurst, MaxAddresses: 4096));

    /// <summary>Starts the association as its control session does.</summary>
    public void Start() => _run = Association.RunAsync();

    /// <summary>A datagram from the client to <paramref name="destination"/>, with the SOCKS UDP header in front.</summary>
    public static byte[] Datagram(IPEndPoint destination, ReadOnlySpan<byte> payload)
    {
        Span<byte> header = stackalloc byte[UdpRequestHeader.MaxLength];
        int length = UdpRequestHeader.Write(header, destination.Address, (ushort)destination.Port);
        return [.. header[..length], .. payload];
    }

    public static byte[] Datagram(string name, int port, ReadOnlySpan<byte> payload)
    {
        Span<byte> header = stackalloc byte[UdpRequestHeader.MaxLength];
        int length = UdpRequestHeader.Write(header, new SocksAddress(AddressType.DomainName, System.Text.Encoding.ASCII.GetBytes(name), (ushort)port));
        return [.. header[..length], .. payload];
    }

    /// <summary>Ends the association and lets it close on the loop; the task RunAsync returned.</summary>
    public async Task EndAsync(AssociationEnd reason)
    {
        Association.End(reason);
        var run = _run ?? throw new InvalidOperationException("not started");
        using var timeout = new CancellationTokenSource(TestTimeout.Default);
        while (!run.IsCompleted)
        {
            // RunAsync goes on on the pool and posts its close to the loop, which the test plays.
            await Task.WhenAny(run, Loop.WaitForPostAsync(timeout.Token));
            timeout.Token.ThrowIfCancellationRequested();
            Loop.RunPending();
        }

        await run;
    }

    public async ValueTask DisposeAsync()
    {
        if (_run is not null && !_run.IsCompleted)
        {
            await EndAsync(AssociationEnd.ClientClosed);
        }

        Loop.Batch.Dispose();
    }
}
