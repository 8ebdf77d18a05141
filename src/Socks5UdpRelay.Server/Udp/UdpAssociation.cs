using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Icmp;
using Socks5UdpRelay.Server.Logging;
using Socks5UdpRelay.Server.Notices;

namespace Socks5UdpRelay.Server.Udp;

/// <summary>
/// One UDP ASSOCIATE: the client-facing socket, the connected destination sockets (all on one
/// outbound port), the names it resolved, and the notices it owes the client. Owned by its
/// control session; <see cref="RunAsync"/> returns when the association is over and every
/// socket it opened is closed.
/// </summary>
internal sealed partial class UdpAssociation : IRelaySink, IReadyHandler
{
    private const int MaxPendingPerName = 16;
    private const int MaxNames = 1024;
    private const int DrainBudget = 64;

    /// <summary>sockaddr_in6 is 28 bytes; room for sockaddr_storage.</summary>
    private const int SocketAddressBytes = 128;
    private static readonly TimeSpan RecentSendWindow = TimeSpan.FromSeconds(30);

    private readonly RelayContext _context;
    private readonly Socket _client;
    private readonly IPEndPoint _peer;
    private readonly ClientSourceFilter _filter;
    private readonly AssociationNotices _notices;
    // Ops hook (README, "Several replicas"): datagrams from another address than the control connection.
    private readonly Policy.SourceMismatchReporter _sourceMismatch;
    // Most associations talk to a handful of destinations from one loop: a small, single-lock table.
    private readonly ConcurrentDictionary<DestinationKey, DestinationSocket> _destinations = new(concurrencyLevel: 1, capacity: 7);
    private readonly ConcurrentDictionary<string, NameState> _names = new(concurrencyLevel: 1, capacity: 1, StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, NameState>.AlternateLookup<ReadOnlySpan<char>> _nameLookup;
    private readonly Lock _createLock = new();
    private readonly CancellationTokenSource _end = new();
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _maxUdpPayload;
    private readonly long _startedAt;
    private int _outboundPort;
    private int _endReason;
    private long _lastActivity;
    private bool _foreignLogged;
    private double _tokens;
    private long _tokenStamp;

    public UdpAssociation(RelayContext context, Socket client, IPEndPoint peer, ushort fixedPort, NoticeWriter notices)
    {
        _context = context;
        _client = client;
        _peer = peer;
        _filter = new ClientSourceFilter(peer.Address, fixedPort);
        _notices = new AssociationNotices(
            notices, new NoticeRateLimiter<NoticeKey>(context.Time, context.Options.NoticesPerSecond, context.Options.NoticeBurst), context.Metrics);
        _sourceMismatch = new Policy.SourceMismatchReporter(peer, _notices, context.Metrics, context.Time, context.Logger); // ops hook
        _nameLookup = _names.GetAlternateLookup<ReadOnlySpan<char>>();
        _maxUdpPayload = client.AddressFamily == AddressFamily.InterNetwork ? 65_507 : 65_527;
        _startedAt = context.Time.GetTimestamp();
        _lastActivity = _startedAt;
        _tokenStamp = _startedAt;
        _tokens = context.Limits.DatagramBurst;
    }

    public AssociationCounters Counters { get; } = new();

    public IPEndPoint RelayEndPoint => (IPEndPoint)_client.LocalEndPoint!;

    public int OutboundPort => Volatile.Read(ref _outboundPort);

    public int DestinationCount => _destinations.Count;

    public long NoticesDropped => _notices.Dropped;

    public AssociationEnd EndReason => (AssociationEnd)Volatile.Read(ref _endReason);

    /// <summary>Asks the association to end; the first reason given wins.</summary>
    public void End(AssociationEnd reason)
    {
        if (Interlocked.CompareExchange(ref _endReason, (int)reason, (int)AssociationEnd.None) == (int)AssociationEnd.None)
        {
            try
            {
                _end.Cancel(); // first: a destination being opened checks it under the create lock
            }
            finally
            {
                _ended.TrySetResult();
            }
        }
    }

    /// <summary>Relays until <see cref="End"/> is called, then closes every socket it opened and logs its totals.</summary>
    public async Task RunAsync()
    {
        var clientLoop = Task.CompletedTask;
        var eventLoop = _context.EventLoop;
        ulong registration = 0;
        if (eventLoop is not null)
        {
            // Replies go out from the loop's thread: a full send buffer must drop, never block it.
            _client.Blocking = false;
            registration = eventLoop.Add(_client, this);
        }

        if (registration == 0)
        {
            clientLoop = Task.Run(ClientLoopAsync);
        }

        var idle = _context.Time.CreateTimer(static s => ((UdpAssociation)s!).Sweep(), this, SweepPeriod, SweepPeriod);
        try
        {
            await _ended.Task.ConfigureAwait(false);
        }
        finally
        {
            await idle.DisposeAsync().ConfigureAwait(false);
            eventLoop?.Remove(registration);
            _client.Dispose();
            await clientLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await CloseDestinationsAsync().ConfigureAwait(false);
            LogClosed();
        }
    }

    /// <summary>How often idle destinations and the association's own idleness are checked.</summary>
    private TimeSpan SweepPeriod
    {
        get
        {
            var shortest = _context.Options.DestinationIdleTimeout;
            var association = _context.Options.AssociationIdleTimeout;
            if (association > TimeSpan.Zero && association < shortest)
            {
                shortest = association;
            }

            return TimeSpan.FromTicks(Math.Clamp(shortest.Ticks / 4, TimeSpan.TicksPerSecond / 4, TimeSpan.TicksPerSecond * 30));
        }
    }

    private async Task ClientLoopAsync()
    {
        var from = new SocketAddress(_client.AddressFamily);
        while (!_end.IsCancellationRequested)
        {
            try
            {
                // A zero-byte receive waits without holding a 64 KiB buffer per idle association.
                await _client.ReceiveFromAsync(Memory<byte>.Empty, SocketFlags.None, from).ConfigureAwait(false);
                byte[] buffer = ArrayPool<byte>.Shared.Rent(DestinationSocket.ReceiveBufferSize);
                try
                {
                    if (RawDatagramReceiver.IsSupported)
                    {
                        DrainClientSocket(buffer);
                    }
                    else
                    {
                        int budget = DrainBudget;
                        do
                        {
                            int received = await _client.ReceiveFromAsync(buffer, SocketFlags.None, from).ConfigureAwait(false);
                            OnClientDatagram(buffer.AsSpan(0, received), from.Buffer.Span[..from.Size]);
                        }
                        while (--budget > 0 && _client.Available > 0);
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e) when (SocketErrorClassifier.IsShutdownNoise(e.SocketErrorCode) || _end.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                // An error on the client-facing socket concerns one datagram, never the association.
            }
            catch (Exception e)
            {
                Log.AssociationLoopFailed(_context.Logger, e, _peer);
                End(AssociationEnd.Failed);
                return;
            }
        }
    }

    /// <summary>The event loop's call: the client-facing socket has datagrams.</summary>
    void IReadyHandler.OnReady(bool error, DatagramBatch batch)
    {
        if (_end.IsCancellationRequested)
        {
            return;
        }

        // A short batch means the queue is empty; a full one may leave more, up to the budget (the rest waits for the next wake-up).
        for (int taken = 0; taken < DrainBudget;)
        {
            int count = batch.Receive(_client, withAddresses: true);
            for (int i = 0; i < count; i++)
            {
                OnClientDatagram(batch.Payload(i), batch.Source(i));
            }

            if (count < DatagramBatch.Capacity)
            {
                return;
            }

            taken += count;
        }
    }

    /// <summary>Reads what is queued until the queue is empty or the budget is spent (so one busy client cannot starve the pool).</summary>
    private void DrainClientSocket(byte[] buffer)
    {
        Span<byte> address = stackalloc byte[SocketAddressBytes];
        for (int i = 0; i < DrainBudget; i++)
        {
            int received = RawDatagramReceiver.TryReceiveFrom(_client, buffer, address, out int addressLength);
            if (received < 0)
            {
                return;
            }

            OnClientDatagram(buffer.AsSpan(0, received), address[..addressLength]);
        }
    }

    private void OnClientDatagram(ReadOnlySpan<byte> datagram, ReadOnlySpan<byte> from)
    {
        if (!_filter.Accept(from))
        {
            Counters.DroppedForeignSource++;
            _sourceMismatch.OnRefused(datagram, from); // ops hook: counted, logged once, noticed at most 1/s
            if (!_foreignLogged || _context.Logger.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Trace))
            {
                _foreignLogged = true;
                Log.ForeignSourceDropped(_context.Logger, _peer, DescribeSource(from), $"{_peer.Address}:{(_filter.ExpectedPort == 0 ? "any" : _filter.ExpectedPort)}");
            }

            return;
        }

        long now = _context.Time.GetTimestamp();
        Volatile.Write(ref _lastActivity, now);
        if (!UdpRequestHeader.TryParse(datagram, out byte fragment, out var destination, out int headerLength))
        {
            Counters.DroppedMalformed++;
            Log.MalformedDatagram(_context.Logger, _peer, datagram.Length);
            return;
        }

        if (!TakeToken(now))
        {
            Counters.DroppedRateLimit++;
            Deny(destination, default, null, DeniedReasons.RateLimit, 4);
            return;
        }

        if (fragment != 0)
        {
            Counters.DroppedFragmented++;
            Deny(destination, default, null, DeniedReasons.Fragmented, 1);
            return;
        }

        var payload = datagram[headerLength..];
        if (payload.Length > _context.Options.MaxDatagramSize)
        {
            Counters.DroppedTooLarge++;
            Deny(destination, default, null, DeniedReasons.TooLarge, 2);
            return;
        }

        Counters.DatagramsFromClient++;
        Counters.BytesFromClient += payload.Length;
        if (destination.Type == AddressType.DomainName)
        {
            SendToName(destination, payload);
        }
        else
        {
            SendTo(DestinationKey.From(destination), null, destination, payload);
        }
    }

    /// <summary>The association's datagram budget (<c>Limits:DatagramsPerSecond</c>), a token bucket touched only by the client loop.</summary>
    private bool TakeToken(long now)
    {
        int rate = _context.Limits.DatagramsPerSecond;
        if (rate == 0)
        {
            return true;
        }

        double elapsed = (now - _tokenStamp) / (double)_context.Time.TimestampFrequency;
        _tokenStamp = now;
        _tokens = Math.Min(_context.Limits.DatagramBurst, _tokens + (elapsed * rate));
        if (_tokens < 1)
        {
            return false;
        }

        _tokens -= 1;
        return true;
    }

    private void SendTo(DestinationKey key, string? name, in SocksAddress addressedAs, ReadOnlySpan<byte> payload)
    {
        if (!_destinations.TryGetValue(key, out var socket))
        {
            if (!_context.Policy.IsAllowed(key))
            {
                Counters.DroppedPolicy++;
                Deny(addressedAs, key, name, DeniedReasons.Policy, 3);
                return;
            }

            socket = OpenDestination(key);
            if (socket is null)
            {
                Counters.DroppedSendFailed++;
                return;
            }
        }

        if (!ReferenceEquals(socket.AddressedAs, name))
        {
            socket.AddressedAs = name;
        }

        if (!socket.Send(payload))
        {
            Counters.DroppedSendFailed++;
        }
    }

    private DestinationSocket? OpenDestination(DestinationKey key)
    {
        lock (_createLock)
        {
            if (_destinations.TryGetValue(key, out var existing))
            {
                return existing;
            }

            if (_end.IsCancellationRequested)
            {
                return null;
            }

            if (_destinations.Count >= _context.Options.MaxDestinationsPerAssociation)
            {
                EvictLeastRecentlyUsed();
            }

            for (int attempt = 0; attempt < 2; attempt++)
            {
                if (_outboundPort == 0)
                {
                    int port = _context.OutboundPorts.Allocate();
                    if (port == 0)
                    {
                        Log.NoOutboundPort(_context.Logger, _peer);
                        return null;
                    }

                    Volatile.Write(ref _outboundPort, port);
                }

                try
                {
                    var socket = DestinationSocket.Open(key, _outboundPort, this, _context.ErrorQueue, _context.Time, _context.EventLoop);
                    _destinations[key] = socket;
                    Counters.DestinationsOpened++;
                    socket.Start();
                    Log.DestinationOpened(_context.Logger, _peer, new DestinationText(key), _outboundPort);
                    return socket;
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse && attempt == 0)
                {
                    // Someone took the port while no socket of ours held it: move the association to a new one.
                    if (_destinations.IsEmpty)
                    {
                        _context.OutboundPorts.Release(_outboundPort);
                    }

                    Volatile.Write(ref _outboundPort, 0);
                }
                catch (SocketException e)
                {
                    Log.DestinationOpenFailed(_context.Logger, _peer, new DestinationText(key), e.SocketErrorCode.ToString());
                    var report = SocketErrorClassifier.TryClassify(e.SocketErrorCode, out var r) ? r : SocketErrorClassifier.Unclassified(e.SocketErrorCode);
                    ReportError(key, null, report);
                    return null;
                }
            }

            return null;
        }
    }

    private void EvictLeastRecentlyUsed()
    {
        DestinationSocket? oldest = null;
        foreach (var (_, socket) in _destinations)
        {
            if (oldest is null || socket.LastActivity < oldest.LastActivity)
            {
                oldest = socket;
            }
        }

        if (oldest is not null)
        {
            CloseDestination(oldest, "evicted: destination cap");
        }
    }

    private void CloseDestination(DestinationSocket socket, string reason)
    {
        if (_destinations.TryRemove(new KeyValuePair<DestinationKey, DestinationSocket>(socket.Key, socket)))
        {
            socket.Dispose();
            LogFlow(socket, reason);
        }
    }

    private async Task CloseDestinationsAsync()
    {
        List<Task> loops = [];
        lock (_createLock)
        {
            foreach (var (_, socket) in _destinations)
            {
                socket.Dispose();
                loops.Add(socket.Loop);
                LogFlow(socket, "association closed");
            }

            _destinations.Clear();
            if (_outboundPort != 0)
            {
                _context.OutboundPorts.Release(_outboundPort);
                _outboundPort = 0;
            }
        }

        await Task.WhenAll(loops).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private void Sweep()
    {
        if (_end.IsCancellationRequested)
        {
            return;
        }

        long now = _context.Time.GetTimestamp();
        foreach (var (_, socket) in _destinations)
        {
            if (_context.Time.GetElapsedTime(socket.LastActivity, now) >= _context.Options.DestinationIdleTimeout)
            {
                lock (_createLock)
                {
                    CloseDestination(socket, "idle");
                }
            }
        }

        var idleLimit = _context.Options.AssociationIdleTimeout;
        if (idleLimit > TimeSpan.Zero && _context.Time.GetElapsedTime(LastActivity, now) >= idleLimit)
        {
            End(AssociationEnd.IdleTimeout);
        }
    }

    private long LastActivity
    {
        get
        {
            long last = Volatile.Read(ref _lastActivity);
            foreach (var (_, socket) in _destinations)
            {
                last = Math.Max(last, socket.LastActivity);
            }

            return last;
        }
    }

    /// <summary>A reply over the configured payload limit, or too large for one UDP datagram with its header: counted, not sent.</summary>
    private bool DropIfTooLarge(int payloadLength, int datagramLength)
    {
        if (payloadLength <= _context.Options.MaxDatagramSize && datagramLength <= _maxUdpPayload)
        {
            return false;
        }

        Interlocked.Increment(ref Counters.DroppedReplyTooLarge);
        return true;
    }

    void IRelaySink.RelayToClient(Span<byte> datagram, int payloadLength)
    {
        if (DropIfTooLarge(payloadLength, datagram.Length))
        {
            return;
        }

        var client = _filter.Client;
        if (client is null)
        {
            return;
        }

        try
        {
            _client.SendTo(datagram, SocketFlags.None, client);
            Interlocked.Increment(ref Counters.DatagramsToClient);
            Interlocked.Add(ref Counters.BytesToClient, payloadLength);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            Interlocked.Increment(ref Counters.DroppedSendFailed);
        }
    }

    void IRelaySink.RelayToClient(DatagramBatch batch, int count, int headerLength)
    {
        var client = _filter.Client;
        if (client is null)
        {
            return;
        }

        batch.BeginSend(client.Buffer.Span[..client.Size]);
        int added = 0;
        for (int i = 0; i < count; i++)
        {
            int payloadLength = batch.Payload(i).Length;
            if (DropIfTooLarge(payloadLength, headerLength + payloadLength))
            {
                continue;
            }

            batch.AddToSend(i, headerLength);
            added++;
        }

        int sent = batch.Send(_client, headerLength, out long bytes);
        Interlocked.Add(ref Counters.DatagramsToClient, sent);
        Interlocked.Add(ref Counters.BytesToClient, bytes);
        if (sent < added)
        {
            Interlocked.Add(ref Counters.DroppedSendFailed, added - sent);
        }
    }

    void IRelaySink.OnDestinationError(DestinationSocket destination, in SocketErrorReport report)
    {
        // Spoof resistance: the kernel already matched the ICMP to this socket's four-tuple; on
        // top of that, an error for a destination the client has not sent to lately is not told.
        if (_context.Time.GetElapsedTime(destination.LastSent) > RecentSendWindow)
        {
            Interlocked.Increment(ref Counters.StaleErrors);
            return;
        }

        ReportError(destination.Key, destination.AddressedAs, report);
    }

    void IRelaySink.OnSendRetried() => Interlocked.Increment(ref Counters.SendsRetried);

    /// <summary>An error the kernel reported for <paramref name="key"/> becomes a rate-limited <c>UDP-ERROR</c>.</summary>
    private void ReportError(DestinationKey key, string? name, in SocketErrorReport report)
    {
        Interlocked.Increment(ref Counters.Errors);
        _context.Metrics.RecordError(report.Kind);
        if (_notices.UdpError(key, name, report) && _context.Logger.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Debug))
        {
            Log.DestinationError(_context.Logger, _peer, name is null ? key.ToString() : $"{name}:{key.Port}", report.Kind.ToWireName(), report.Errno,
                report.Offender?.ToString() ?? "-");
        }
    }

    /// <summary>A refused datagram: counted by the caller, noticed (rate-limited) and then logged at Debug.</summary>
    private void Deny(in SocksAddress addressedAs, DestinationKey key, string? name, string reason, int reasonId)
    {
        if (_notices.Denied(addressedAs, key, name, reason, reasonId) && _context.Logger.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Debug))
        {
            Log.DatagramDenied(_context.Logger, _peer, addressedAs.ToString(), reason);
        }
    }

    /// <summary>Writes the first line, <c>NOTICES version=1</c>.</summary>
    public void AnnounceNotices() => _notices.Announce();

    /// <summary>Writes <c>CLOSING reason=…</c> when the end is one the client should hear about.</summary>
    public void AnnounceClosing()
    {
        if (EndReason.ClosingReason() is { } reason)
        {
            _notices.Closing(reason);
        }
    }

    private void LogFlow(DestinationSocket socket, string reason)
        => Log.DestinationClosed(_context.Logger, _peer, new DestinationText(socket.Key), reason,
            socket.DatagramsSent, socket.BytesSent, Interlocked.Read(ref socket.DatagramsReceived), Interlocked.Read(ref socket.BytesReceived));

    private void LogClosed()
    {
        var c = Counters;
        Log.AssociationClosed(
            _context.Logger, _peer, EndReason.Describe(), _context.Time.GetElapsedTime(_startedAt),
            c.DatagramsFromClient, c.BytesFromClient, Interlocked.Read(ref c.DatagramsToClient), Interlocked.Read(ref c.BytesToClient),
            c.DestinationsOpened, _notices.Sent, _notices.Dropped, Interlocked.Read(ref c.Errors), c.Dropped);
    }

    private string DescribeSource(ReadOnlySpan<byte> raw)
    {
        var address = new SocketAddress(_client.AddressFamily, raw.Length);
        raw.CopyTo(address.Buffer.Span);
        try
        {
            return new IPEndPoint(_client.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0).Create(address).ToString() ?? Convert.ToHexString(raw);
        }
        catch (ArgumentException)
        {
            return Convert.ToHexString(raw);
        }
    }
}
