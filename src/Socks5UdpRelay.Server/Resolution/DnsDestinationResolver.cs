using System.Net;
using System.Net.Sockets;
using DnsClient;
using DnsClient.Protocol;
using Microsoft.Extensions.Logging;

namespace Socks5UdpRelay.Server.Resolution;

/// <summary>
/// The default resolver (<c>Relay:Resolver=dns</c>): <c>/etc/hosts</c>, then DNS as
/// <c>/etc/resolv.conf</c> configures it, with glibc's search-list order, and nothing that
/// blocks a thread. Queries are DnsClient's asynchronous UDP (TCP when truncated, or with
/// <c>options use-vc</c>); the caller's token, which carries the lookup deadline, or the
/// resolver's own limit (<c>Relay:ResolveTimeout</c> too) closes their sockets, so a lookup
/// really ends at its deadline instead of holding a thread until the system resolver gives up
/// (see the README, Configuration). Failures are thrown as
/// <see cref="Dns"/> throws them: <see cref="SocketError.HostNotFound"/> (NXDOMAIN, or no
/// nameserver), <see cref="SocketError.NoData"/> (the name has no address),
/// <see cref="SocketError.TryAgain"/> (no server answered).
/// </summary>
internal sealed class DnsDestinationResolver : IDestinationResolver
{
    public const string HostsPath = "/etc/hosts";
    public const string ResolvConfPath = "/etc/resolv.conf";

    private readonly Func<HostsFile> _hosts;
    private readonly Func<ResolverConfiguration> _configuration;
    private readonly TimeSpan _limit;
    private readonly LookupClient _client = new(new LookupClientOptions { AutoResolveNameServers = false, UseCache = false });
    private Upstream? _upstream;
    private int _rotation;

    /// <summary>
    /// Reads the hosts table and the configuration through the given functions on every lookup
    /// (tests give fixed ones). <paramref name="limit"/> ends a lookup whatever its caller does
    /// (TryAgain): the caller's token is meant to end it sooner.
    /// </summary>
    public DnsDestinationResolver(Func<HostsFile> hosts, Func<ResolverConfiguration> configuration, TimeSpan limit)
    {
        _hosts = hosts;
        _configuration = configuration;
        _limit = limit;
    }

    private enum Outcome
    {
        Found,
        NoSuchName,
        NoAddress,
        ServerFailure,
        NoAnswer,
    }

    /// <summary>The resolver over the system's <c>/etc/hosts</c> and <c>/etc/resolv.conf</c>, re-read when they change; the configuration is logged when read.</summary>
    public static DnsDestinationResolver FromSystemFiles(TimeSpan limit, TimeProvider time, ILogger logger)
    {
        var hosts = new WatchedFile<HostsFile>(HostsPath, HostsFile.Parse, time);
        var configuration = new WatchedFile<ResolverConfiguration>(ResolvConfPath, text => ResolvConfParser.Parse(text, Dns.GetHostName()), time,
            c => ResolverLog.Configuration(logger, ResolvConfPath, c));
        return new DnsDestinationResolver(() => hosts.Current, () => configuration.Current, limit);
    }

    public async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (IPAddress.TryParse(host, out var literal))
        {
            return [literal]; // as Dns.GetHostAddressesAsync does
        }

        if (!CachingResolver.IsValidHostName(host))
        {
            throw Failure(Outcome.NoSuchName);
        }

        // The relay starts a lookup on its event-loop thread (ARCHITECTURE.md, Threads): the file
        // checks and socket calls below run on the thread pool instead, never delaying a datagram.
        await Task.Yield();
        if (_hosts().Find(host) is { } mapped)
        {
            return mapped;
        }

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(_limit);
        try
        {
            return await SearchAsync(host, limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw Failure(Outcome.NoAnswer);
        }
    }

    /// <summary>The names <see cref="ResolverConfiguration.QueryNames"/> lists, in turn, until one has addresses (res_search).</summary>
    private async Task<IPAddress[]> SearchAsync(string host, CancellationToken cancellationToken)
    {
        var configuration = _configuration();
        var upstream = _upstream is { } current && ReferenceEquals(current.Configuration, configuration) ? current : (_upstream = new Upstream(configuration));
        if (upstream.Servers.Length == 0)
        {
            throw Failure(Outcome.NoSuchName);
        }

        int first = configuration.Rotate ? (int)((uint)Interlocked.Increment(ref _rotation) % (uint)upstream.Servers.Length) : 0;
        var names = configuration.QueryNames(host);
        Outcome? asIs = null;
        bool noAddress = false, serverFailure = false;
        for (int i = 0; i < names.Count; i++)
        {
            var (outcome, addresses) = await QueryNameAsync(upstream, first, names[i], cancellationToken).ConfigureAwait(false);
            switch (outcome)
            {
                case Outcome.Found:
                    return addresses;
                case Outcome.NoAnswer:
                    // No server answers: more names would only wait longer (glibc stops the search list here too,
                    // though it still asks the name as given; see the README).
                    throw Failure(Outcome.NoAnswer);
            }

            asIs ??= i == 0 && configuration.AsksAsIsFirst(host) ? outcome : null;
            noAddress |= outcome == Outcome.NoAddress;
            serverFailure |= outcome == Outcome.ServerFailure;
        }

        // res_search: the as-is answer of a name asked as is first decides; then "exists, no address"; then a server failure.
        throw Failure(asIs ?? (noAddress ? Outcome.NoAddress : serverFailure ? Outcome.ServerFailure : Outcome.NoSuchName));
    }

