using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Socks5UdpRelay.Client;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Server.Tests.Topology;

/// <summary>
/// One client of <see cref="ScaleOutTopology"/>: an association opened through the virtual
/// address from the client namespace, its notices collected as they arrive, and echo round trips
/// whose payload (client id, sequence number) is checked on the way back.
/// </summary>
internal sealed class ScaleOutClient : IAsyncDisposable
{
    /// <summary>A round trip on veth links takes well under a millisecond; a reply this late is lost.</summary>
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(2);

    private readonly Channel<Notice> _notices = Channel.CreateUnbounded<Notice>();
    private readonly Task _noticeReader;
    private readonly byte[] _receive = new byte[64];
    private int _sequence;
    private int _disposed;

    private ScaleOutClient(int id, Socks5UdpAssociation association)
    {
        Id = id;
        Association = association;
        Replica = Enumerable.Range(0, ScaleOutTopology.ReplicaCount).Single(i => ScaleOutTopology.Replica(i).Equals(association.RelayEndPoint.Address));
        _noticeReader = Task.Run(ReadNoticesAsync);
    }

    public int Id { get; }

    public Socks5UdpAssociation Association { get; }

    /// <summary>Which replica holds the association: the one whose address the reply advertised.</summary>
    public int Replica { get; }

    /// <summary>Every notice so far (the reader moves them here as they come).</summary>
    public List<Notice> Seen { get; } = [];

    /// <summary>Opens an association through the virtual address and reads its first line, <c>NOTICES version=1</c>.</summary>
    public static async Task<ScaleOutClient> OpenAsync(ScaleOutTopology topology, int id)
    {
        var association = await Socks5UdpAssociation.OpenAsync(new Socks5ProxyOptions
        {
            Host = ScaleOutTopology.VirtualAddress.ToString(),
            Port = ScaleOutTopology.SocksPort,
            SocketFactory = (family, type, protocol) => topology.CreateSocket(topology.ClientNamespace, family, type, protocol),
        }).WaitAsync(TestTimeout.Default);
        var client = new ScaleOutClient(id, association);
        var first = await client.NextNoticeAsync();
        if (first.Line != "NOTICES version=1 commands=set,map")
        {
            await client.DisposeAsync();
            throw new InvalidOperationException($"client {id}: first line '{first.Line}', expected NOTICES version=1");
        }

        return client;
    }

    /// <summary>One echo round trip through the relay; false when no reply (or a wrong one) came within <see cref="ReplyTimeout"/>.</summary>
    public async Task<bool> RoundTripAsync(IPEndPoint echo)
    {
        byte[] payload = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(payload, Id);
        BinaryPrimitives.WriteInt32BigEndian(payload.AsSpan(4), Interlocked.Increment(ref _sequence));
        await Association.SendAsync(echo, payload);
        using var timeout = new CancellationTokenSource(ReplyTimeout);
        try
        {
            while (true)
            {
                var result = await Association.ReceiveAsync(_receive, timeout.Token);
                if (_receive.AsSpan(0, result.Length).SequenceEqual(payload))
                {
                    return true;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>The next notice, within the test timeout.</summary>
    public async Task<Notice> NextNoticeAsync()
    {
        using var timeout = new CancellationTokenSource(TestTimeout.Default);
        try
        {
            var notice = await _notices.Reader.ReadAsync(timeout.Token);
            lock (Seen)
            {
                Seen.Add(notice);
            }

            return notice;
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"client {Id}: no notice within {TestTimeout.Default.TotalSeconds} s; seen: {string.Join(" | ", Seen)}");
        }
        catch (ChannelClosedException)
        {
            throw new InvalidOperationException($"client {Id}: the control connection ended; seen: {string.Join(" | ", Seen)}");
        }
    }

    /// <summary>Notices already queued, without waiting.</summary>
    public IReadOnlyList<Notice> Drain()
    {
        while (_notices.Reader.TryRead(out var notice))
        {
            lock (Seen)
            {
                Seen.Add(notice);
            }
        }

        return Seen;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await Association.DisposeAsync();
        await _noticeReader.WaitAsync(TestTimeout.Default);
    }

    private async Task ReadNoticesAsync()
    {
        try
        {
            await foreach (var notice in Association.Notices.ReadAllAsync())
            {
                _notices.Writer.TryWrite(notice);
            }
        }
        finally
        {
            _notices.Writer.TryComplete();
        }
    }
}
