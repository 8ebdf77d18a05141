using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Client;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Cli.Doctor;

/// <summary>
/// One run of <c>s5nc doctor</c>: the stages in order, each printed as it ends, within one time
/// bound (--timeout). A stage that cannot run because an earlier one failed, or that needs an
/// option not given, is printed as <c>skip</c> with what would make it run.
/// </summary>
internal sealed class DoctorRunner(CliConsole console, DoctorRequest request, Socks5ProxyOptions proxy)
{
    /// <summary>CMD X'05': UDP over the control connection, in hev-socks5-server's wire format (README, "s5nc doctor", stage 7).</summary>
    internal const Socks5Command UdpOverTcpCommand = (Socks5Command)0x05;

    /// <summary>How long after the UDP ASSOCIATE reply a server that speaks notices has sent its greeting.</summary>
    private static readonly TimeSpan GreetingWait = TimeSpan.FromSeconds(1);

    private readonly List<StageResult> _results = [];
    private readonly DoctorReport _report = new(console, request.Json);
    private readonly string _proxyText = ProxyConfiguration.Display(proxy);
    private CancellationTokenSource? _deadline;
    private CancellationToken _token;
    private bool _timedOut;
    private DoctorTiming _timing = DoctorTiming.FromRoundTrip(TimeSpan.Zero);
    private IPAddress _proxyAddress = IPAddress.Loopback;
    private long _associated;
    private bool _redirectedToProxy;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        long started = console.Time.GetTimestamp();
        using var deadline = new CancellationTokenSource(request.Timeout, console.Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        _deadline = deadline;
        _token = linked.Token;
        ProxyDialog? dialog = null;
        RelayChannel? channel = null;
        RelayChannel? other = null;
        try
        {
            (dialog, channel, other) = await RunStagesAsync().ConfigureAwait(false);
        }
        finally
        {
            if (other is not null && other != channel)
            {
                await other.DisposeAsync().ConfigureAwait(false);
            }

            if (channel is not null)
            {
                await channel.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                dialog?.Dispose();
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        return _report.Finish(_results, console.Time.GetElapsedTime(started));
    }

    private async Task<(ProxyDialog?, RelayChannel?, RelayChannel?)> RunStagesAsync()
    {
        // 1. TCP to the proxy.
        ProxyDialog? dialog = null;
        var reached = await StageAsync(DoctorStage.Proxy, async () =>
        {
            var outcome = await ProxyDialog.ConnectAsync(proxy.Host, proxy.Port, proxy.ConnectTimeout, _token).ConfigureAwait(false);
            dialog = outcome.Dialog;
            if (dialog is not null)
            {
                _proxyAddress = dialog.ProxyAddress;
                _timing = DoctorTiming.FromRoundTrip(outcome.Failures.Count == 0 ? outcome.Elapsed : TimeSpan.Zero);
            }

            return HandshakeVerdicts.Connect(outcome, _proxyText);
        }).ConfigureAwait(false);
        if (dialog is null)
        {
            SkipFrom(DoctorStage.Authentication, $"needs a TCP connection to the proxy (stage {(int)DoctorStage.Proxy})");
            return (null, null, null);
        }

        // 2. Methods and authentication.
        var methods = await StageAsync(DoctorStage.Authentication, () => HandshakeStepAsync(
            DoctorStage.Authentication,
            async token => HandshakeVerdicts.Methods(await dialog.NegotiateAsync(proxy.Credentials, token).ConfigureAwait(false), proxy.Credentials?.UserName),
            "the proxy accepted TCP but sent no method selection: is this port a SOCKS5 server?")).ConfigureAwait(false);
        if (methods.IsFailure)
        {
            SkipFrom(DoctorStage.Associate, $"needs the proxy to accept this client (stage {(int)DoctorStage.Authentication})");
            return (dialog, null, null);
        }

        // 3. UDP ASSOCIATE with 0.0.0.0:0, as most clients send it.
        Socks5Endpoint? bound = null;
        var associate = await StageAsync(DoctorStage.Associate, () => HandshakeStepAsync(
            DoctorStage.Associate,
            async token =>
            {
                var outcome = await dialog.RequestAsync(Socks5Command.UdpAssociate, ZeroEndpoint(), token).ConfigureAwait(false);
                bound = outcome.Reply == ReplyCode.Succeeded ? outcome.Bound : null;
                _associated = console.Time.GetTimestamp();
                return HandshakeVerdicts.Associate(outcome);
            },
            "the proxy sent no reply to UDP ASSOCIATE")).ConfigureAwait(false);
        if (bound is null || associate.IsFailure)
        {
            SkipFrom(DoctorStage.RelayAddress, $"needs an association (stage {(int)DoctorStage.Associate})");
            return (dialog, null, null);
        }

        // 4. The relay address.
        RelayChannel? channel = null;
        await StageAsync(DoctorStage.RelayAddress, async () =>
        {
            var (result, opened) = await RelayAddressAsync(dialog, bound).ConfigureAwait(false);
            channel = opened;
            return result;
        }).ConfigureAwait(false);
        if (channel is null)
        {
            SkipFrom(DoctorStage.Datagrams, $"needs a relay address to send to (stage {(int)DoctorStage.RelayAddress})");
            return (dialog, null, null);
        }

        // 5. Datagrams through the relay.
        var probe = request.Target is { } target ? DatagramProbe.Reply(target) : request.Dns is { } dns ? DatagramProbe.Dns(dns) : null;
        DatagramOutcome? datagrams = null;
        var relayed = await StageAsync(DoctorStage.Datagrams, async () =>
        {
            bool notices = IsGreeting(await GreetingAsync(channel).ConfigureAwait(false));
            var stage = new DatagramStage(channel, probe, request.Closed, probe?.Target ?? request.Closed ?? DoctorTarget.From(new IPEndPoint(_proxyAddress, 9)),
                notices, _timing, OpenNamedAsync, console.Time);
            datagrams = await stage.RunAsync(_token).ConfigureAwait(false);
            return datagrams.Result;
        }).ConfigureAwait(false);
        var usable = datagrams?.Working ?? (relayed.Verdict == Verdict.Skip && !_timedOut ? channel : null);

        // 6. Notices and commands.
        await StageAsync(DoctorStage.Notices, async () => NoticesVerdict(await GreetingAsync(channel).ConfigureAwait(false))).ConfigureAwait(false);

        // 7. UDP over TCP.
        await StageAsync(DoctorStage.UdpOverTcp, () => UdpOverTcpAsync(relayed)).ConfigureAwait(false);

        // 8 to 10 need datagrams to pass.
        string needsDatagrams = $"needs datagrams to pass the relay (stage {(int)DoctorStage.Datagrams})";
        await StageAsync(DoctorStage.Nat, () => request.Stun is not { } stun
            ? Task.FromResult(StageResult.Skip(DoctorStage.Nat, "not asked", "give --stun HOST:PORT (a STUN server with two addresses: RFC 5780, or RFC 3489 such as stund) to classify the relay's NAT behaviour"))
            : usable is null ? Task.FromResult(StageResult.Skip(DoctorStage.Nat, needsDatagrams))
            : new NatStage(usable, stun, _timing).RunAsync(_token)).ConfigureAwait(false);

        await StageAsync(DoctorStage.Mtu, () => datagrams is { Echo: true, Working: { } echoing }
            ? new MtuStage(echoing, request.Target!, probe!.Payload.Length, _timing).RunAsync(_token)
            : Task.FromResult(StageResult.Skip(DoctorStage.Mtu,
                request.Target is null ? "no echo responder" : datagrams?.Working is null ? needsDatagrams : $"{request.Target} answered, but not with an echo of what was sent",
                "give --target HOST:PORT of an echo responder (RFC 862) to find the largest datagram that makes the round trip"))).ConfigureAwait(false);

        await StageAsync(DoctorStage.Idle, () => request.Idle is not { } idle
            ? Task.FromResult(StageResult.Skip(DoctorStage.Idle, "not tested by default (it takes minutes)", "give --idle SECONDS to check that an association survives a quiet period"))
            : usable is null ? Task.FromResult(StageResult.Skip(DoctorStage.Idle, needsDatagrams))
            : new IdleStage(usable, datagrams?.RoundTrip is null ? null : probe, idle, _timing, console.Time).RunAsync(_token)).ConfigureAwait(false);

        return (dialog, channel, datagrams?.Working);
    }

    /// <summary>Runs one stage: progress, the time bound, and the line printed.</summary>
    private async Task<StageResult> StageAsync(DoctorStage stage, Func<Task<StageResult>> run)
    {
        StageResult result;
        if (_timedOut)
        {
            result = StageResult.Skip(stage, $"not run: --timeout ({request.Timeout.TotalSeconds:0.#} s) was reached");
        }
        else
        {
            _report.Progress(stage);
            try
            {
                result = await run().ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_deadline!.IsCancellationRequested)
            {
                _timedOut = true;
                result = StageResult.Fail(stage, stage.DefaultSide(), $"--timeout ({request.Timeout.TotalSeconds:0.#} s) was reached during this stage",
                    "give doctor more time with --timeout SECONDS");
            }
            catch (SocketException e)
            {
                // Every socket doctor holds leads to the proxy or its relay.
                result = StageResult.Fail(stage, FailureSide.Proxy, $"a socket error: {e.Message} ({e.SocketErrorCode})");
            }
        }

        _results.Add(result);
        _report.Write(result);
        return result;
    }

    private void SkipFrom(DoctorStage first, string why)
    {
        foreach (var stage in DoctorStages.All.Where(s => s >= first))
        {
            var result = StageResult.Skip(stage, why);
            _results.Add(result);
            _report.Write(result);
        }
    }

    /// <summary>A step of the SOCKS5 handshake within the proxy's handshake timeout.</summary>
    private async Task<StageResult> HandshakeStepAsync(DoctorStage stage, Func<CancellationToken, Task<StageResult>> step, string silence)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_token);
        var limit = proxy.HandshakeTimeout;
        deadline.CancelAfter(limit);
        try
        {
            return await step(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!_token.IsCancellationRequested)
        {
            return StageResult.Fail(stage, FailureSide.Proxy, $"{silence} (waited {limit.TotalSeconds:0.#} s)",
                "check that the port is a SOCKS5 server's; a slow proxy needs a longer --connect-timeout");
        }
    }

    private async Task<(StageResult, RelayChannel?)> RelayAddressAsync(ProxyDialog dialog, Socks5Endpoint bound)
    {
        if (bound.Host is { } name)
        {
            // RFC 1928 allows a name here; none of the usual servers sends one.
            IPAddress[] addresses;
            try
            {
                addresses = await Dns.GetHostAddressesAsync(name, _token).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                return (StageResult.Fail(DoctorStage.RelayAddress, FailureSide.Proxy, $"the relay is named '{name}', which does not resolve here: {e.Message}",
                    "the proxy must advertise an address, or a name clients can resolve"), null);
            }

            var address = addresses.FirstOrDefault(a => a.AddressFamily == _proxyAddress.AddressFamily) ?? addresses.FirstOrDefault();
            if (address is null)
            {
                return (StageResult.Fail(DoctorStage.RelayAddress, FailureSide.Proxy, $"the relay is named '{name}', which has no addresses"), null);
            }

            bound = new Socks5Endpoint(address, bound.Port);
        }

        var plan = RelayAddressCheck.Plan(_proxyAddress, bound, speaksNotices: false);
        if (plan.Relay is null)
        {
            return (plan.Problem!, null);
        }

        var asProxy = new IPEndPoint(_proxyAddress, bound.Port);
        var first = plan.Problem is not null && plan.Fallback is { } fallback ? fallback : plan.Relay;
        RelayChannel channel;
        try
        {
            channel = RelayChannel.Start(dialog, RelayChannel.BindUdp(dialog, first.AddressFamily), first, console.Time);
        }
        catch (SocketException e)
        {
            // UDP connect is a route lookup: no route of that family from here.
            channel = RelayChannel.Start(dialog, RelayChannel.BindUdp(dialog, asProxy.AddressFamily), asProxy, console.Time);
            _redirectedToProxy = true;
            return (StageResult.Fail(DoctorStage.RelayAddress, FailureSide.Proxy,
                $"{plan.Note}, and this host cannot send there ({e.SocketErrorCode}); doctor goes on with the proxy's own address {RelayAddressCheck.Endpoint(asProxy)}",
                RelayAddressCheck.AdvertiseFix(IsGreeting(await GreetingAsync(channel).ConfigureAwait(false)), _proxyAddress)), channel);
        }

        _redirectedToProxy = !first.Equals(plan.Relay);
        if (plan.Problem is { } problem)
        {
            bool ours = IsGreeting(await GreetingAsync(channel).ConfigureAwait(false));
            var named = RelayAddressCheck.Plan(_proxyAddress, bound, ours).Problem!;
            return (named with { Saw = $"{named.Saw}; doctor goes on with the proxy's own address {RelayAddressCheck.Endpoint(asProxy)}" }, channel);
        }

        if (await RelayRefusesAsync(channel).ConfigureAwait(false) is { } refused)
        {
            string saw = $"{RelayAddressCheck.Endpoint(channel.Relay)}: our own UDP socket got {RelayEventText.Icmp(refused)} for a datagram sent there, so nothing takes UDP at that address and port";
            if (!channel.Relay.Equals(asProxy))
            {
                await channel.RedirectAsync(asProxy).ConfigureAwait(false);
                _redirectedToProxy = true;
                bool alsoRefused = await RelayRefusesAsync(channel).ConfigureAwait(false) is not null;
                saw += alsoRefused
                    ? $"; the proxy's own address {RelayAddressCheck.Endpoint(asProxy)} refused too"
                    : $"; at the proxy's own address {RelayAddressCheck.Endpoint(asProxy)} nothing refused, and doctor goes on with it";
            }

            bool ours = IsGreeting(await GreetingAsync(channel).ConfigureAwait(false));
            return (StageResult.Fail(DoctorStage.RelayAddress, FailureSide.Proxy, saw,
                channel.Relay.Address.Equals(plan.Relay.Address) && plan.Relay.Address.Equals(_proxyAddress)
                    ? "the relay port is closed already, or a firewall rejects UDP to it: open the relay's UDP ports (Socks5UdpRelay: Relay:UdpPortRange)"
                    : RelayAddressCheck.AdvertiseFix(ours, _proxyAddress),
                new Dictionary<string, object?> { ["relay"] = RelayAddressCheck.Endpoint(plan.Relay), ["using"] = RelayAddressCheck.Endpoint(channel.Relay) }), channel);
        }

        var facts = new Dictionary<string, object?> { ["relay"] = RelayAddressCheck.Endpoint(plan.Relay) };
        string clean = $"{plan.Note}; a datagram sent there drew no ICMP error";
        return (plan.Fallback is not null ? StageResult.Warn(DoctorStage.RelayAddress, clean, facts: facts) : StageResult.Ok(DoctorStage.RelayAddress, clean, facts), channel);
    }

    /// <summary>
    /// Sends the relay a datagram too short to hold a SOCKS header (every server drops it) and
    /// listens for an ICMP error on our own socket: a closed port or an unreachable address says so.
    /// </summary>
    private async Task<SocketError?> RelayRefusesAsync(RelayChannel channel)
    {
        channel.Drain();
        await channel.SendRawAsync(new byte[3], _token).ConfigureAwait(false);
        var seen = await channel.WaitAsync(e => e.Kind == RelayEventKind.SocketError, _timing.IcmpWait, _token).ConfigureAwait(false);
        return seen?.Error;
    }

    /// <summary>
    /// A second association whose request names this client's UDP address (RFC 1928 §7), for
    /// servers that relay replies only to the address named there. Null when it cannot be opened.
    /// </summary>
    private async Task<RelayChannel?> OpenNamedAsync(CancellationToken cancellationToken)
    {
        var connected = await ProxyDialog.ConnectAsync(proxy.Host, proxy.Port, proxy.ConnectTimeout, cancellationToken).ConfigureAwait(false);
        if (connected.Dialog is not { } dialog)
        {
            return null;
        }

        Socket? udp = null;
        try
        {
            using var step = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            step.CancelAfter(proxy.HandshakeTimeout);
            var methods = await dialog.NegotiateAsync(proxy.Credentials, step.Token).ConfigureAwait(false);
            if (HandshakeVerdicts.Methods(methods, proxy.Credentials?.UserName).IsFailure)
            {
                dialog.Dispose();
                return null;
            }

            udp = RelayChannel.BindUdp(dialog, _proxyAddress.AddressFamily);
            var local = (IPEndPoint)udp.LocalEndPoint!;
            var reply = await dialog.RequestAsync(Socks5Command.UdpAssociate, local, step.Token).ConfigureAwait(false);
            if (reply.Reply != ReplyCode.Succeeded || reply.Bound is not { Address: { } address, Port: > 0 } bound)
            {
                udp.Dispose();
                dialog.Dispose();
                return null;
            }

            address = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
            var relay = _redirectedToProxy || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.AddressFamily != _proxyAddress.AddressFamily
                ? new IPEndPoint(_proxyAddress, bound.Port)
                : new IPEndPoint(address, bound.Port);
            return RelayChannel.Start(dialog, udp, relay, console.Time);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !_token.IsCancellationRequested)
        {
            udp?.Dispose();
            dialog.Dispose();
            return null;
        }
    }

    /// <summary>The first line on the control connection, waiting until a second after the reply for it; null when there is none.</summary>
    private async Task<string?> GreetingAsync(RelayChannel channel)
    {
        var left = GreetingWait - console.Time.GetElapsedTime(_associated);
        if (channel.FirstLine.IsCompleted || left <= TimeSpan.Zero)
        {
            return channel.FirstLine.IsCompleted ? await channel.FirstLine.ConfigureAwait(false) : null;
        }

        try
        {
            return await channel.FirstLine.WaitAsync(left, console.Time, _token).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    private static bool IsGreeting(string? line) => line is not null && Notice.TryParse(line, out var notice) && notice.Verb == NoticeVerbs.Notices;

    private static StageResult NoticesVerdict(string? line)
    {
        const string Without = "without notices, `s5nc probe` cannot tell a closed port from open|filtered, `s5nc send` cannot report an unreachable destination, and `s5nc trace` cannot run";
        if (line is null)
        {
            return StageResult.Warn(DoctorStage.Notices, $"no NOTICES line on the control connection: this server does not report ICMP errors; {Without}",
                "use a server that sends notices (Socks5UdpRelay with Relay:Notices=on, the default)",
                new Dictionary<string, object?> { ["notices"] = false });
        }

        if (!Notice.TryParse(line, out var greeting) || greeting.Verb != NoticeVerbs.Notices)
        {
            return StageResult.Warn(DoctorStage.Notices, $"the first line on the control connection is not a greeting: \"{line}\"; {Without}",
                facts: new Dictionary<string, object?> { ["notices"] = false });
        }

        string[] commands = greeting["commands"] is { Length: > 0 } list ? list.Split(',') : [];
        var facts = new Dictionary<string, object?>
        {
            ["notices"] = true,
            ["version"] = greeting.Version,
            ["commands"] = string.Join(',', commands),
        };
        string said = $"\"{line}\": the server reports ICMP errors, so `s5nc probe` tells closed ports and `s5nc send` reports unreachable destinations";
        return commands.Contains("set", StringComparer.Ordinal)
            ? StageResult.Ok(DoctorStage.Notices, $"{said}; commands {string.Join(',', commands)}: `s5nc trace` works", facts)
            : StageResult.Warn(DoctorStage.Notices,
                $"{said}; {(commands.Length == 0 ? "no commands offered" : $"commands {string.Join(',', commands)} without set")}: `s5nc trace` needs commands=set",
                "a server that offers the SET command (Socks5UdpRelay with Relay:Commands=on) makes `s5nc trace` work",
                facts);
    }

    /// <summary>Stage 7: CMD X'05' on a connection of its own; answered success (offered) or 0x07 (not offered).</summary>
    private async Task<StageResult> UdpOverTcpAsync(StageResult datagrams)
    {
        var connected = await ProxyDialog.ConnectAsync(proxy.Host, proxy.Port, proxy.ConnectTimeout, _token).ConfigureAwait(false);
        if (connected.Dialog is not { } dialog)
        {
            return StageResult.Warn(DoctorStage.UdpOverTcp, "could not test: a second connection to the proxy failed");
        }

        using (dialog)
        {
            var result = await HandshakeStepAsync(DoctorStage.UdpOverTcp, async token =>
            {
                var methods = await dialog.NegotiateAsync(proxy.Credentials, token).ConfigureAwait(false);
                if (HandshakeVerdicts.Methods(methods, proxy.Credentials?.UserName).IsFailure)
                {
                    return StageResult.Warn(DoctorStage.UdpOverTcp, "could not test: the second connection was not accepted");
                }

                var outcome = await dialog.RequestAsync(UdpOverTcpCommand, ZeroEndpoint(), token).ConfigureAwait(false);
                bool needed = datagrams.Verdict is Verdict.Fail or Verdict.Unknown;
                var facts = new Dictionary<string, object?> { ["offered"] = outcome.Reply == ReplyCode.Succeeded, ["reply"] = outcome.Reply is { } r ? (int)r : null };
                return outcome switch
                {
                    { Reply: ReplyCode.Succeeded } => StageResult.Ok(DoctorStage.UdpOverTcp,
                        "offered: CMD 0x05 answered with success, so where UDP to the relay is blocked, datagrams can ride the TCP connection (hev-socks5-tunnel's `udp: tcp`)", facts),
                    { Reply: ReplyCode.CommandNotSupported } when !needed => StageResult.Ok(DoctorStage.UdpOverTcp,
                        "not offered (CMD 0x05 answered 0x07, command not supported); not needed here, since datagrams pass the relay", facts),
                    { Reply: ReplyCode.CommandNotSupported } => StageResult.Warn(DoctorStage.UdpOverTcp,
                        "not offered (CMD 0x05 answered 0x07, command not supported): where UDP to the relay is blocked, this server has no way over TCP",
                        "a server that offers UDP over TCP (Socks5UdpRelay: Relay:UdpOverTcp=on) carries datagrams on the TCP connection", facts),
                    { Reply: { } code } => StageResult.Warn(DoctorStage.UdpOverTcp, $"CMD 0x05 answered 0x{(byte)code:X2} ({Socks5Reply.Describe(code)}): not offered to this client", facts: facts),
                    _ => StageResult.Warn(DoctorStage.UdpOverTcp, $"no reply to CMD 0x05: {outcome.Problem}", facts: facts),
                };
            }, "no reply to CMD 0x05").ConfigureAwait(false);

            // A server that never answers an unknown command only lacks the feature: a warning, never a failure.
            return result.Verdict == Verdict.Fail ? result with { Verdict = Verdict.Warn, Side = FailureSide.None } : result;
        }
    }

    private IPEndPoint ZeroEndpoint() => new(_proxyAddress.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
}
