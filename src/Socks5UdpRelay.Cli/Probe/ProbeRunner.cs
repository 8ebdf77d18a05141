using System.Threading.Channels;
using Socks5UdpRelay.Client;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Cli.Probe;

/// <summary>
/// One run of <c>probe</c>: the scheduler decides, this sends on one association and feeds the
/// scheduler what comes back (replies on the UDP socket, notices on the control connection).
/// </summary>
internal sealed class ProbeRunner(CliConsole console)
{
    private static readonly TimeSpan NoticeGrace = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan NoticeLineWait = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromMilliseconds(500);

    private readonly Channel<Answer> _answers = Channel.CreateUnbounded<Answer>(new UnboundedChannelOptions { SingleReader = true });
    private readonly HashSet<int> _failedHosts = [];
    private bool _warnedNoNotices;
    private readonly ProgressLine _progress = new(console);

    public async Task<int> RunAsync(ProbeRequest request, ProxySession session, CancellationToken cancellationToken)
    {
        var hosts = await ExpandHostsAsync(request, cancellationToken).ConfigureAwait(false);
        var targets = new ProbeTargets(hosts, request.Ports, request.Payload, request.Builtin);
        var scheduler = new ProbeScheduler([.. targets.All.Select(t => t.HostIndex)], hosts.Count, request.Pacing, console.Time);
        long started = console.Time.GetTimestamp();

        await using var association = await session.OpenAsync(cancellationToken).ConfigureAwait(false);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var receiving = ReceiveAsync(association, targets, stop.Token);
        var reading = ReadNoticesAsync(association, session, targets, stop.Token);

        bool interrupted = false;
        string? proxyEnded = null;
        try
        {
            proxyEnded = await DriveAsync(scheduler, association, targets, session, started, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            interrupted = true;
        }

        catch (System.Net.Sockets.SocketException e)
        {
            proxyEnded = $"sending to the relay of proxy {session.ProxyText} failed: {e.Message}";
        }

        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(receiving, reading).ConfigureAwait(false);
        _progress.Clear();
        if (!association.NoticesSupported.IsCompleted && !interrupted)
        {
            // A probe on loopback can end before the control connection's first line is read.
            await Task.WhenAny(association.NoticesSupported, Task.Delay(NoticeLineWait, console.Time, CancellationToken.None)).ConfigureAwait(false);
        }

        WarnIfNoNotices(association);

        var elapsed = console.Time.GetElapsedTime(started);
        new ProbeReport(console, request.All, request.Json).Write(targets, scheduler, elapsed, interrupted || proxyEnded is not null);
        if (proxyEnded is not null)
        {
            console.Say(proxyEnded);
            return ExitCodes.ProxyFailed;
        }

        return interrupted ? ExitCodes.Interrupted : _failedHosts.Count > 0 ? ExitCodes.Unreachable : ExitCodes.Success;
    }

    private async Task<IReadOnlyList<string>> ExpandHostsAsync(ProbeRequest request, CancellationToken cancellationToken)
    {
        if (HostRange.TryExpand(request.Host, request.MaxHosts, out var block))
        {
            if (request.Family is { } family && block[0].AddressFamily != family)
            {
                throw CliException.Usage($"{(family == System.Net.Sockets.AddressFamily.InterNetwork ? "-4" : "-6")}: '{request.Host}' is a block of the other family.");
            }

            return [.. block.Select(a => a.ToString())];
        }

        return [await DestinationHost.ResolveAsync(request.Host, request.Family, cancellationToken).ConfigureAwait(false)];
    }

    /// <summary>Runs the schedule to its end; returns why the proxy ended the association if it did.</summary>
    private async Task<string?> DriveAsync(
        ProbeScheduler scheduler, Socks5UdpAssociation association, ProbeTargets targets, ProxySession session, long started, CancellationToken cancellationToken)
    {
        long lastProgress = started;
        var pacedSeen = new bool[targets.Hosts.Count];
        while (true)
        {
            while (_answers.Reader.TryRead(out var answer))
            {
                Apply(scheduler, targets, answer);
            }

            if (association.Closed.IsCompleted)
            {
                return $"proxy {session.ProxyText} ended the UDP association before the probe was done.";
            }

            ReportPacing(scheduler, targets, session, pacedSeen);
            var step = scheduler.Next();
            if (step.Kind == ProbeStepKind.Done)
            {
                return null;
            }

            if (step.Kind == ProbeStepKind.Send)
            {
                var target = targets.All[step.Target];
                await association.SendAsync(target.Host, target.Port, target.Payload, cancellationToken).ConfigureAwait(false);
                continue;
            }

            try
            {
                await _answers.Reader.WaitToReadAsync(cancellationToken).AsTask()
                    .WaitAsync(step.Wait, console.Time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }

            if (console.Time.GetElapsedTime(started) > NoticeGrace)
            {
                WarnIfNoNotices(association);
            }

            if (console.IsErrorTerminal && console.Time.GetElapsedTime(lastProgress) >= ProgressEvery)
            {
                lastProgress = console.Time.GetTimestamp();
                ShowProgress(scheduler, started);
            }
        }
    }

    private void Apply(ProbeScheduler scheduler, ProbeTargets targets, Answer answer)
    {
        switch (answer.Kind)
        {
            case AnswerKind.Reply:
                scheduler.OnReply(answer.Target);
                break;
            case AnswerKind.Error:
                var notice = answer.Notice!;
                var kind = notice.ErrorKind ?? UdpErrorKind.Unknown;
                scheduler.OnError(answer.Target, kind == UdpErrorKind.PortUnreachable, kind.ToWireName(), notice.From);
                break;
            case AnswerKind.Denied when answer.Notice!.Reason == DeniedReasons.RateLimit:
                scheduler.OnProxyRateLimit(answer.Target);
                break;
            case AnswerKind.Denied:
                scheduler.OnDenied(answer.Target);
                break;
            case AnswerKind.Unresolved:
                int host = targets.All[answer.Target].HostIndex;
                if (_failedHosts.Add(host))
                {
                    console.Say($"{targets.Hosts[host]}: the proxy could not resolve the name ({answer.Notice!.Reason ?? "no reason given"}); no verdicts for this host.");
                    scheduler.OnHostError(host, answer.Notice.Reason ?? "unresolved");
                }

                break;
        }
    }

    private Task ReceiveAsync(Socks5UdpAssociation association, ProbeTargets targets, CancellationToken cancellationToken)
        => AssociationReaders.ReadRepliesAsync(
            association,
            result =>
            {
                int target = targets.FindBySource(result.Source);
                if (target >= 0)
                {
                    _answers.Writer.TryWrite(new Answer(AnswerKind.Reply, target, null));
                }
            },
            cancellationToken);

    private Task ReadNoticesAsync(Socks5UdpAssociation association, ProxySession session, ProbeTargets targets, CancellationToken cancellationToken)
        => AssociationReaders.ReadNoticesAsync(
            association,
            notice =>
            {
                session.Trace(notice);
                var kind = notice.Verb switch
                {
                    NoticeVerbs.UdpError => AnswerKind.Error,
                    NoticeVerbs.UdpDenied => AnswerKind.Denied,
                    NoticeVerbs.UdpUnresolved => AnswerKind.Unresolved,
                    _ => (AnswerKind?)null,
                };
                int target = targets.FindByNotice(notice.Destination);
                if (kind is { } k && target >= 0)
                {
                    _answers.Writer.TryWrite(new Answer(k, target, notice));
                }
            },
            cancellationToken);

    private void ReportPacing(ProbeScheduler scheduler, ProbeTargets targets, ProxySession session, bool[] pacedSeen)
    {
        for (int h = 0; h < pacedSeen.Length; h++)
        {
            if (!pacedSeen[h] && scheduler.IsPaced(h))
            {
                pacedSeen[h] = true;
                if (session.Verbose)
                {
                    console.Say($"{targets.Hosts[h]} rate-limits its ICMP errors: probing it at its pace from now on.");
                }
            }
        }
    }

    /// <summary>Says once that this proxy cannot tell closed from silent, when it has sent no NOTICES line.</summary>
    private void WarnIfNoNotices(Socks5UdpAssociation association)
    {
        if (_warnedNoNotices || association.NoticesSupported is { IsCompletedSuccessfully: true, Result: true })
        {
            return;
        }

        _warnedNoNotices = true;
        _progress.Clear();
        console.Say("warning: the proxy sent no NOTICES line, so it does not report ICMP errors: "
            + "closed ports cannot be told apart from open|filtered through it.");
    }

    private void ShowProgress(ProbeScheduler scheduler, long started)
    {
        double seconds = console.Time.GetElapsedTime(started).TotalSeconds;
        _progress.Show($"s5nc: {scheduler.DecidedCount}/{scheduler.Count} ports decided, {scheduler.Sent} datagrams sent, {seconds:0}s");
    }

    private enum AnswerKind
    {
        Reply,
        Error,
        Denied,
        Unresolved,
    }

    private readonly record struct Answer(AnswerKind Kind, int Target, Notice? Notice);
}
