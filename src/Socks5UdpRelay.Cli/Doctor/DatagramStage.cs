using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Cli.Doctor;

/// <summary>
/// Stage 5: do datagrams actually make it through the relay? A round trip to --target or --dns;
/// a closed port (--closed) that a server with notices reports; and, where silence alone cannot
/// tell, two more questions: does the relay receive our datagrams at all (a server with notices
/// reports a fragment, which RFC 1928 §7 makes it drop), and does it answer a client that names
/// its UDP address in the request (some servers, hpsockd among them, send replies nowhere else)?
/// </summary>
internal sealed class DatagramStage(
    RelayChannel channel,
    DatagramProbe? probe,
    DoctorTarget? closed,
    DoctorTarget fragmentTarget,
    bool notices,
    DoctorTiming timing,
    Func<CancellationToken, Task<RelayChannel?>> openNamed,
    TimeProvider time)
{
    private const string GiveTarget = "give --target HOST:PORT (an echo or any UDP service that answers), --dns SERVER, or --closed HOST:PORT (a port known to be closed)";

    public async Task<DatagramOutcome> RunAsync(CancellationToken cancellationToken)
    {
        if (probe is not null)
        {
            var first = await RoundTripAsync(channel, probe, timing, time, cancellationToken).ConfigureAwait(false);
            if (first.Result is { } decided)
            {
                return new DatagramOutcome(decided, first.Answered ? channel : null, first.Elapsed, first.Echo);
            }
        }

        bool? reached = null;
        if (closed is not null)
        {
            var verdict = await ClosedPortAsync(cancellationToken).ConfigureAwait(false);
            if (verdict is { Verdict: Verdict.Ok } && probe is null)
            {
                return new DatagramOutcome(verdict, channel, null, false);
            }

            if (verdict is { Verdict: Verdict.Ok })
            {
                reached = true;
            }
            else if (verdict is not null)
            {
                return new DatagramOutcome(verdict, null, null, false);
            }
        }

        if (notices && reached is null)
        {
            reached = await FragmentReportedAsync(cancellationToken).ConfigureAwait(false);
        }

        string relay = RelayAddressCheck.Endpoint(channel.Relay);
        if (probe is null && closed is null)
        {
            return new DatagramOutcome(
                reached switch
                {
                    true => StageResult.Warn(DoctorStage.Datagrams, $"datagrams reach the relay {relay}: it reported the fragment doctor sent (UDP-DENIED reason=fragmented); no round trip tested", GiveTarget),
                    false => NotReached(relay),
                    null => StageResult.Skip(DoctorStage.Datagrams, "nothing to send to, and this server sends no notices", GiveTarget),
                },
                reached == true ? channel : null,
                null,
                false);
        }

        if (reached == false)
        {
            return new DatagramOutcome(NotReached(relay), null, null, false);
        }

        if (probe is null)
        {
            return new DatagramOutcome(
                notices
                    ? StageResult.Unknown(DoctorStage.Datagrams, FailureSide.Path,
                        $"the relay {relay} receives datagrams (it reported a fragment) but did not report {closed} closed: the port is open, or a firewall beyond the relay drops without an ICMP error",
                        "give --target HOST:PORT to test a round trip")
                    : StageResult.Unknown(DoctorStage.Datagrams, FailureSide.Proxy,
                        $"nothing came back for {closed}, and this server sends no notices: through it a closed port proves nothing (the relay may be unreachable, or it relays and reports nothing)",
                        "give --target HOST:PORT or --dns SERVER to test a round trip"),
                null,
                null,
                false);
        }

        // Silence from the service. Ask once more as the few clients that name their UDP address ask.
        var named = await openNamed(cancellationToken).ConfigureAwait(false);
        if (named is not null)
        {
            var again = await RoundTripAsync(named, probe, timing, time, cancellationToken).ConfigureAwait(false);
            if (again.Answered)
            {
                return new DatagramOutcome(
                    StageResult.Warn(DoctorStage.Datagrams,
                        $"no answer when the request named 0.0.0.0:0 (as most clients send it), but a round trip to {probe.Target} in {HandshakeVerdicts.Milliseconds(again.Elapsed!.Value)} when it named this client's UDP address {RelayAddressCheck.Endpoint(named.Local)}: the server relays replies only to a client that names its address",
                        "use a client that sends its UDP address and port in UDP ASSOCIATE (RFC 1928, section 7), or a server that learns it from the first datagram",
                        new Dictionary<string, object?> { ["needs_client_address"] = true, ["rtt_ms"] = Math.Round(again.Elapsed.Value.TotalMilliseconds, 2) }),
                    named,
                    again.Elapsed,
                    again.Echo);
            }

            await named.DisposeAsync().ConfigureAwait(false);
        }

        if (reached == true)
        {
            return new DatagramOutcome(
                StageResult.Fail(DoctorStage.Datagrams, FailureSide.Path,
                    $"{probe.Target} never answered {probe.What}, though datagrams reach the relay {relay} (it reported a fragment doctor sent) and the relay reported no ICMP error",
                    $"{probe.Target} ignores the datagram (no such service there?), or a firewall beyond the relay drops it or its reply without an ICMP error"),
                null,
                null,
                false);
        }

        return new DatagramOutcome(
            StageResult.Unknown(DoctorStage.Datagrams, FailureSide.Proxy,
                $"nothing came back from {probe.Target} through the relay {relay}, not even when the request named this client's address, and this server sends no notices: either UDP to {relay} is dropped on the way (a firewall, NAT), or the server drops the datagrams (its rules, or the reply's way back); silence cannot tell which",
                $"look for the datagram in the proxy's log or with tcpdump on its host; or test a server that sends notices"),
            null,
            null,
            false);
    }

    private static StageResult NotReached(string relay) => StageResult.Fail(DoctorStage.Datagrams, FailureSide.Proxy,
        $"datagrams do not reach the relay {relay}: this server sends notices, and it did not report the fragment doctor sent (nor any datagram), and no ICMP error came back",
        "UDP to the relay's address and port is dropped on the way (a firewall, a security group, NAT): allow UDP to the relay's ports (Socks5UdpRelay: the Relay:UdpPortRange ports), and check the advertised address");

    /// <summary>Up to <see cref="DoctorTiming.Tries"/> sends of <paramref name="service"/>'s probe: the first answer, notice, socket error or end decides; null Result is silence.</summary>
    internal static async Task<RoundTrip> RoundTripAsync(RelayChannel on, DatagramProbe service, DoctorTiming timing, TimeProvider time, CancellationToken cancellationToken)
    {
        on.Drain();
        for (int attempt = 0; attempt < DoctorTiming.Tries; attempt++)
        {
            long sent = time.GetTimestamp();
            await on.SendAsync(service.Target, service.Payload, cancellationToken).ConfigureAwait(false);
            var seen = await on.WaitAsync(e => e.Kind switch
            {
                RelayEventKind.Datagram => service.Target.IsSource(e.Source!) && service.IsAnswer(e.Payload!),
                RelayEventKind.Notice => RelayEventText.IsAbout(e.Notice!, service.Target),
                _ => true,
            }, timing.ReplyWait, cancellationToken).ConfigureAwait(false);

            switch (seen?.Kind)
            {
                case RelayEventKind.Datagram:
                    var rtt = time.GetElapsedTime(sent, seen.Timestamp);
                    bool echo = service.IsEcho(seen.Payload!);
                    string what = echo ? $"an echo of {service.Payload.Length} bytes"
                        : service.What.StartsWith("a DNS", StringComparison.Ordinal) ? $"a DNS answer (RCODE {DatagramProbe.DnsRcode(seen.Payload!)})"
                        : $"a reply of {seen.Payload!.Length} bytes";
                    return new RoundTrip(
                        StageResult.Ok(DoctorStage.Datagrams, $"{what} from {service.Target} through the relay {RelayAddressCheck.Endpoint(on.Relay)} in {HandshakeVerdicts.Milliseconds(rtt)}",
                            new Dictionary<string, object?> { ["rtt_ms"] = Math.Round(rtt.TotalMilliseconds, 2), ["echo"] = echo }),
                        true, rtt, echo);
                case RelayEventKind.Notice:
                    return new RoundTrip(RelayEventText.FromNotice(seen.Notice!, service.Target), false, null, false);
                case RelayEventKind.SocketError:
                    return new RoundTrip(SocketErrorVerdict(on, seen.Error), false, null, false);
                case RelayEventKind.Closed:
                    return new RoundTrip(ClosedVerdict(), false, null, false);
            }
        }

        return new RoundTrip(null, false, null, false);
    }

    private async Task<StageResult?> ClosedPortAsync(CancellationToken cancellationToken)
    {
        var port = closed!;
        channel.Drain();
        for (int attempt = 0; attempt < DoctorTiming.Tries; attempt++)
        {
            await channel.SendAsync(port, "s5nc doctor"u8.ToArray(), cancellationToken).ConfigureAwait(false);
            var seen = await channel.WaitAsync(e => e.Kind switch
            {
                RelayEventKind.Datagram => false,
                RelayEventKind.Notice => RelayEventText.IsAbout(e.Notice!, port),
                _ => true,
            }, timing.ReplyWait, cancellationToken).ConfigureAwait(false);
            switch (seen?.Kind)
            {
                case RelayEventKind.Notice when seen.Notice!.ErrorKind == UdpErrorKind.PortUnreachable:
                    return StageResult.Ok(DoctorStage.Datagrams,
                        $"the relay {RelayAddressCheck.Endpoint(channel.Relay)} reported {port} closed ({NoticeText.Describe(seen.Notice)}): datagrams reach the relay and leave it (replies not tested)");
                case RelayEventKind.Notice:
                    return RelayEventText.FromNotice(seen.Notice!, port);
                case RelayEventKind.SocketError:
                    return SocketErrorVerdict(channel, seen.Error);
                case RelayEventKind.Closed:
                    return ClosedVerdict();
            }
        }

        return null;
    }

    /// <summary>
    /// Sends a datagram with FRAG = 1 (RFC 1928 §7: a server that does not reassemble drops it) and
    /// listens for the notice a server that reports drops sends for it. True: the relay received it.
    /// </summary>
    private async Task<bool?> FragmentReportedAsync(CancellationToken cancellationToken)
    {
        channel.Drain();
        for (int attempt = 0; attempt < 2; attempt++)
        {
            await channel.SendAsync(fragmentTarget, "s5nc doctor fragment"u8.ToArray(), cancellationToken, fragment: 1).ConfigureAwait(false);
            var seen = await channel.WaitAsync(
                e => e.Kind != RelayEventKind.Datagram && (e.Kind != RelayEventKind.Notice || e.Notice!.Verb == NoticeVerbs.UdpDenied),
                timing.ReplyWait,
                cancellationToken).ConfigureAwait(false);
            if (seen?.Kind == RelayEventKind.Notice)
            {
                return true;
            }

            if (seen is not null)
            {
                return false;
            }
        }

        return false;
    }

    internal static StageResult SocketErrorVerdict(RelayChannel on, System.Net.Sockets.SocketError error) => StageResult.Fail(DoctorStage.Datagrams, FailureSide.Proxy,
        $"our own UDP socket got {RelayEventText.Icmp(error)} from the relay {RelayAddressCheck.Endpoint(on.Relay)}: nothing takes UDP there",
        "the relay address or port is wrong, or a firewall rejects UDP to it (Socks5UdpRelay: Relay:AdvertisedAddress, Relay:UdpPortRange)");

    internal static StageResult ClosedVerdict() => StageResult.Fail(DoctorStage.Datagrams, FailureSide.Proxy,
        "the proxy closed the control connection, which ends the association, before any answer",
        "see the proxy's log (a limit, a policy, or a crash)");

    internal sealed record RoundTrip(StageResult? Result, bool Answered, TimeSpan? Elapsed, bool Echo);
}
