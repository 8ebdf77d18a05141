using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using Socks5UdpRelay.Client;

namespace Socks5UdpRelay.Server.Tests.Hardening;

/// <summary>
/// Echo round trips through one association, one at a time, each checked by its sequence number
/// and its source, counted as they complete; whatever else arrives meanwhile (a stranger the
/// filtering let in, a late echo) is counted apart. Bounded to two minutes.
/// </summary>
internal sealed class EchoRoundTrips(Socks5UdpAssociation association, IPEndPoint echo)
{
    /// <summary>
    /// A round trip on loopback takes well under a millisecond; one this late is lost (as the load
    /// tool counts it), and the next goes out: a longer wait would stall a whole measured slice.
    /// </summary>
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromMilliseconds(200);

    private long _completed;
    private long _lost;
    private long _others;

    public long Completed => Interlocked.Read(ref _completed);

    public long Lost => Interlocked.Read(ref _lost);

    /// <summary>Datagrams that were not the awaited echo.</summary>
    public long Others => Interlocked.Read(ref _others);

    /// <summary>The source of the first datagram that was not from the echo target, if any came.</summary>
    public Socks5Endpoint? FirstStranger { get; private set; }

    public async Task RunAsync(CancellationToken stop)
    {
        byte[] send = new byte[64];
        byte[] receive = new byte[256];
        var clock = Stopwatch.StartNew();
        try
        {
            for (long sequence = 0; !stop.IsCancellationRequested && clock.Elapsed < TimeSpan.FromMinutes(2); sequence++)
            {
                BinaryPrimitives.WriteInt64LittleEndian(send, sequence);
                await association.SendAsync(echo, send, stop);
                await AwaitEchoAsync(sequence, receive, stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The test is over.
        }
    }

    private async Task AwaitEchoAsync(long sequence, byte[] receive, CancellationToken stop)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(ReplyTimeout);
        try
        {
            while (true)
            {
                var result = await association.ReceiveAsync(receive, timeout.Token);
                bool fromEcho = echo.Address.Equals(result.Source.Address) && result.Source.Port == echo.Port;
                if (fromEcho && result.Length == 64 && BinaryPrimitives.ReadInt64LittleEndian(receive) == sequence)
                {
                    Interlocked.Increment(ref _completed);
                    return;
                }

                FirstStranger ??= fromEcho ? null : result.Source;
                Interlocked.Increment(ref _others);
            }
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            Interlocked.Increment(ref _lost);
        }
    }
}
