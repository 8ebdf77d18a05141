using System.Globalization;
using System.Net;
using System.Threading.Channels;
using Socks5UdpRelay.Client;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Cli.Trace;

/// <summary>
/// One run of <c>trace</c>: the schedule decides; this sets each probe's TTL at the relay
/// (<c>SET dst=… ttl=N</c>, in force once answered), sends it, and feeds the schedule what comes
/// back (<c>UDP-ERROR</c> notices on the control connection, replies on the UDP socket).
/// </summary>
internal sealed class TraceRunner(CliConsole console)
{
    /// <summary>traceroute's default: 32 bytes of data, a 60-byte IPv4 packet.</summary>
    private const int PayloadLength = 32;

    /// <summary>Tries of a SET the proxy refused for its command rate, a pause apart.</summary>
    private const int RateLimitedTries = 3;

    private static readonly TimeSpan RateLimitPause = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromMilliseconds(500);

    // traceroute fills its UDP probes the same way: '@', 'A', 'B', …
    private static readonly byte[] Payload = [.. Enumerable.Range(0, PayloadLength).Select(i => (byte)(0x40 + (i & 0x3f)))];

    private readonly ProgressLine _progress = new(console);
    private readonly Channel<Arrival> _arrivals = Channel.CreateUnbounded<Arrival>(new UnboundedChannelOptions { SingleReader = true });

