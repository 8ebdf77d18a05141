namespace Socks5UdpRelay.Cli.Tun;

/// <summary>
/// One mapping at the proxy (the README, "Client commands"): its own outbound port, the external
/// port every destination of one program socket sees. Made with <c>MAP</c> on a shared
/// association, or, against a proxy without <c>MAP</c>, the first mapping of an association of
/// its own (<see cref="OwnsAssociation"/>).
/// </summary>
internal sealed class UplinkMapping(UplinkAssociation association, ushort number, ushort outboundPort, bool ownsAssociation)
{
    private UplinkFlow? _flow;
    private int _dead;

    public UplinkAssociation Association { get; } = association;

    /// <summary>The number datagrams carry in RSV (0 for an association's first mapping).</summary>
    public ushort Number { get; } = number;

    /// <summary>From <c>MAP-OK port=</c>; 0 when the proxy did not say (an association's first mapping).</summary>
    public ushort OutboundPort { get; } = outboundPort;

    /// <summary>True when releasing it means closing its association (a proxy without <c>MAP</c>).</summary>
    public bool OwnsAssociation { get; } = ownsAssociation;

    /// <summary>The flow using it; null while it waits in the pool, and once released.</summary>
    public UplinkFlow? Flow
    {
        get => Volatile.Read(ref _flow);
        set => Volatile.Write(ref _flow, value);
    }

    /// <summary>True once the proxy closed it (<c>MAP-CLOSED</c>, the association ended) or it was released.</summary>
    public bool IsDead => Volatile.Read(ref _dead) != 0;

    /// <summary>Marks it dead; true for the first caller only.</summary>
    public bool MarkDead() => Interlocked.Exchange(ref _dead, 1) == 0;

    public override string ToString() => OwnsAssociation
        ? $"association {Association.Id}"
        : $"association {Association.Id} map {Number}";
}
