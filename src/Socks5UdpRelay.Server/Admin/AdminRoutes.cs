using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Socks5UdpRelay.Server.Control;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Relay;

namespace Socks5UdpRelay.Server.Admin;

/// <summary>
/// The flow view's routes on the HTTP endpoint (README, "Flow view"), there only when a token is
/// configured. The page and its script and style carry no data and are served to anyone who
/// reaches the endpoint (a browser cannot send a bearer token with a navigation); every route that
/// shows or ends an association asks for the token, from loopback too: the proxy can carry any
/// client to this host's loopback, so the address a request comes from proves nothing.
/// </summary>
internal sealed class AdminRoutes
{
    public static readonly (string, string) NoStore = ("Cache-Control", "no-store");
    public static readonly (string, string) NoSniff = ("X-Content-Type-Options", "nosniff");

    private static readonly (string, string)[] PageHeaders =
    [
        ("Cache-Control", "no-cache"), NoSniff, ("Referrer-Policy", "no-referrer"), ("X-Frame-Options", "DENY"),
        // Nothing inline and nothing from elsewhere: a destination's name is whatever a client sent.
        ("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
    ];

    private readonly AdminToken _token;
    private readonly FlowReader _reader;
    private readonly FlowFeed _feed;
    private readonly AssociationRegistry _registry;
    private readonly AdminOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    // Refusals are logged, but someone guessing tokens must not flood the log: a burst, then one a second.
    private readonly Notices.NoticeRateLimiter<string> _refusals;

    public AdminRoutes(AdminToken token, FlowReader reader, FlowFeed feed, AssociationRegistry registry, IOptions<AdminOptions> options, TimeProvider time, ILogger<AdminRoutes> logger)
    {
        _token = token;
        _reader = reader;
        _feed = feed;
        _registry = registry;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _refusals = new Notices.NoticeRateLimiter<string>(time, perSecond: 1, burst: 10);
    }

    /// <summary>Logs where the flow view is, once the endpoint is bound.</summary>
    public void Announce(IPEndPoint endpoint)
    {
        if (_token.IsConfigured)
        {
            AdminLog.Listening(_logger, endpoint, AdminToken.Source(_options));
        }
    }

    /// <summary>
    /// Answers a request for one of the flow view's routes and returns true; false for any other
    /// path, or for every path while no token is configured. <paramref name="deadline"/> bounds an
    /// ordinary answer, <paramref name="stopping"/> a stream.
    /// </summary>
    public async Task<bool> TryServeAsync(HttpExchange exchange, CancellationToken deadline, CancellationToken stopping)
    {
        var request = exchange.Request;
        if (!_token.IsConfigured)
        {
            return false;
        }

        if (StaticAssets.TryGet(request.Path, out byte[] content, out string type))
        {
            await (request.Method == "GET"
                ? exchange.RespondAsync(200, type, content, deadline, PageHeaders)
                : exchange.RespondTextAsync(405, "use GET", deadline, ("Allow", "GET"))).ConfigureAwait(false);
            return true;
        }

        if (request.Path != "/flows" && !request.Path.StartsWith("/flows/", StringComparison.Ordinal))
        {
            return false;
        }

        if (!await AuthorizeAsync(exchange, deadline).ConfigureAwait(false))
        {
            return true;
        }

        string rest = request.Path["/flows".Length..];
        await (rest switch
        {
            "" => request.Method == "GET" ? ListAsync(exchange, deadline) : MethodNotAllowed(exchange, "GET", deadline),
            "/stream" => request.Method == "GET" ? StreamAsync(exchange, deadline, stopping) : MethodNotAllowed(exchange, "GET", deadline),
            _ when long.TryParse(rest.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out long id) => request.Method switch
            {
                "GET" => OneAsync(exchange, id, deadline),
                "DELETE" => EndAsync(exchange, id, deadline),
                _ => MethodNotAllowed(exchange, "GET, DELETE", deadline),
            },
            _ => exchange.RespondTextAsync(404, "no such route: /flows, /flows/stream, /flows/{id}", deadline, NoStore),
        }).ConfigureAwait(false);
        return true;
    }

    private async Task<bool> AuthorizeAsync(HttpExchange exchange, CancellationToken cancellationToken)
    {
        var access = _token.Check(exchange.Request.Authorization);
        if (access == AdminAccess.Granted)
        {
            return true;
        }

        string reason = access == AdminAccess.Missing ? "no bearer token" : "wrong token or scheme";
        if (_refusals.TryAcquire("token", out long suppressed))
        {
            AdminLog.Refused(_logger, exchange.Remote, exchange.Request.Method, exchange.Request.Path, reason, suppressed);
        }

        string challenge = access == AdminAccess.Missing ? "Bearer realm=\"flows\"" : "Bearer realm=\"flows\", error=\"invalid_token\"";
        await exchange.RespondTextAsync(401, $"{reason}: send Authorization: Bearer <Admin:Token>", cancellationToken, ("WWW-Authenticate", challenge), NoStore).ConfigureAwait(false);
        return false;
    }

    private async Task ListAsync(HttpExchange exchange, CancellationToken cancellationToken)
    {
        if (!FlowQuery.TryParse(exchange.Request, _options.MaxPageSize, FlowQuery.DefaultPageLimit, out var query, out string? error))
        {
            await exchange.RespondTextAsync(400, error!, cancellationToken, NoStore).ConfigureAwait(false);
            return;
        }

        var (page, more) = await _reader.ReadPageAsync(query, cancellationToken).ConfigureAwait(false);
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, FlowJson.Options))
        {
            w.WriteStartObject();
            FlowJson.WriteAt(w, _time.GetUtcNow());
            w.WriteNumber("count", page.Count);
            if (more)
            {
                w.WriteNumber("next", page[^1].Id);
            }
            else
            {
                w.WriteNull("next");
            }

            w.WriteStartArray("associations");
            foreach (var snapshot in page)
            {
                FlowJson.WriteAssociation(w, snapshot);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        await RespondJsonAsync(exchange, buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
    }

    private async Task OneAsync(HttpExchange exchange, long id, CancellationToken cancellationToken)
    {
        if (_registry.Find(id) is not { } association || (await _reader.ReadAsync([association], cancellationToken).ConfigureAwait(false)) is not [var snapshot])
        {
            await NoSuchAssociation(exchange, id, cancellationToken).ConfigureAwait(false);
            return;
        }

        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, FlowJson.Options))
        {
            FlowJson.WriteAssociation(w, snapshot);
        }

        await RespondJsonAsync(exchange, buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Ends the association; its client reads <c>CLOSING reason=admin</c> (README, "Notices") before the close.</summary>
    private async Task EndAsync(HttpExchange exchange, long id, CancellationToken cancellationToken)
    {
        if (_registry.Find(id) is not { IsEnding: false } association)
        {
            await NoSuchAssociation(exchange, id, cancellationToken).ConfigureAwait(false);
            return;
        }

        association.End(AssociationEnd.Admin);
        AdminLog.Ended(_logger, id, association.User ?? "-", exchange.Remote);
        await RespondJsonAsync(exchange, JsonSerializer.SerializeToUtf8Bytes(new { id, ending = association.EndReason == AssociationEnd.Admin }), cancellationToken).ConfigureAwait(false);
    }

    private async Task StreamAsync(HttpExchange exchange, CancellationToken deadline, CancellationToken stopping)
    {
        if (!FlowQuery.TryParse(exchange.Request, _options.MaxPageSize, _options.MaxPageSize, out var query, out string? error))
        {
            await exchange.RespondTextAsync(400, error!, deadline, NoStore).ConfigureAwait(false);
            return;
        }

        if (!_feed.TryJoin(out long after))
        {
            AdminLog.StreamRefused(_logger, exchange.Remote, _options.MaxStreams);
            await exchange.RespondTextAsync(503, $"{_options.MaxStreams} flow streams are open (Admin:MaxStreams)", deadline, NoStore, ("Retry-After", "5")).ConfigureAwait(false);
            return;
        }

        try
        {
            AdminLog.StreamOpened(_logger, exchange.Remote, _feed.Streams);
            await new FlowStream(_feed, query, exchange).RunAsync(after, stopping).ConfigureAwait(false);
        }
        finally
        {
            _feed.Leave();
            AdminLog.StreamClosed(_logger, exchange.Remote);
        }
    }

    private static Task RespondJsonAsync(HttpExchange exchange, ReadOnlyMemory<byte> json, CancellationToken cancellationToken)
        => exchange.RespondAsync(200, "application/json", json, cancellationToken, NoStore, NoSniff);

    private static Task NoSuchAssociation(HttpExchange exchange, long id, CancellationToken cancellationToken)
        => exchange.RespondTextAsync(404, $"no live association {id}", cancellationToken, NoStore);

    private static Task MethodNotAllowed(HttpExchange exchange, string allow, CancellationToken cancellationToken)
        => exchange.RespondTextAsync(405, $"use {allow}", cancellationToken, ("Allow", allow), NoStore);
}