    public async Task<int> RunAsync(TraceRequest request, ProxySession session, CancellationToken cancellationToken)
    {
        string host = await DestinationHost.ResolveAsync(request.Host, request.Family, cancellationToken).ConfigureAwait(false);
        var schedule = new TraceSchedule(request.MaxHops, request.Queries, request.Port, request.Wait, console.Time);
        var target = new Target(host, DestinationHost.ParseLiteral(host));

        await using var association = await session.OpenAsync(cancellationToken).ConfigureAwait(false);
        await RequireSetAsync(association, session, cancellationToken).ConfigureAwait(false);
        long started = console.Time.GetTimestamp();

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var receiving = ReceiveAsync(association, stop.Token);
        var reading = ReadNoticesAsync(association, session, stop.Token);
        string? failure = null;
        int failureCode = ExitCodes.ProxyFailed;
        bool interrupted = false;
        try
        {
            failure = await DriveAsync(request, schedule, association, session, target, started, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            interrupted = true;
        }
        catch (CliException e)
        {
            (failure, failureCode) = (e.Message, e.ExitCode);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            failure = $"sending to the relay of proxy {session.ProxyText} failed: {e.Message}";
        }

        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(receiving, reading).ConfigureAwait(false);
        _progress.Clear();
        if (failure is not null)
        {
            console.Say(failure);
            return failureCode;
        }

        if (interrupted)
        {
            return ExitCodes.Interrupted;
        }

        return Conclude(request, schedule, target, console.Time.GetElapsedTime(started));
    }

    /// <summary>Runs the schedule to its end; returns why the proxy ended the trace early, if it did.</summary>
    private async Task<string?> DriveAsync(
        TraceRequest request, TraceSchedule schedule, Socks5UdpAssociation association, ProxySession session, Target target, long started, CancellationToken cancellationToken)
    {
        long lastProgress = started;
        bool headerWritten = false;
        while (true)
        {
            if (Drain(schedule, target) is { } refused)
            {
                return refused;
            }

            WriteHops(schedule, request.Json);
            if (association.Closed.IsCompleted)
            {
                return $"proxy {session.ProxyText} ended the UDP association before the trace was done.";
            }

            var step = schedule.Next();
            if (step.Kind == TraceStepKind.Done)
            {
                WriteHops(schedule, request.Json);
                return null;
            }

            if (step.Kind == TraceStepKind.Send)
            {
                int port = schedule.PortOf(step.Probe);
                var answer = await SetTtlAsync(association, session, target, port, schedule.TtlOf(step.Probe), cancellationToken).ConfigureAwait(false);
                // A name is resolved by the proxy once, at the first SET; every later probe goes to
                // that address, so the trace cannot wander between the addresses of a name.
                target.Address ??= answer.Address?.Address
                    ?? throw new CliException(ExitCodes.ProxyFailed, $"proxy {session.ProxyText} did not say where {target.Host} resolved to: '{answer.Line}'.");
                if (!headerWritten && !request.Json)
                {
                    headerWritten = true;
                    _progress.Clear();
                    console.Out.WriteLine($"trace to {target.Host} ({target.Address}), {request.MaxHops} hops max, {PayloadLength} byte payloads, through proxy {session.ProxyText}");
                }

                schedule.OnSending(step.Probe);
                await association.SendAsync(new IPEndPoint(target.Address, port), Payload, cancellationToken).ConfigureAwait(false);
                continue;
            }

            var wait = console.IsErrorTerminal && step.Wait > ProgressEvery ? ProgressEvery : step.Wait;
            try
            {
                var ready = _arrivals.Reader.WaitToReadAsync(cancellationToken).AsTask();
                await Task.WhenAny(ready, association.Closed).WaitAsync(wait, console.Time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }

            if (console.IsErrorTerminal && console.Time.GetElapsedTime(lastProgress) >= ProgressEvery)
            {
                lastProgress = console.Time.GetTimestamp();
                ShowProgress(schedule, request.MaxHops, started);
            }
        }
    }

    /// <summary>Hands every arrival about this destination to the schedule; returns a refusal that ends the trace.</summary>
    private string? Drain(TraceSchedule schedule, Target target)
    {
        while (_arrivals.Reader.TryRead(out var arrival))
        {
            if (arrival.Notice is { } notice)
            {
                if (!NoticeFormat.TryParseEndpoint(notice.Destination, out string dstHost, out var dstAddress, out ushort port) || !target.Is(dstHost, dstAddress))
                {
                    continue;
                }

                if (notice.Verb == NoticeVerbs.UdpDenied)
                {
                    // Too many datagrams for the proxy: this probe is silent. Anything else (policy) ends the trace.
                    if (notice.Reason != DeniedReasons.RateLimit)
                    {
                        return $"proxy refused a probe: {NoticeText.Describe(notice)}.";
                    }

                    continue;
                }

                int probe = schedule.Match(port, arrival.At);
                if (probe >= 0)
                {
                    schedule.OnAnswer(probe, TraceAnswer.FromNotice(notice, arrival.At));
                }
            }
            else if (arrival.Source?.Address is { } from && target.Address is { } address && Unmap(from).Equals(address))
            {
                int probe = schedule.Match(arrival.Source.Port, arrival.At);
                if (probe >= 0)
                {
                    schedule.OnAnswer(probe, TraceAnswer.Reply(address, arrival.At));
                }
            }
        }

        return null;
    }

    private void WriteHops(TraceSchedule schedule, bool json)
    {
        while (schedule.TryTakeHop(out var hop))
        {
            _progress.Clear();
            console.Out.WriteLine(json ? TraceReport.ToJson(hop) : TraceReport.ToText(hop));
            console.Out.Flush();
        }
    }

    /// <summary>The exit code, and a line on stderr saying how the trace ended (only when it failed, unless --json).</summary>
    private int Conclude(TraceRequest request, TraceSchedule schedule, Target target, TimeSpan elapsed)
    {
        string seconds = elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture);
        string destination = target.Address is { } a && a.ToString() != target.Host ? $"{target.Host} ({a})" : target.Host;
        if (schedule.FinalHop is not { } hop)
        {
            console.Say($"{destination} not reached in {request.MaxHops} hops ({Probes(schedule.Sent)}, {seconds} s).");
            return ExitCodes.Unreachable;
        }

        var finals = schedule.FinalReplies;
        if (finals.Any(r => r.Kind == TraceAnswer.ReplyKind || (r.Kind == UdpErrorKind.PortUnreachable.ToWireName() && (r.From is null || r.From.Equals(target.Address)))))
        {
            if (request.Json)
            {
                console.Say($"{destination} reached at hop {hop} ({Probes(schedule.Sent)}, {seconds} s).");
            }

            return ExitCodes.Success;
        }

        var stop = finals[0];
        console.Say($"{destination} not reached: {stop.Kind} from {stop.From?.ToString() ?? "an unnamed router"} at hop {hop} ({Probes(schedule.Sent)}, {seconds} s).");
        return ExitCodes.Unreachable;
    }

    /// <summary>Fails with exit code 3 and one line naming what is missing unless the proxy offers SET.</summary>
    private static async Task RequireSetAsync(Socks5UdpAssociation association, ProxySession session, CancellationToken cancellationToken)
    {
        const string Needed = "s5nc trace needs a proxy that offers commands=set (Socks5UdpRelay with Relay:Commands=on)";
        var grace = session.Options.HandshakeTimeout;
        OfferedCommands offered;
        try
        {
            // A server without notices writes nothing at all, so only a timeout can tell.
            offered = await association.SupportedCommands.WaitAsync(grace, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new CliException(ExitCodes.ProxyFailed,
                $"proxy {session.ProxyText} sent no NOTICES greeting within {grace.TotalSeconds.ToString("0.##", CultureInfo.InvariantCulture)} s, so it takes no commands: {Needed}.");
        }

        if ((offered & OfferedCommands.Set) != 0)
        {
            return;
        }

        string said = association.Notices.TryPeek(out var greeting) && greeting.Verb == NoticeVerbs.Notices
            ? $"its greeting \"{greeting.Line}\" offers {(offered == OfferedCommands.None ? "no commands" : $"no SET (commands={OfferedCommandsFormat.ToWireValue(offered)})")}"
            : "it sent no NOTICES greeting, so it takes no commands";
        throw new CliException(ExitCodes.ProxyFailed, $"proxy {session.ProxyText}: {said}: {Needed}.");
    }

    /// <summary><c>SET dst=… ttl=N</c>, retried a few times when the proxy refuses it for its command rate.</summary>
    private async Task<CommandAnswer> SetTtlAsync(Socks5UdpAssociation association, ProxySession session, Target target, int port, int ttl, CancellationToken cancellationToken)
    {
        string host = target.Address?.ToString() ?? target.Host;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                var answer = await association.SetTtlAsync(host, port, ttl, mapping: null, cancellationToken).ConfigureAwait(false);
                if (session.Verbose)
                {
                    console.Say($"answer: {answer.Line}");
                }

                return answer;
            }
            catch (Socks5CommandException e) when (e.Reason == CommandFailureReason.RateLimit && attempt < RateLimitedTries)
            {
                if (session.Verbose)
                {
                    console.Say($"answer: {e.Answer.Line} (trying again in {RateLimitPause.TotalSeconds:0} s)");
                }

                await Task.Delay(RateLimitPause, console.Time, cancellationToken).ConfigureAwait(false);
            }
            catch (Socks5CommandException e) when (e.Reason == CommandFailureReason.Unresolved)
            {
                throw new CliException(ExitCodes.Unreachable, $"{target.Host}: the proxy could not resolve the name ({e.Answer.Line}).");
            }
            catch (Socks5CommandException e)
            {
                throw new CliException(ExitCodes.ProxyFailed, $"proxy {session.ProxyText} refused to set the TTL towards {target.Host} ({e.ReasonText ?? "no reason given"}): '{e.Answer.Line}'.");
            }
            catch (NotSupportedException e)
            {
                throw new CliException(ExitCodes.ProxyFailed, $"proxy {session.ProxyText}: {e.Message}");
            }
            catch (Socks5Exception e)
            {
                throw session.ToCliException(e);
            }
        }
    }

    private Task ReceiveAsync(Socks5UdpAssociation association, CancellationToken cancellationToken)
        => AssociationReaders.ReadRepliesAsync(
            association,
            result => _arrivals.Writer.TryWrite(new Arrival(null, result.Source, console.Time.GetTimestamp())),
            cancellationToken);

    private Task ReadNoticesAsync(Socks5UdpAssociation association, ProxySession session, CancellationToken cancellationToken)
        => AssociationReaders.ReadNoticesAsync(
            association,
            notice =>
            {
                long at = console.Time.GetTimestamp();
                session.Trace(notice);
                if (notice.Verb is NoticeVerbs.UdpError or NoticeVerbs.UdpDenied)
                {
                    _arrivals.Writer.TryWrite(new Arrival(notice, null, at));
                }
            },
            cancellationToken);

    private void ShowProgress(TraceSchedule schedule, int maxHops, long started)
    {
        double seconds = console.Time.GetElapsedTime(started).TotalSeconds;
        _progress.Show($"s5nc: hop {schedule.CurrentHop}/{maxHops}, {Probes(schedule.Sent)} sent, {seconds:0}s");
    }

    private static string Probes(int count) => count == 1 ? "1 probe" : string.Create(CultureInfo.InvariantCulture, $"{count} probes");

    private static IPAddress Unmap(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    /// <summary>A notice (UDP-ERROR, UDP-DENIED) or a reply's source, and when the client read it.</summary>
    private sealed record Arrival(Notice? Notice, Socks5Endpoint? Source, long At);

    /// <summary>The destination as given, and its address once known (at once for a literal, from the first SET-OK for a name).</summary>
    private sealed class Target(string host, IPAddress? address)
    {
        public string Host { get; } = host;

        public IPAddress? Address { get; set; } = address;

        /// <summary>Whether a notice's <c>dst</c> names this destination: its address, or the name as given.</summary>
        public bool Is(string dstHost, IPAddress? dstAddress) =>
            dstAddress is not null
                ? Address is not null && Unmap(dstAddress).Equals(Address)
                : string.Equals(dstHost, Host, StringComparison.OrdinalIgnoreCase);
    }
}
