using System.Diagnostics.Metrics;

namespace Socks5UdpRelay.Server.WarmUp;

/// <summary>
/// Meters that belong to the warm-up alone: the server's exporter listens to its own meter
/// instance only, and these are disposed (unpublished) with the factory.
/// </summary>
internal sealed class PrivateMeterFactory : IMeterFactory
{
    private readonly List<Meter> _meters = [];

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(options.Name + ".WarmUp", options.Version);
        _meters.Add(meter);
        return meter;
    }

    public void Dispose() => _meters.ForEach(m => m.Dispose());
}
