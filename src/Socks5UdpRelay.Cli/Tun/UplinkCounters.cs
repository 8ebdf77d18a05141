namespace Socks5UdpRelay.Cli.Tun;

/// <summary>What the SOCKS side of <c>s5nc tun</c> did, counted since start; every drop has its counter.</summary>
internal sealed class UplinkCounters
{
    private long _flowsOpened;
    private long _flowsClosed;
    private long _flowsRefused;
    private long _sent;
    private long _sendFailed;
    private long _queueFull;
    private long _noMapping;
    private long _replies;
    private long _repliesDropped;
    private long _errors;
    private long _sets;
    private long _setFailures;
    private long _mappingsMade;
    private long _mappingsReleased;
    private long _mappingsLost;
    private long _associationsOpened;

    /// <summary>Program sockets that got a flow here.</summary>
    public long FlowsOpened => Interlocked.Read(ref _flowsOpened);

    public long FlowsClosed => Interlocked.Read(ref _flowsClosed);

    /// <summary>Datagrams from new program sockets dropped at --max-flows.</summary>
    public long FlowsRefused => Interlocked.Read(ref _flowsRefused);

    /// <summary>Datagrams sent to the relay.</summary>
    public long Sent => Interlocked.Read(ref _sent);

    public long SendFailed => Interlocked.Read(ref _sendFailed);

    /// <summary>Datagrams dropped because 64 already waited for their flow's mapping or SET.</summary>
    public long QueueFull => Interlocked.Read(ref _queueFull);

    /// <summary>Datagrams dropped because no mapping could be had (the proxy unreachable, or refusing).</summary>
    public long NoMapping => Interlocked.Read(ref _noMapping);

    /// <summary>Replies written into the device.</summary>
    public long Replies => Interlocked.Read(ref _replies);

    /// <summary>Replies for a mapping no flow holds any more, or that the device refused.</summary>
    public long RepliesDropped => Interlocked.Read(ref _repliesDropped);

    /// <summary>Error notices written back as ICMP errors.</summary>
    public long Errors => Interlocked.Read(ref _errors);

    /// <summary>SET commands answered SET-OK.</summary>
    public long Sets => Interlocked.Read(ref _sets);

    public long SetFailures => Interlocked.Read(ref _setFailures);

    /// <summary>Mappings made: MAP-OK, or an association of its own against a proxy without MAP.</summary>
    public long MappingsMade => Interlocked.Read(ref _mappingsMade);

    public long MappingsReleased => Interlocked.Read(ref _mappingsReleased);

    /// <summary>Mappings the proxy closed by itself (MAP-CLOSED, or their association ended).</summary>
    public long MappingsLost => Interlocked.Read(ref _mappingsLost);

    /// <summary>TCP control connections opened to the proxy.</summary>
    public long AssociationsOpened => Interlocked.Read(ref _associationsOpened);

    public void FlowOpened() => Interlocked.Increment(ref _flowsOpened);

    public void FlowClosed() => Interlocked.Increment(ref _flowsClosed);

    public void FlowRefused() => Interlocked.Increment(ref _flowsRefused);

    public void Datagram(bool sent) => Interlocked.Increment(ref sent ? ref _sent : ref _sendFailed);

    public void QueueOverflow() => Interlocked.Increment(ref _queueFull);

    public void MappingMissing(int count) => Interlocked.Add(ref _noMapping, count);

    public void Reply(bool written) => Interlocked.Increment(ref written ? ref _replies : ref _repliesDropped);

    public void ErrorInjected() => Interlocked.Increment(ref _errors);

    public void Set(bool succeeded) => Interlocked.Increment(ref succeeded ? ref _sets : ref _setFailures);

    public void MappingMade() => Interlocked.Increment(ref _mappingsMade);

    public void MappingReleased() => Interlocked.Increment(ref _mappingsReleased);

    public void MappingLost() => Interlocked.Increment(ref _mappingsLost);

    public void AssociationOpened() => Interlocked.Increment(ref _associationsOpened);

    public override string ToString() =>
        $"flows-opened={FlowsOpened} flows-closed={FlowsClosed} flows-refused={FlowsRefused} sent={Sent} send-failed={SendFailed} " +
        $"queue-full={QueueFull} no-mapping={NoMapping} replies={Replies} replies-dropped={RepliesDropped} errors={Errors} " +
        $"sets={Sets} set-failures={SetFailures} mappings-made={MappingsMade} mappings-released={MappingsReleased} " +
        $"mappings-lost={MappingsLost} associations={AssociationsOpened}";
}
