using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Socks5UdpRelay.Server.Admin;
using Socks5UdpRelay.Server.Control;
using Socks5UdpRelay.Server.Hosting;
using Socks5UdpRelay.Server.Logging;

namespace Socks5UdpRelay.Server.Metrics;

/// <summary>
/// A minimal HTTP/1.1 endpoint on its own socket: <c>GET /metrics</c> (Prometheus text) and
/// <c>GET /healthz</c> (200 while every SOCKS listener accepts, 503 otherwise), open to whoever
/// reaches it; the flow view's routes (<see cref="AdminRoutes"/>, README "Flow view") when an admin
/// token is set. One request per connection and a short deadline keep a slow client from holding
/// anything; only a flow stream outlives the deadline, and the server's stop ends it. Its accept
/// loop survives what the SOCKS listener's does (out of file descriptors, …), so the health answer
/// stays there to be read.
/// </summary>
internal sealed partial class MetricsEndpoint(
    IOptions<MetricsOptions> options, PrometheusExporter exporter, IRelayEndpoints relay, Policy.OwnEndpoints own, AdminRoutes admin, ILogger<MetricsEndpoint> logger) : IHostedService
{
    private static readonly TimeSpan RequestDeadline = TimeSpan.FromSeconds(5);

    /// <summary>Connections answered at once: scrapers, health checks and flow streams (Admin:MaxStreams) need a handful.</summary>
    internal const int MaxConnections = 64;

    private static readonly byte[] Busy = Encoding.ASCII.GetBytes("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\nConnection: close\r\n\r\nbusy\n");
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConnectionSet _connections = new();
    private Socket? _listener;
    private Task _loop = Task.CompletedTask;

    /// <summary>The bound endpoint, or null when metrics are off.</summary>
    public IPEndPoint? EndPoint { get; private set; }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.Enabled)
        {
            return Task.CompletedTask;
        }

        EndpointText.TryParseEndpoint(options.Value.Listen, out var endpoint);
        _listener = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(endpoint);
        _listener.Listen(16);
        EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
        own.Add(EndPoint);
        LogListening(logger, EndPoint);
        admin.Announce(EndPoint);
        var listener = _listener;
        _loop = Task.Run(() => AcceptLoop.RunAsync(listener, Accepted, logger, _stopping.Token));
        return Task.CompletedTask;
    }

    /// <summary>Closes the listener and every open stream, and waits for the connections being answered.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener?.Dispose();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _connections.WhenAllAsync().WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>
    /// Past <see cref="MaxConnections"/> at once, a connection is answered 503 at once and closed:
    /// each may otherwise be held for the request deadline by whoever reaches the endpoint, and
    /// its descriptors are the relay's too.
    /// </summary>
    private void Accepted(Socket connection)
    {
        if (_connections.Count >= MaxConnections)
        {
            using (connection)
            {
                connection.Blocking = false;
                connection.Send(Busy, SocketFlags.None, out _); // a fresh connection's send buffer takes it, or nothing is said
            }

            if (LogRateLimiter.Admits(logger, LogLevel.Warning, 1006, out long suppressed))
            {
                LogBusy(logger, MaxConnections, suppressed);
            }

            return;
        }

        _connections.Track(ServeAsync(connection));
    }

    private async Task ServeAsync(Socket connection)
    {
        using (connection)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            deadline.CancelAfter(RequestDeadline);
            try
            {
                var (request, error) = await ReadRequestAsync(connection, deadline.Token).ConfigureAwait(false);
                if (request is null)
                {
                    await new HttpExchange(connection, new HttpRequestHead("", "", "", null))
                        .RespondTextAsync(error == HttpRequestHead.TooLarge ? 431 : 400, error ?? "bad request", deadline.Token).ConfigureAwait(false);
                    return;
                }

                var exchange = new HttpExchange(connection, request);
                if (request.Path is "/metrics" or "/healthz")
                {
                    await ServeOwnAsync(exchange, deadline.Token).ConfigureAwait(false);
                }
                else if (!await admin.TryServeAsync(exchange, deadline.Token, _stopping.Token).ConfigureAwait(false))
                {
                    await exchange.RespondTextAsync(404, "try /metrics or /healthz", deadline.Token).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // A client that went away or took too long, or the server stopping: nothing to answer.
            }
        }
    }

    /// <summary><c>/metrics</c> and <c>/healthz</c>: open to whoever reaches the endpoint, as they always were.</summary>
    private Task ServeOwnAsync(HttpExchange exchange, CancellationToken cancellationToken)
    {
        if (exchange.Request.Method != "GET")
        {
            return exchange.RespondTextAsync(405, "use GET", cancellationToken, ("Allow", "GET"));
        }

        return exchange.Request.Path switch
        {
            "/metrics" => exchange.RespondAsync(200, "text/plain; version=0.0.4; charset=utf-8", Encoding.UTF8.GetBytes(exporter.Scrape()), cancellationToken),
            _ when relay.Accepting => exchange.RespondTextAsync(200, "ok", cancellationToken),
            _ => exchange.RespondTextAsync(503, "not accepting SOCKS connections", cancellationToken),
        };
    }

    /// <summary>The request's head, or null with why it is refused; reads at most <see cref="HttpRequestHead.MaxLength"/> bytes.</summary>
    private static async Task<(HttpRequestHead? Request, string? Error)> ReadRequestAsync(Socket connection, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[HttpRequestHead.MaxLength];
        int length = 0;
        while (true)
        {
            int n = await connection.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            length += n;
            var status = HttpRequestHead.TryParse(buffer.AsSpan(0, length), out var head, out string? error);
            if (status == OperationStatus.Done)
            {
                return (head, null);
            }

            if (status == OperationStatus.InvalidData || n == 0 || length == buffer.Length)
            {
                return (null, error ?? "incomplete request");
            }
        }
    }

    [LoggerMessage(1006, LogLevel.Warning, "HTTP endpoint: {Max} connections open, a new one answered 503 ({Suppressed} more since the last such line)")]
    private static partial void LogBusy(ILogger logger, int max, long suppressed);

    [LoggerMessage(1005, LogLevel.Information, "Metrics on http://{Endpoint}/metrics and /healthz")]
    private static partial void LogListening(ILogger logger, IPEndPoint endpoint);
}
