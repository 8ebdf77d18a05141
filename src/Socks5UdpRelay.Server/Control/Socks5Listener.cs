using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Socks5UdpRelay.Server.Hosting;
using Socks5UdpRelay.Server.Logging;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Policy;

namespace Socks5UdpRelay.Server.Control;

/// <summary>
/// Accepts SOCKS control connections on every configured endpoint. Binds in
/// <see cref="StartAsync"/> so a busy port fails the start and port 0 reads back the real port;
/// on stop it closes the listeners, ends every association (<c>CLOSING reason=shutdown</c>) and
/// waits for the sessions to finish.
/// </summary>
internal sealed class Socks5Listener : IHostedService, IRelayEndpoints
{
    private readonly RelayOptions _options;
    private readonly ClientAllowList _allowList;
    private readonly ClientTracker _tracker;
    private readonly ControlSessionFactory _sessions;
    private readonly AssociationRegistry _associations;
    private readonly Metrics.RelayMetrics _metrics;
    private readonly OwnEndpoints _own;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly List<Socket> _listeners = [];
    private readonly List<Task> _acceptLoops = [];
    // A count, not a set of tasks: an idle association would otherwise keep a dictionary node and a
    // continuation. It starts at one, the listeners' own reference, dropped once no accept loop can
    // start another session: whoever takes it to zero finishes the drain.
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _references = 1;
    private int _listenerReference = 1;
    private readonly CancellationTokenSource _stopping = new();

    public Socks5Listener(
        IOptions<RelayOptions> options,
        ClientAllowList allowList,
        ClientTracker tracker,
        ControlSessionFactory sessions,
        AssociationRegistry associations,
        Metrics.RelayMetrics metrics,
        OwnEndpoints own,
        TimeProvider time,
        ILogger<Socks5Listener> logger)
    {
        _time = time;
        _own = own;
        _associations = associations;
        _metrics = metrics;
        _options = options.Value;
        _allowList = allowList;
        _tracker = tracker;
        _sessions = sessions;
        _logger = logger;
    }

    public IReadOnlyList<IPEndPoint> ListenEndpoints { get; private set; } = [];

    public int OpenSessions => Volatile.Read(ref _references) - Volatile.Read(ref _listenerReference);

    public int OpenAssociations => _associations.Count;

    /// <summary>True while every listener's accept loop runs: false before start, after stop, and once a listener is closed under it.</summary>
    public bool Accepting => _acceptLoops.Count > 0 && !_stopping.IsCancellationRequested && _acceptLoops.TrueForAll(static loop => !loop.IsCompleted);

    /// <summary>The listening sockets, for tests that close one under the server to see its health turn.</summary>
    internal IReadOnlyList<Socket> Listeners => _listeners;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var bound = new List<IPEndPoint>();
        try
        {
            foreach (string text in _options.Listen)
            {
                EndpointText.TryParseEndpoint(text, out var endpoint);
                var listener = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                if (endpoint.AddressFamily == AddressFamily.InterNetworkV6)
                {
                    listener.DualMode = false;
                }

                listener.Bind(endpoint);
                listener.Listen(512);
                _listeners.Add(listener);
                var actual = (IPEndPoint)listener.LocalEndPoint!;
                bound.Add(actual);
                _own.Add(actual);
                Log.Listening(_logger, actual);
            }
        }
        catch
        {
            foreach (var listener in _listeners)
            {
                listener.Dispose();
            }

            throw;
        }

        ListenEndpoints = bound;
        foreach (var listener in _listeners)
        {
            _acceptLoops.Add(Task.Run(() => AcceptLoop.RunAsync(listener, Admit, _logger, _stopping.Token)));
        }

        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Log.Stopping(_logger, OpenSessions);
        // Cancelled first, so the accept loops know that the listeners' closing is the stop, not a fault.
        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var listener in _listeners)
        {
            listener.Dispose();
        }

        await Task.WhenAll(_acceptLoops).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (Interlocked.Exchange(ref _listenerReference, 0) == 1)
        {
            Release();
        }

        await _drained.Task.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task RunSessionAsync(ControlSession session, ClientSlot slot)
    {
        try
        {
            await session.RunAsync(_stopping.Token).ConfigureAwait(false);
        }
        finally
        {
            _tracker.CloseConnection(slot);
            Release();
        }
    }

    private async Task AnswerLocalProbeAsync(Socket connection, ClientSlot slot)
    {
        try
        {
            await LocalProbeAnswer.AnswerAsync(connection, _time).ConfigureAwait(false);
        }
        finally
        {
            _tracker.CloseConnection(slot);
            Release();
        }
    }

    private void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            _drained.TrySetResult();
        }
    }

    /// <summary>
    /// An accepted connection: refused (allow-list, limits: logged at a bounded rate, counted,
    /// closed), answered as a health probe, or handed to a session that owns it from then on.
    /// </summary>
    private void Admit(Socket connection)
    {
        var peer = EndPoints.Normalize(connection.RemoteEndPoint);
        bool allowed = _allowList.Allows(peer.Address);
        if (!allowed && !LocalProbeAnswer.IsFromThisHost(peer.Address, EndPoints.Normalize(connection.LocalEndPoint).Address))
        {
            Log.ClientNotAllowed(_logger, peer);
            _metrics.RecordRefusedConnection(RefusalReasons.AllowList);
            connection.Dispose();
            return;
        }

        if (!_tracker.TryOpenConnection(peer.Address, out var slot, out string? limit))
        {
            Log.ConnectionLimit(_logger, peer, limit);
            _metrics.RecordRefusedConnection(RefusalReasons.Limit);
            connection.Dispose();
            return;
        }

        ControlSession? session = null;
        try
        {
            if (allowed)
            {
                session = _sessions.Create(connection, slot);
            }
            else
            {
                // This host, outside the allow-list: the health check's answer, never a session.
                Log.LocalProbeAnswered(_logger, peer);
            }
        }
        catch
        {
            _tracker.CloseConnection(slot);
            throw;
        }

        Interlocked.Increment(ref _references);
        _ = session is null ? AnswerLocalProbeAsync(connection, slot) : RunSessionAsync(session, slot);
    }
}

/// <summary>Where the server listens, as bound (port 0 resolved), and how busy it is: for tests and health checks.</summary>
public interface IRelayEndpoints
{
    IReadOnlyList<IPEndPoint> ListenEndpoints { get; }

    int OpenSessions { get; }

    int OpenAssociations { get; }

    /// <summary>True while the server accepts connections on every listener (what <c>/healthz</c> reports).</summary>
    bool Accepting { get; }
}