    /// <summary>A and AAAA for one name, asked at once as glibc asks them; IPv4 first in the result.</summary>
    private async Task<(Outcome, IPAddress[])> QueryNameAsync(Upstream upstream, int first, string name, CancellationToken cancellationToken)
    {
        var v4 = QueryAsync(upstream, first, name, QueryType.A, cancellationToken);
        if (upstream.Configuration.NoAaaa)
        {
            return await v4.ConfigureAwait(false);
        }

        var v6 = QueryAsync(upstream, first, name, QueryType.AAAA, cancellationToken);
        var (a, aaaa) = (await v4.ConfigureAwait(false), await v6.ConfigureAwait(false));
        if (a.Item2.Length + aaaa.Item2.Length > 0)
        {
            return (Outcome.Found, [.. a.Item2, .. aaaa.Item2]);
        }

        // The stronger statement about the name wins: it exists, it does not, nobody could say.
        Outcome[] order = [Outcome.NoAddress, Outcome.NoSuchName, Outcome.ServerFailure];
        return (order.FirstOrDefault(o => a.Item1 == o || aaaa.Item1 == o, Outcome.NoAnswer), []);
    }

    /// <summary>
    /// One question, server after server, <see cref="ResolverConfiguration.Attempts"/> rounds
    /// (res_send): an answer or NXDOMAIN ends it; SERVFAIL, REFUSED and the like, a timeout or
    /// an unreachable server move on to the next server.
    /// </summary>
    private async Task<(Outcome, IPAddress[])> QueryAsync(Upstream upstream, int first, string name, QueryType type, CancellationToken cancellationToken)
    {
        var question = new DnsQuestion(name, type);
        bool serverFailure = false;
        for (int attempt = 0; attempt < upstream.Configuration.Attempts; attempt++)
        {
            for (int i = 0; i < upstream.Servers.Length; i++)
            {
                IDnsQueryResponse response;
                try
                {
                    response = await _client.QueryServerAsync(upstream.Servers[(first + i) % upstream.Servers.Length], question, upstream.Options, cancellationToken)
                        .ConfigureAwait(false);
                }
                catch (Exception e) when (e is DnsResponseException or DnsResponseParseException or DnsXidMismatchException
                    or SocketException or TimeoutException or IOException)
                {
                    // DnsClient reports a cancelled query as a timeout: tell the caller it was cancelled.
                    cancellationToken.ThrowIfCancellationRequested();
                    continue;
                }

                if (!Answers(response, question))
                {
                    continue;
                }

                switch (response.Header.ResponseCode)
                {
                    case DnsHeaderResponseCode.NoError:
                        IPAddress[] addresses = type == QueryType.A
                            ? [.. response.Answers.ARecords().Select(r => r.Address)]
                            : [.. response.Answers.AaaaRecords().Select(r => r.Address)];
                        return (addresses.Length > 0 ? Outcome.Found : Outcome.NoAddress, addresses);
                    case DnsHeaderResponseCode.NotExistentDomain:
                        return (Outcome.NoSuchName, []);
                    default:
                        serverFailure = true;
                        break;
                }
            }
        }

        return (serverFailure ? Outcome.ServerFailure : Outcome.NoAnswer, []);
    }

    /// <summary>The response is about the question asked (glibc's res_queriesmatch): anything else counts as no answer from that server.</summary>
    private static bool Answers(IDnsQueryResponse response, DnsQuestion question) =>
        response.Questions is [var echoed]
        && echoed.QuestionType == question.QuestionType
        && string.Equals(echoed.QueryName.Value, question.QueryName.Value, StringComparison.OrdinalIgnoreCase);

    private static SocketException Failure(Outcome outcome) => new((int)(outcome switch
    {
        Outcome.NoAddress => SocketError.NoData,
        Outcome.ServerFailure or Outcome.NoAnswer => SocketError.TryAgain,
        _ => SocketError.HostNotFound,
    }));

    /// <summary>DnsClient's view of one configuration: each server alone (the order is ours), and the query options it implies.</summary>
    private sealed class Upstream
    {
        public Upstream(ResolverConfiguration configuration)
        {
            Configuration = configuration;
            Servers = [.. configuration.NameServers.Select(s => (IReadOnlyCollection<NameServer>)[new NameServer(s)])];
            Options = new DnsQueryOptions
            {
                Timeout = configuration.Timeout,
                Retries = 0,
                UseCache = false,
                UseRandomNameServer = false,
                ThrowDnsErrors = false,
                ContinueOnDnsError = false,
                ContinueOnEmptyResponse = false,
                UseTcpFallback = true,
                UseTcpOnly = configuration.UseTcp,
                Recursion = true,
            };
        }

        public ResolverConfiguration Configuration { get; }

        public IReadOnlyCollection<NameServer>[] Servers { get; }

        public DnsQueryOptions Options { get; }
    }
}
