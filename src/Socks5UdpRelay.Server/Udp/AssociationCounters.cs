namespace Socks5UdpRelay.Server.Udp;

/// <summary>
/// What one association did, for its closing log line. The client loop is the only writer of the
/// from-client fields; replies come from many destination loops, so those use Interlocked.
/// </summary>
internal sealed class AssociationCounters
{
    public long DatagramsFromClient;
    public long BytesFromClient;
    public long DatagramsToClient;
    public long BytesToClient;
    public long DestinationsOpened;
    public long DroppedForeignSource;
    public long DroppedMalformed;
    public long DroppedFragmented;
    public long DroppedTooLarge;
    public long DroppedPolicy;
    public long DroppedRateLimit;
    public long DroppedUnresolved;
    public long DroppedSendFailed;
    public long DroppedReplyTooLarge;
    public long SendsRetried;
    public long Errors;
    public long StaleErrors;

    public long Dropped => DroppedForeignSource + DroppedMalformed + DroppedFragmented + DroppedTooLarge
        + DroppedPolicy + DroppedRateLimit + DroppedUnresolved + DroppedSendFailed + DroppedReplyTooLarge;
}
