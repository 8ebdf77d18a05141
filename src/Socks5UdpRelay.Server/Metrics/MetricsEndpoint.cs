using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Socks5UdpRelay.Server.Control;
using Socks5UdpRelay.Server.Hosting;

namespace Socks5UdpRelay.Server.Metrics;

/// <summary>
/// A minimal HTTP/1.1 endpoint on its own socket: <c>GET /metrics</c> (Prometheus text) and
/// <c>GET /healthz</c> (200 while every SOCKS listener accepts, 503 otherwise). One request per
/// connection and a short deadline keep a slow scraper from holding anything; its accept loop
/// survives what the SOCKS listener's does (out of file descriptors, …), so the health answer
/// stays there to be read.
/// </summary>
internal sealed partial class MetricsEndpoint(
    IOptions<MetricsOptions> options, PrometheusExporter exporter, IRelayEndpoints relay, Policy.OwnEndpoints own, ILogger<MetricsEndpoint> logger) : IHostedService
{
    private static readonly TimeSpan RequestDeadline = TimeSpan.FromSeconds(5);
    private readonly CancellationTokenSource _stopping = new();
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
        var listener = _listener;
        _loop = Task.Run(() => AcceptLoop.RunAsync(listener, connection => _ = ServeAsync(connection), logger, _stopping.Token));
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener?.Dispose();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task ServeAsync(Socket connection)
    {
        using (connection)
        {
            using var deadline = new CancellationTokenSource(RequestDeadline);
            try
            {
                string? path = await ReadRequestPathAsync(connection, deadline.Token).ConfigureAwait(false);
                var (status, type, body) = path switch
                {
                    "/metrics" => ("200 OK", "text/plain; version=0.0.4; charset=utf-8", exporter.Scrape()),
                    "/healthz" when relay.Accepting => ("200 OK", "text/plain; charset=utf-8", "ok\n"),
                    "/healthz" => ("503 Service Unavailable", "text/plain; charset=utf-8", "not accepting SOCKS connections\n"),
                    null => ("400 Bad Request", "text/plain; charset=utf-8", "bad request\n"),
                    _ => ("404 Not Found", "text/plain; charset=utf-8", "try /metrics or /healthz\n"),
                };
                byte[] content = Encoding.UTF8.GetBytes(body);
                byte[] head = Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\nContent-Type: {type}\r\nContent-Length: {content.Length}\r\nConnection: close\r\n\r\n");
                await connection.SendAsync(head, SocketFlags.None, deadline.Token).ConfigureAwait(false);
                await connection.SendAsync(content, SocketFlags.None, deadline.Token).ConfigureAwait(false);
                connection.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // A scraper that went away or took too long: nothing to answer.
            }
        }
    }

    /// <summary>The path of a GET request line, or null for anything else; reads at most 8 KiB of head.</summary>
    private static async Task<string?> ReadRequestPathAsync(Socket connection, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[8192];
        int length = 0;
        while (length < buffer.Length)
        {
            int n = await connection.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            length += n;
            if (buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8) >= 0)
            {
                break;
            }
        }

        string head = Encoding.ASCII.GetString(buffer, 0, length);
        int end = head.IndexOf("\r\n", StringComparison.Ordinal);
        var parts = (end < 0 ? head : head[..end]).Split(' ');
        if (parts.Length != 3 || parts[0] != "GET" || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            return null;
        }

        int query = parts[1].IndexOf('?');
        return query < 0 ? parts[1] : parts[1][..query];
    }

    [LoggerMessage(1005, LogLevel.Information, "Metrics on http://{Endpoint}/metrics and /healthz")]
    private static partial void LogListening(ILogger logger, IPEndPoint endpoint);
}
