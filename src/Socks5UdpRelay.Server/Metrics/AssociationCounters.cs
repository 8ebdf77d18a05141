namespace Socks5UdpRelay.Server.Metrics;

/// <summary>
/// What one association did, for its closing log line and the metrics. Written only by the
/// association's loop thread; read from anywhere (a 64-bit read is never torn).
/// </summary>
internal sealed class AssociationCounters
{
    private readonly long[] _dropped = new long[DropReasons.Count];

    public long DatagramsFromClient;
    public long BytesFromClient;
    public long DatagramsToClient;
    public long BytesToClient;
    public long DestinationsOpened;
    public long SendsRetried;
    public long Errors;
    public long StaleErrors;

    /// <summary>Unsolicited datagrams (from sources the client did not send to) admitted by the filtering and relayed.</summary>
    public long InboundRelayed;

    public void Drop(DropReason reason) => _dropped[(int)reason]++;

    public void Drop(DropReason reason, long count) => _dropped[(int)reason] += count;

    public long Dropped(DropReason reason) => Volatile.Read(ref _dropped[(int)reason]);

    public long TotalDropped
    {
        get
        {
            long total = 0;
            for (int i = 0; i < _dropped.Length; i++)
            {
                total += Volatile.Read(ref _dropped[i]);
            }

            return total;
        }
    }
}
